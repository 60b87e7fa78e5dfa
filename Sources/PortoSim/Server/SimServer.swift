import Foundation
import PortoWire
#if canImport(Glibc)
import Glibc
#endif

/// Serves a simulated host over Porto's wire protocol on a unix socket, like portod.
///
/// - Several clients at once, each on its own thread; one request at a time per connection: a
///   request is read whole, answered, and only then is the next one read, so replies come back in
///   order (docs/porto.md §1.3).
/// - A request over 32 MiB, a malformed length prefix, bad protobuf, or a request the host answers
///   with nil closes the connection with no reply (docs/porto.md §1.2).
/// - Encoded replies are cached per host generation (``ResponseCache``), so repeated identical
///   requests cost a dictionary lookup and a write. With ``RefreshOptions`` enabled (porto-sim
///   does), a background thread rebuilds the answers asked for lately whenever the generation
///   changes, so only the first request of its kind waits for its answer to be built; while a
///   refresh after a clock tick is being built, requests get the previous second's answer (at
///   most one tick old, for at most the time of the refresh; never after an event).
/// - Every request read is counted per method (``requestCounts``), and with `statsFile` the
///   counts (and the cache's) are written as JSON (``statsJSON()``) before each reply is sent, so
///   a client that got its reply can already read them.
/// - ``FaultOptions`` make it misbehave for tests; ``restart()`` acts like a portod reload.
public final class SimServer: @unchecked Sendable {
    /// The socket path clients connect to.
    public let socketPath: String
    /// The file ``statsJSON()`` is written to after every request, if any.
    public let statsFile: String?

    private let host: any SimResponder
    private let cache = ResponseCache()
    /// The refresh options in force.
    public let refreshOptions: RefreshOptions
    private var refresher: Refresher?
    private let lock = NSLock()
    private var currentFaults: FaultOptions
    private var counts: [String: Int] = [:]
    private var costs: [String: UInt64] = [:]
    private var accepted = 0
    private var openCount = 0
    private let statsLock = NSLock()
    private var listener: SocketListener!

    private init(socketPath: String, host: any SimResponder, faults: FaultOptions, statsFile: String?, refresh: RefreshOptions) {
        self.socketPath = socketPath
        self.host = host
        self.currentFaults = faults
        self.statsFile = statsFile
        self.refreshOptions = refresh
    }

    /// Starts serving `host` on `socketPath` (mode 0666; a stale socket file is replaced, the
    /// parent directory must exist).
    ///
    /// - Parameter statsFile: when set, the request counts are written there as JSON, atomically
    ///   (``writeStatsFile()``), once at start and before each reply.
    /// - Parameter refresh: whether answers are rebuilt in the background as the clock ticks
    ///   (``RefreshOptions``); off by default.
    /// - Throws: ``SocketSetupError`` when the socket cannot be created.
    public static func start(
        socketPath: String, host: some SimResponder, faults: FaultOptions = .none, statsFile: String? = nil,
        refresh: RefreshOptions = .off
    ) throws(SocketSetupError) -> SimServer {
        let server = SimServer(socketPath: socketPath, host: host, faults: faults, statsFile: statsFile, refresh: refresh)
        server.listener = try SocketListener(path: socketPath) { [server] fd in server.serve(fd) }
        if refresh.enabled {
            let refresher = Refresher(options: refresh, host: host, cache: server.cache)
            server.refresher = refresher
            refresher.start()
        }
        server.writeStatsFile()
        return server
    }

    // MARK: - Counts and faults

    /// The requests read so far, per method (``Porto_TPortoRequest/methodName``; `"None"` for a
    /// request with no method). Requests that could not be parsed are not counted.
    public var requestCounts: [String: Int] {
        lock.withLock { counts }
    }

    /// The CPU the requests read so far would have cost portod, per method, in nanoseconds
    /// (``SimResponder/modelledCost(of:)``).
    public var modelledCosts: [String: UInt64] {
        lock.withLock { costs }
    }

    /// The connections accepted so far.
    public var connectionCount: Int {
        lock.withLock { accepted }
    }

    /// The number of connections open right now.
    public var openConnections: Int {
        lock.withLock { openCount }
    }

    /// How many replies came from the response cache, and how many had to be built.
    public var cacheStatistics: (hits: Int, misses: Int) {
        let s = cache.statistics
        return (s.hits, s.misses)
    }

