import CGnuTLS
import CMicroHTTPD
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The exporter's HTTP face: `/metrics` (or `--web.telemetry-path`), a landing page at `/`,
/// `/-/healthy` and `/-/ready`, over one libmicrohttpd daemon per listen address.
///
/// A request goes through the access handler several times (libmicrohttpd's protocol):
/// 1. headers read: per-request state is created and stored in `*req_cls`; nothing is queued
///    (queuing now would make libmicrohttpd close a keep-alive connection);
/// 2. body done: authentication, routing; a quick answer is queued at once. Whatever takes
///    longer is done elsewhere while the connection is suspended, so that libmicrohttpd's few
///    threads only ever copy bytes: a credential that is not cached is hashed by
///    ``BasicAuth``'s threads, `/-/ready` asks ``Readiness``, a scrape asks the
///    `ScrapeCoordinator`;
/// 3. when that work resumes the connection: routing goes on after authentication, or the
///    answer is queued.
/// The request-completed callback releases the state.
public final class MetricsServer: Sendable {
    public struct Configuration: Sendable {
        public var listenAddresses: [ListenAddress] = [ListenAddress(host: "", port: MetricsServer.defaultPort)]
        public var telemetryPath = "/metrics"
        /// Scrapes served at once; more get 503. 0: no limit.
        public var maxRequests = 40
        /// The scrape deadline when Prometheus does not send `X-Prometheus-Scrape-Timeout-Seconds`.
        public var defaultTimeout: Duration = .seconds(10)
        public var version = "unknown"
        public var connectionTimeoutSeconds: UInt32 = 30
        public var threads: UInt32 = 2
        public init() {}
    }

    /// The default port. The Prometheus port registry's 9100-9999 range has been fully allocated
    /// since 2023; 9658 is not taken by any exporter in common use.
    public static let defaultPort: UInt16 = 9658

    public let configuration: Configuration
    private let coordinator: ScrapeCoordinator
    private let webConfig: WebConfigStore
    private let logger: Logger
    private let auth: BasicAuth
    private let readiness: Readiness
    /// Set once, at the end of `init` (the daemons need `self` as their context).
    private let daemons = Mutex<[HTTPDaemon]>([])
    private let traffic = Traffic()

    /// The server's counts, in an object of their own: libmicrohttpd's threads hold it when they
    /// release an answer (holding the server there could make them run its deinit, and stopping
    /// a daemon from its own thread aborts).
    fileprivate final class Traffic: Sendable {
        let state = Mutex(State())

        /// libmicrohttpd has let go of a streamed answer (sent, or its client gone), and with it
        /// of whatever of its snapshot and rendering no other answer holds.
        func released() {
            let idle = state.withLock { state in
                state.openStreams -= 1
                return state.inFlightScrapes == 0 && state.openStreams == 0
            }
            // Once no scrape is left, the memory glibc keeps from them goes back to the kernel: at
            // 10,000 containers 65.6 -> 25.7 MB steady RSS for 2% CPU (BENCHMARKS.md, "Memory footprint").
            if idle { MallocArenas.trimAfterRelease() }
        }
    }

    fileprivate struct State {
        var inFlightScrapes = 0
        /// Streamed answers libmicrohttpd has not released yet (a scrape is complete for
        /// libmicrohttpd before it lets go of the answer).
        var openStreams = 0
        var activeRequests = 0
        var stopping = false
    }

    /// The ports bound, in the order of `listenAddresses` (real ports when 0 was asked for).
    public var ports: [UInt16] { daemons.withLock { $0.map(\.port) } }

    /// Scrapes admitted and not yet answered.
    public var inFlightScrapeCount: Int { traffic.state.withLock { $0.inFlightScrapes } }

    /// Starts listening on every address.
    /// - Parameters:
    ///   - portodAnswers: one cheap call to portod (Version), true when it answered: `/-/ready`
    ///     (``Readiness``). It should give up within a second.
    ///   - auth: the Basic authentication checker (tests pass one with a slow or held hasher).
    /// - Throws: `HTTPDaemon.StartError` (as `MetricsServer.Error`) when an address cannot be
    ///   bound or TLS cannot be set up; nothing is left listening then.
    public init(configuration: Configuration, webConfig: WebConfigStore, coordinator: ScrapeCoordinator,
                portodAnswers: @escaping @Sendable () -> Bool, auth: BasicAuth = BasicAuth(), logger: Logger) throws {
        self.configuration = configuration
        self.coordinator = coordinator
        self.webConfig = webConfig
        self.logger = logger
        self.auth = auth
        self.readiness = Readiness(portodAnswers: portodAnswers)
        let context = Unmanaged.passUnretained(self).toOpaque()
        let tls = webConfig.current().tls
        var settings = HTTPDaemon.Settings()
        settings.tls = tls
        settings.connectionTimeoutSeconds = configuration.connectionTimeoutSeconds
        settings.threads = configuration.threads
        settings.connectionLimit = UInt32(max(64, configuration.maxRequests * 4))
        // A daemon that started is stopped when `bound` is freed, should a later one fail.
        var bound: [HTTPDaemon] = []
        for address in configuration.listenAddresses {
            let daemon: HTTPDaemon
            do {
                daemon = try HTTPDaemon(address: address, settings: settings, context: context,
                                       handler: accessHandler, completed: requestCompleted, log: daemonLog)
            } catch {
                // ":port" means IPv6 and IPv4; on a host without IPv6, IPv4 only.
                guard address.host.isEmpty else { throw error }
                logger.warning("cannot listen on IPv6, trying IPv4 only", metadata: ["address": "\(address)"])
                daemon = try HTTPDaemon(address: ListenAddress(host: "0.0.0.0", port: address.port), settings: settings,
                                       context: context, handler: accessHandler, completed: requestCompleted, log: daemonLog)
            }
            bound.append(daemon)
            logger.info("listening", metadata: ["address": "\(ListenAddress(host: daemon.address.host, port: daemon.port))", "tls": "\(tls != nil)"])
        }
        daemons.withLock { $0 = bound }
    }

    deinit {
        for daemon in daemons.withLock({ $0 }) { daemon.stop() }
    }