    /// How many cache hits were the previous second's answer served during a refresh.
    public var staleHits: Int {
        cache.statistics.stale
    }

    /// How many generations the refresher has refreshed, and how many answers it built for them
    /// (zeros without a refresher).
    public var refreshStatistics: (refreshes: Int, answers: Int) {
        refresher?.statistics ?? (0, 0)
    }

    /// The host generation the refresher last finished refreshing (nil before its first refresh,
    /// or without a refresher). Answers asked for lately are in the cache for it.
    public var refreshedGeneration: UInt64? {
        refresher?.refreshedGeneration
    }

    /// The faults in force.
    public var faults: FaultOptions {
        lock.withLock { currentFaults }
    }

    /// Changes the faults; requests read from now on see the new ones.
    public func setFaults(_ faults: FaultOptions) {
        lock.withLock { currentFaults = faults }
    }

    /// The counts as one line of JSON with sorted keys: requests per method and in total,
    /// connections accepted, the response cache (``cacheStatistics``, ``staleHits``) and the
    /// refresher (``refreshStatistics``), and portod's modelled CPU per method in nanoseconds
    /// (``modelledCosts``):
    /// `{"cache":{"hits":4,"misses":2,"stale":0},"connections":2,"portod_cpu_ns_modelled":{"GetSystem":270000,`
    /// `"ListContainersBy":...},"refresh":{"answers":0,"refreshes":0},"requests":{"GetSystem":3,"ListContainersBy":3},"total":6}`.
    ///
    /// Written by hand, not by JSONSerialization: it is written before every reply (``statsFile``),
    /// and JSONSerialization (boxing, and sorting keys through ICU collation) cost more than the
    /// answer to a ListContainersBy of 100 containers. The bytes are the ones JSONSerialization
    /// writes with `.sortedKeys` (SimServerTests compares them).
    public func statsJSON() -> String {
        let (requests, connections, modelled) = lock.withLock { (counts, accepted, costs) }
        let cache = self.cache.statistics
        let refresh = refreshStatistics
        // Method names are identifiers (Porto_TPortoRequest.methodName): nothing to escape.
        // JSONSerialization's .sortedKeys order: case-insensitive, then by code point.
        func sorted<V>(_ d: [String: V]) -> [(key: String, value: V)] {
            d.sorted {
                let (a, b) = ($0.key.lowercased(), $1.key.lowercased())
                return a != b ? a < b : $0.key < $1.key
            }
        }
        let methods = sorted(requests)
        var json = "{\"cache\":{\"hits\":\(cache.hits),\"misses\":\(cache.misses),\"stale\":\(cache.stale)},"
        json += "\"connections\":\(connections),"
        json += "\"portod_cpu_ns_modelled\":{"
        json += sorted(modelled).map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",")
        json += "},"
        json += "\"refresh\":{\"answers\":\(refresh.answers),\"refreshes\":\(refresh.refreshes)},"
        json += "\"requests\":{"
        json += methods.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",")
        json += "},\"total\":\(requests.values.reduce(0, +))}"
        return json
    }

    /// Writes ``statsJSON()`` to ``statsFile``, if there is one, so that a reader sees the old
    /// counts or the new ones, never part of a write: the JSON is written into the temporary
    /// file beside it (``statsFile`` + `.tmp`), which then trades places with ``statsFile``
    /// (`renameat2` `RENAME_EXCHANGE`; a plain rename for the first write, or where the exchange
    /// is not available). The temporary file then holds the previous counts, and the next write
    /// overwrites it in place: a reader that opens the file and reads it at once sees one whole
    /// write; one that keeps it open across two more requests may not.
    ///
    /// It is written before every reply, so it must cost little beside an answer: a new file
    /// renamed over the old one (`Data.write(options: .atomic)`, which also fsyncs) made ext4
    /// create an inode, flush its data and free (discard) the old one's blocks at every request,
    /// several times the CPU of answering a ListContainersBy of 100 containers (BENCHMARKS.md,
    /// porto-sim). The temporary file is removed by ``stop()``.
    public func writeStatsFile() {
        guard let statsFile else { return }
        statsLock.withLock {
            let bytes = Array((statsJSON() + "\n").utf8)
            let temporary = statsFile + ".tmp"
            let fd = open(temporary, O_WRONLY | O_CREAT | O_CLOEXEC, 0o666)
            guard fd >= 0 else { return }
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + offset, $0.count - offset, off_t(offset)) }
                if n > 0 {
                    offset += n
                } else if !(n < 0 && errno == EINTR) {
                    break
                }
            }
            // What the file held before (two writes ago) is no longer than this, but in case.
            if offset == bytes.count && lseek(fd, 0, SEEK_END) > off_t(offset) { ftruncate(fd, off_t(offset)) }
            close(fd)
            guard offset == bytes.count else { return }
            if let exchange = Self.renameat2, exchange(AT_FDCWD, temporary, AT_FDCWD, statsFile, Self.renameExchange) == 0 {
                return
            }
            rename(temporary, statsFile)
        }
    }

    /// glibc's `renameat2`, which Swift's Glibc module does not export (a GNU extension); nil
    /// when the C library has none.
    private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>?, Int32, UnsafePointer<CChar>?, UInt32) -> Int32
    private static let renameat2: RenameAt2? = dlsym(nil, "renameat2").map { unsafeBitCast($0, to: RenameAt2.self) }
    /// RENAME_EXCHANGE (linux/fs.h): both paths must exist; they trade places atomically.
    private static let renameExchange: UInt32 = 1 << 1

    // MARK: - Life cycle

    /// Acts like a portod reload (docs/porto.md §1.7): the host restarts (`porto_starts` + 1, uptime 0),
    /// then every open connection is closed, so its client sees EOF; the socket keeps accepting.
    public func restart() {
        host.inject(.restart)
        cache.removeAll()
        listener.shutdownConnections()
    }

    /// Stops serving: the socket file is removed and every connection closed; returns once their
    /// threads are done (at most a few seconds). Idempotent.
    public func stop() {
        refresher?.stop()
        listener.stop()
        if let statsFile { statsLock.withLock { _ = unlink(statsFile + ".tmp") } }
    }

    /// Carries out one control command and returns its one-line answer: `ok`, the stats JSON, or
    /// `error: MESSAGE`.
    public func perform(_ command: ControlCommand) -> String {
        switch command {
        case .fault(let faults):
            setFaults(faults)
        case .event(.restart):
            restart()
        case .event(let event):
            guard host.inject(event) else {
                return "error: \(Self.describe(event)) did not happen: no such container, or not possible in its state"
            }
            cache.removeAll()
        case .stats:
            return statsJSON()
        }
        return "ok"
    }

    private static func describe(_ event: SimEvent) -> String {
        switch event {
        case .oomKill(let name): return "oom \(name)"
        case .oomExit(let name): return "oom-exit \(name)"
        case .failStart(let name): return "fail-start \(name)"
        case .setState(let name, let state): return "state \(name) \(state.rawValue)"
        case .respawn(let name): return "respawn \(name)"
        case .restart: return "restart"
        }
    }

    /// Parses and carries out one control line (see ``ControlCommand``).
    public func perform(line: String) -> String {
        do {
            return perform(try ControlCommand(line: line))
        } catch {
            return "error: \(error.description)"
        }
    }

    // MARK: - Serving a connection

    private func serve(_ fd: Int32) {
        let open = lock.withLock {
            accepted += 1
            openCount += 1
            return openCount
        }
        host.connectionsChanged(opened: true, open: open)
        defer {
            host.connectionsChanged(opened: false, open: lock.withLock {
                openCount -= 1
                return openCount
            })
        }
        var reader = FrameReader(fd: fd)
        var answered = 0
        while let body = reader.next() {
            guard let request = try? Porto_TPortoRequest(serializedBytes: body) else { return }
            let method = request.methodName
            let cost = host.modelledCost(of: request)
            let faults = lock.withLock {
                counts[method, default: 0] += 1
                costs[method, default: 0] += cost
                return currentFaults
            }
            let faulty = faults.applies(to: method)
            // The stats file is current before a reply is sent: written once the answer was
            // looked up in the cache, or now when no answer is built (or a delay comes first).
            let buildsAnswer = !(faulty && (faults.hang || faults.oversizedPrefix || faults.garbage))
            if !buildsAnswer || (faulty && faults.delay > .zero) { writeStatsFile() }
            if faulty && faults.hang { continue }
            if faulty && faults.delay > .zero {
                guard Self.sleep(faults.delay, unlessClosed: fd) else { return }
            }
            if faulty && faults.oversizedPrefix {
                var prefix: [UInt8] = []
                Framing.appendVarint(FaultOptions.oversizedLength, to: &prefix)
                guard UnixSocket.writeAll(fd, prefix) else { return }
                continue
            }
            if faulty && faults.garbage {
                // A well-formed frame whose body is not protobuf: a truncated varint field key.
                guard UnixSocket.writeAll(fd, [8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]) else { return }
                continue
            }
            let reply = reply(to: request, body: body, faults: faults, faulty: faulty)
            writeStatsFile()
            guard let frame = reply else { return }
            if faulty && faults.cutFrame {
                var bodyLength = 0
                var prefixLength = 0
                if case .complete(let length, let prefix)? = try? Framing.decodePrefix(frame, limit: Int(UInt32.max)) {
                    bodyLength = length
                    prefixLength = prefix
                }
                UnixSocket.writeAll(fd, frame[0..<(prefixLength + bodyLength / 2)])
                return
            }
            guard UnixSocket.writeAll(fd, frame) else { return }
            answered += 1
            if let limit = faults.closeAfterRequests, answered >= limit { return }
        }
    }

    /// The reply frame for `request`, or nil when the connection must be closed without one.
    private func reply(to request: Porto_TPortoRequest, body: [UInt8], faults: FaultOptions, faulty: Bool) -> [UInt8]? {
        if (faults.failListContainersBy && request.hasListContainersBy) || (faulty && faults.fail) {
            var response = Porto_TPortoResponse()
            response.error = .unknown
            response.errorMsg = FaultOptions.injectedFailureMessage
            response.timestamp = UInt64(time(nil))
            return Self.frame(response)
        }
        if faulty && faults.noErrorField {
            guard var response = host.respond(to: request) else { return nil }
            response.clearError()
            return Self.frame(response)
        }
        // Big requests (thousands of names in a Get) are rare and costly to hash and keep.
        let cacheable = body.count <= ResponseCache.maxRequestLength && host.canCache(request)
        if cacheable {
            refresher?.noteAsked(request, body: body)
            let generation = host.generation
            let cached = cache.lookup(body, generation: generation) { [refresher, host, refreshOptions] old in
                // The previous tick's answer, while the refresher is building this one.
                refreshOptions.serveStale && host.isPreviousTick(old, of: generation) && refresher?.isRefreshing(body) == true
            }
            if let cached {
                if cached.frame != nil { host.servedFromCache(request, error: cached.error) }
                return cached.frame
            }
        }
        let answer = host.encodedAnswer(to: request, counting: true)
        let frame = answer.body.flatMap(Self.frame(body:))
        if cacheable {
            cache.store(.init(frame: frame, error: answer.error, generation: answer.generation), for: body)
        }
        return frame
    }

    private static func frame(_ response: Porto_TPortoResponse) -> [UInt8]? {
        guard let body: [UInt8] = try? response.serializedBytes() else { return nil }
        return frame(body: body)
    }

    static func frame(body: [UInt8]) -> [UInt8]? {
        try? Framing.frame(body, limit: Int(UInt32.max))
    }

    /// Linux's POLLRDHUP (a GNU extension Swift's Glibc module does not export): the peer closed,
    /// or the socket was shut down for reading. Unlike POLLIN it does not fire for new data.
    private static let pollReadHangUp: Int16 = 0x2000

    /// Sleeps for `duration`, but returns false as soon as the connection is closed by the peer or
    /// shut down by ``restart()`` / ``stop()``. Pipelined requests do not cut the sleep short.
    private static func sleep(_ duration: Duration, unlessClosed fd: Int32) -> Bool {
        let deadline = ContinuousClock.now + duration
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            if left <= .zero { return true }
            let milliseconds = Int32(clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
            var entry = pollfd(fd: fd, events: pollReadHangUp, revents: 0)
            let ready = poll(&entry, 1, milliseconds)
            if ready > 0 && entry.revents & (pollReadHangUp | Int16(POLLHUP | POLLERR)) != 0 { return false }
        }
    }
}