    /// Graceful stop: no new connections; scrapes in flight are answered (each within its own
    /// deadline); then every daemon stops. Returns when done, or after `timeout`.
    public func shutdown(timeout: Duration = .seconds(30)) {
        traffic.state.withLock { $0.stopping = true }
        let daemons = self.daemons.withLock { $0 }
        for daemon in daemons { daemon.quiesce() }
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: timeout)
        while clock.now < end, traffic.state.withLock({ $0.activeRequests > 0 }) {
            usleep(10_000)
        }
        // libmicrohttpd forbids stopping with a suspended connection; a scrape still suspended
        // here has outlived its deadline timer, which cannot happen unless `timeout` is shorter.
        for daemon in daemons { daemon.stop() }
    }

    // MARK: - Request handling

    /// Per-request state, kept in libmicrohttpd's `*req_cls` (retained), released when the
    /// request completes.
    final class Exchange: Sendable {
        /// Locked for the whole of each access-handler call, and by whatever resumes the connection.
        let connection: ConnectionHandle
        let state = Mutex(State())
        init(connection: OpaquePointer) { self.connection = ConnectionHandle(pointer: connection) }

        struct State {
            var response: Response?
            var suspended = false
            /// Suspended until a hashing thread, a readiness call or a collection is done.
            var waiting = false
            /// The authentication's outcome once known (`.allowed` when no user is configured).
            var authorization: BasicAuth.Outcome?
            /// Routed: a scrape was started or an answer queued.
            var routed = false
            var countedScrape = false
        }
    }

    /// libmicrohttpd's handle of a connection: suspended on the handler's thread, resumed from the
    /// thread that did the work (libmicrohttpd allows it), both under the exchange's lock.
    struct ConnectionHandle: @unchecked Sendable {
        let pointer: OpaquePointer
    }

    struct Response {
        var status: UInt32
        var headers: [(String, String)] = []
        var body: [UInt8] = []
        /// When set, sent instead of `body`: rendered as libmicrohttpd sends it.
        var stream: ResponseStream? = nil
        /// The length of `stream`'s answer when known (HEAD); else it is sent chunked.
        var length: Int? = nil
    }

    fileprivate func handle(connection: OpaquePointer, url: String, method: String,
                            uploadDataSize: UnsafeMutablePointer<Int>, requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> Int32 {
        guard let stored = requestContext.pointee else {
            let exchange = Exchange(connection: connection)
            requestContext.pointee = Unmanaged.passRetained(exchange).toOpaque()
            traffic.state.withLock { $0.activeRequests += 1 }
            return CMicroHTTPD_YES
        }
        let exchange = Unmanaged<Exchange>.fromOpaque(stored).takeUnretainedValue()
        if uploadDataSize.pointee > 0 {
            uploadDataSize.pointee = 0   // bodies are not used; discard them
            return CMicroHTTPD_YES
        }
        return exchange.state.withLock { state in
            route(exchange, &state, url: url, method: method)
        }
    }

    /// The access handler's work once the headers are read, with the exchange locked.
    private func route(_ exchange: Exchange, _ state: inout Exchange.State, url: String, method: String) -> Int32 {
        let connection = exchange.connection.pointer
        if let response = state.response {
            state.response = nil   // a streamed answer is queued once
            return queue(response, on: connection)
        }
        if state.waiting || state.routed { return CMicroHTTPD_YES }   // resumed spuriously; still waiting

        if state.authorization == nil {
            let config = webConfig.current()
            if let tls = config.tls, let refusal = checkClientCertificate(connection, tls: tls) {
                state.routed = true
                return queue(refusal, on: connection)
            }
            if config.basicAuthUsers.isEmpty {
                state.authorization = .allowed
            } else if let outcome = auth.check(
                authorization: header(connection, "Authorization"), users: config.basicAuthUsers,
                generation: webConfig.generation, client: clientAddress(connection),
                completion: { [self] outcome in resume(exchange) { $0.authorization = outcome } }) {
                state.authorization = outcome
            } else {
                return suspend(exchange, &state)
            }
        }
        state.routed = true
        switch state.authorization {
        case .allowed?: break
        case .busy?:
            return queue(plain(429, "Too many authentication attempts waiting\n"), on: connection)
        default:
            return queue(Response(status: 401, headers: [("WWW-Authenticate", "Basic realm=\"porto-exporter\""), ("Content-Type", "text/plain; charset=utf-8")], body: Array("Unauthorized\n".utf8)), on: connection)
        }
        let isRead = method == "GET" || method == "HEAD"
        switch url {
        case configuration.telemetryPath:
            guard isRead else { return queue(methodNotAllowed(), on: connection) }
            return startScrape(exchange, &state, head: method == "HEAD")
        case "/":
            guard isRead else { return queue(methodNotAllowed(), on: connection) }
            return queue(landingPage(), on: connection)
        case "/-/healthy":
            guard isRead else { return queue(methodNotAllowed(), on: connection) }
            return queue(plain(200, "Healthy\n"), on: connection)
        case "/-/ready":
            guard isRead else { return queue(methodNotAllowed(), on: connection) }
            if traffic.state.withLock({ $0.stopping }) { return queue(plain(503, "Shutting down\n"), on: connection) }
            if let ready = readiness.check(completion: { [self] ready in resume(exchange) { $0.response = readyAnswer(ready) } }) {
                return queue(readyAnswer(ready), on: connection)
            }
            return suspend(exchange, &state)
        default:
            return queue(plain(404, "Not Found\n"), on: connection)
        }
    }

    /// Called with the exchange locked.
    private func startScrape(_ exchange: Exchange, _ exchangeState: inout Exchange.State, head: Bool) -> Int32 {
        let connection = exchange.connection.pointer
        enum Admission { case admitted, full, stopping }
        let admission: Admission = traffic.state.withLock { state in
            // Once shutdown has begun a scrape is refused, not suspended: shutdown stops the
            // daemons when the requests it waits for are done, and libmicrohttpd aborts the
            // process if a connection is still suspended then (a keep-alive connection can ask
            // after the wait has ended).
            if state.stopping { return .stopping }
            if configuration.maxRequests > 0 && state.inFlightScrapes >= configuration.maxRequests { return .full }
            state.inFlightScrapes += 1
            return .admitted
        }
        switch admission {
        case .admitted: break
        case .full:
            return queue(plain(503, "Too many concurrent scrapes (--web.max-requests=\(configuration.maxRequests))\n"), on: connection)
        case .stopping:
            return queue(plain(503, "Shutting down\n"), on: connection)
        }
        exchangeState.countedScrape = true
        let format = ContentNegotiation.format(accept: header(connection, "Accept"))
        let gzip = ContentNegotiation.acceptsGzip(header(connection, "Accept-Encoding"))
        let deadline = scrapeDeadline(header(connection, "X-Prometheus-Scrape-Timeout-Seconds"))
        coordinator.scrape(deadline: deadline, format: format, gzip: gzip) { [self] stream in
            // The answer is rendered when libmicrohttpd asks for it, on the connection's thread.
            // A HEAD answer has no body but says its length: read here, to count.
            let length = head ? stream.drainCount() : nil
            var headers = [("Content-Type", format.contentType), ("Vary", "Accept-Encoding")]
            if stream.isGzip { headers.append(("Content-Encoding", "gzip")) }
            resume(exchange) { $0.response = Response(status: 200, headers: headers, stream: stream, length: length) }
        }
        return suspend(exchange, &exchangeState)
    }

    /// Suspends the exchange's connection until ``resume(_:_:)``. Called with the exchange locked;
    /// whatever resumes it runs on another thread and needs the exchange lock, so it cannot resume
    /// the connection before it is suspended.
    private func suspend(_ exchange: Exchange, _ state: inout Exchange.State) -> Int32 {
        state.waiting = true
        MHD_suspend_connection(exchange.connection.pointer)
        state.suspended = true
        return CMicroHTTPD_YES
    }

    /// Records what the work done elsewhere found, and lets libmicrohttpd call the access handler
    /// again. Never called on the thread that suspended (see ``suspend(_:)``).
    private func resume(_ exchange: Exchange, _ update: (inout Exchange.State) -> Void) {
        exchange.state.withLock { state in
            update(&state)
            state.waiting = false
            if state.suspended {
                state.suspended = false
                MHD_resume_connection(exchange.connection.pointer)
            }
        }
    }

    private func readyAnswer(_ ready: Bool) -> Response {
        ready ? plain(200, "Ready\n") : plain(503, "Not ready: portod does not answer\n")
    }

    private func clientAddress(_ connection: OpaquePointer) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        guard CMicroHTTPD_client_address(connection, &buffer, buffer.count) == 0 else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The instant by which the scrape must be answered: Prometheus' own timeout less a margin
    /// (10%, at most 0.5 s) for encoding and the network, else `--porto.timeout`.
    func scrapeDeadline(_ header: String?) -> ContinuousClock.Instant {
        var timeout = configuration.defaultTimeout
        if let header, let seconds = Double(header.trimmingSpaces()), seconds.isFinite, seconds > 0 {
            let margin = min(0.5, seconds * 0.1)
            timeout = .milliseconds(Int64(min(seconds - margin, 3600) * 1000))
        }
        return ContinuousClock.now.advanced(by: timeout)
    }

    fileprivate func completed(_ requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) {
        guard let requestContext, let stored = requestContext.pointee else { return }
        requestContext.pointee = nil
        // The exchange (with an answer never queued, if its client left) is freed before the trim.
        let countedScrape = Unmanaged<Exchange>.fromOpaque(stored).takeRetainedValue().state.withLock { $0.countedScrape }
        let idle = traffic.state.withLock { state in
            state.activeRequests -= 1
            if countedScrape { state.inFlightScrapes -= 1 }
            return countedScrape && state.inFlightScrapes == 0 && state.openStreams == 0
        }
        if idle { MallocArenas.trimAfterRelease() }
    }


    private func checkClientCertificate(_ connection: OpaquePointer, tls: WebConfig.TLSConfig) -> Response? {
        let state = CGnuTLS_client_certificate(CMicroHTTPD_tls_session(connection))
        let refused: Bool
        switch tls.clientAuth {
        case .noClientCert, .requestClientCert: refused = false
        case .requireAnyClientCert: refused = state != CGnuTLS_CLIENT_CERT_INVALID && state != CGnuTLS_CLIENT_CERT_VERIFIED
        case .verifyClientCertIfGiven: refused = state == CGnuTLS_CLIENT_CERT_INVALID
        case .requireAndVerifyClientCert: refused = state != CGnuTLS_CLIENT_CERT_VERIFIED
        }
        guard refused else { return nil }
        return Response(status: 403, headers: [("Connection", "close"), ("Content-Type", "text/plain; charset=utf-8")], body: Array("Forbidden: a valid client certificate is required\n".utf8))
    }

    private func header(_ connection: OpaquePointer, _ name: String) -> String? {
        guard let value = CMicroHTTPD_request_header(connection, name) else { return nil }
        return String(cString: value)
    }

    private func queue(_ response: Response, on connection: OpaquePointer) -> Int32 {
        let created: OpaquePointer?
        if let stream = response.stream {
            traffic.state.withLock { $0.openStreams += 1 }
            let retained = Unmanaged.passRetained(StreamedAnswer(stream: stream, traffic: traffic)).toOpaque()
            let size = response.length.map { UInt64($0) } ?? CMicroHTTPD_SIZE_UNKNOWN
            created = CMicroHTTPD_response_streamed(size, Self.streamBlockSize, readResponseStream, retained, releaseResponseStream)
            if created == nil { releaseResponseStream(retained) }
        } else {
            created = response.body.withUnsafeBytes { bytes in
                CMicroHTTPD_response_copying(bytes.baseAddress, bytes.count)
            }
        }
        guard let created else { return CMicroHTTPD_NO }
        defer { MHD_destroy_response(created) }
        for (name, value) in response.headers {
            _ = MHD_add_response_header(created, name, value)
        }
        return CMicroHTTPD_queue_response(connection, response.status, created)
    }

    /// The most a streamed answer hands libmicrohttpd per call (it may ask for less: the room left
    /// in the connection's buffer).
    static let streamBlockSize = 32 * 1024

    private func plain(_ status: UInt32, _ text: String) -> Response {
        Response(status: status, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Array(text.utf8))
    }

    private func methodNotAllowed() -> Response {
        var response = plain(405, "Method Not Allowed\n")
        response.headers.append(("Allow", "GET, HEAD"))
        return response
    }

    private func landingPage() -> Response {
        let path = Self.htmlEscape(configuration.telemetryPath)
        let html = """
            <!DOCTYPE html>
            <html lang="en">
            <head><meta charset="utf-8"><title>Porto Exporter</title></head>
            <body>
            <h1>Porto Exporter</h1>
            <p>Prometheus exporter for Porto, version \(Self.htmlEscape(configuration.version)).</p>
            <ul>
            <li><a href="\(path)">Metrics</a></li>
            <li><a href="/-/healthy">Health</a></li>
            <li><a href="/-/ready">Readiness</a></li>
            </ul>
            </body>
            </html>

            """
        return Response(status: 200, headers: [("Content-Type", "text/html; charset=utf-8")], body: Array(html.utf8))
    }

    static func htmlEscape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    fileprivate func log(_ message: String) {
        logger.debug("libmicrohttpd: \(message)")
    }
}

// MARK: - C callbacks (file scope: never main-actor isolated)

// The server is used without a reference of the callbacks' own (`_withUnsafeGuaranteedRef`): it
// is alive while they run, since its deinit stops its daemons, which waits for them. A reference
// taken here could be the last one, if the owner let go meanwhile: its deinit would then run on
// libmicrohttpd's thread, and a daemon stopped from its own thread aborts ("Failed to join a
// thread").

private func accessHandler(context: UnsafeMutableRawPointer?, connection: OpaquePointer?, url: UnsafePointer<CChar>?,
                           method: UnsafePointer<CChar>?, version: UnsafePointer<CChar>?, uploadData: UnsafePointer<CChar>?,
                           uploadDataSize: UnsafeMutablePointer<Int>?, requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32 {
    guard let context, let connection, let url, let method, let uploadDataSize, let requestContext else { return CMicroHTTPD_NO }
    return Unmanaged<MetricsServer>.fromOpaque(context)._withUnsafeGuaranteedRef { server in
        server.handle(connection: connection, url: String(cString: url), method: String(cString: method),
                      uploadDataSize: uploadDataSize, requestContext: requestContext)
    }
}

private func requestCompleted(context: UnsafeMutableRawPointer?, connection: OpaquePointer?,
                              requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?, code: MHD_RequestTerminationCode) {
    guard let context else { return }
    Unmanaged<MetricsServer>.fromOpaque(context)._withUnsafeGuaranteedRef { $0.completed(requestContext) }
}

/// What libmicrohttpd holds of a streamed answer: the stream, and the counts to update when it
/// lets go of it.
private final class StreamedAnswer {
    let stream: ResponseStream
    let traffic: MetricsServer.Traffic
    init(stream: ResponseStream, traffic: MetricsServer.Traffic) {
        self.stream = stream
        self.traffic = traffic
    }
}

private func readResponseStream(_ context: UnsafeMutableRawPointer?, position: UInt64, buffer: UnsafeMutablePointer<CChar>?, max: Int) -> Int {
    guard let context, let buffer else { return CMicroHTTPD_READER_END_WITH_ERROR }
    let answer = Unmanaged<StreamedAnswer>.fromOpaque(context).takeUnretainedValue()
    guard let n = answer.stream.read(into: UnsafeMutableRawPointer(buffer), max: max) else { return CMicroHTTPD_READER_END_WITH_ERROR }
    return n == 0 ? CMicroHTTPD_READER_END_OF_STREAM : n
}

private func releaseResponseStream(_ context: UnsafeMutableRawPointer?) {
    guard let context else { return }
    let traffic: MetricsServer.Traffic
    do {
        let answer = Unmanaged<StreamedAnswer>.fromOpaque(context).takeRetainedValue()
        traffic = answer.traffic
    }   // the stream is freed here, before the counts are updated
    traffic.released()
}

private func daemonLog(context: UnsafeMutableRawPointer?, message: UnsafePointer<CChar>?) {
    guard let context, let message else { return }
    Unmanaged<MetricsServer>.fromOpaque(context)._withUnsafeGuaranteedRef { $0.log(String(cString: message)) }
}
