import CMicroHTTPD
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One libmicrohttpd daemon listening on one address. Owns the `MHD_Daemon` pointer and every
/// piece of C memory the daemon reads (options, bind address, PEM strings); `stop()` (or
/// `deinit`) stops the daemon before freeing them.
///
/// Threading: epoll with a small internal thread pool. Handlers never block on portod: a scrape
/// suspends its connection and is resumed when the shared collection ends (see `MetricsServer`).
final class HTTPDaemon: Sendable {
    /// The address and port actually bound (the port is the real one when 0 was asked for).
    let address: ListenAddress
    let port: UInt16
    private let state: Mutex<Resources>

    /// The daemon and the C memory it reads, freed together by `stop()`. Raw C pointers, which
    /// the compiler cannot check: libmicrohttpd's threads read them, Swift touches them under `state`.
    private struct Resources: @unchecked Sendable {
        var daemon: OpaquePointer?
        let options: UnsafeMutablePointer<CMicroHTTPD_Options>
        var allocations: [UnsafeMutableRawPointer] = []
        /// The listening socket handed back by `quiesce()`, closed once the daemon has stopped.
        var quiescedSocket: Int32 = -1

        mutating func freeAll() {
            for pointer in allocations { free(pointer) }
            allocations.removeAll()
            options.deinitialize(count: 1)
            options.deallocate()
        }

        mutating func strdupTracked(_ string: String) -> UnsafeMutablePointer<CChar> {
            let copy = strdup(string)!
            allocations.append(UnsafeMutableRawPointer(copy))
            return copy
        }
    }

    struct Settings: Sendable {
        var connectionLimit: UInt32 = 256
        var perIPConnectionLimit: UInt32 = 0
        var connectionTimeoutSeconds: UInt32 = 30
        var connectionMemoryLimit = 64 * 1024
        var threads: UInt32 = 2
        var tls: WebConfig.TLSConfig?
    }

    /// The problem that kept a daemon from starting.
    struct StartError: Error, CustomStringConvertible {
        var description: String
    }

    /// Binds and starts serving. `context` is passed to `handler` and `completed` untouched.
    init(address: ListenAddress, settings: Settings, context: UnsafeMutableRawPointer,
         handler: CMicroHTTPD_AccessHandler, completed: MHD_RequestCompletedCallback,
         log: CMicroHTTPD_LogFunction) throws(StartError) {
        self.address = address
        let options = UnsafeMutablePointer<CMicroHTTPD_Options>.allocate(capacity: 1)
        options.initialize(to: CMicroHTTPD_Options())
        var resources = Resources(options: options)
        var flags = UInt32(MHD_USE_EPOLL_INTERNAL_THREAD.rawValue) | UInt32(MHD_ALLOW_SUSPEND_RESUME.rawValue)
            | UInt32(MHD_USE_ERROR_LOG.rawValue)
        options.pointee.connection_limit = settings.connectionLimit
        options.pointee.per_ip_connection_limit = settings.perIPConnectionLimit
        options.pointee.connection_timeout_seconds = settings.connectionTimeoutSeconds
        options.pointee.connection_memory_limit = settings.connectionMemoryLimit
        options.pointee.thread_pool_size = settings.threads
        options.pointee.listen_backlog = 128
        options.pointee.handler = handler
        options.pointee.handler_context = context
        options.pointee.notify_completed = completed
        options.pointee.notify_completed_context = context
        options.pointee.log = log
        options.pointee.log_context = context

        let (storage, length, family): (UnsafeMutableRawPointer, Int, Int32)
        do {
            (storage, length, family) = try Self.socketAddress(address)
        } catch {
            options.deallocate()
            throw error
        }
        resources.allocations.append(storage)
        options.pointee.bind_address = UnsafePointer(storage.assumingMemoryBound(to: sockaddr.self))
        _ = length
        if family == AF_INET6 {
            flags |= UInt32(MHD_USE_IPv6.rawValue)
            if address.host.isEmpty { flags |= UInt32(MHD_USE_DUAL_STACK.rawValue) }
        }
        if let tls = settings.tls {
            flags |= UInt32(MHD_USE_TLS.rawValue)
            options.pointee.https_mem_cert = UnsafePointer(resources.strdupTracked(tls.certificatePEM))
            options.pointee.https_mem_key = UnsafePointer(resources.strdupTracked(tls.keyPEM))
            if let ca = tls.clientCAPEM { options.pointee.https_mem_trust = UnsafePointer(resources.strdupTracked(ca)) }
            options.pointee.https_priorities = UnsafePointer(resources.strdupTracked(tls.gnutlsPriorities))
        }
        guard let started = CMicroHTTPD_start_daemon(flags, address.port, options) else {
            resources.freeAll()
            throw StartError(description: "cannot listen on \(address) (address in use, not available here, or a bad TLS certificate/key)")
        }
        resources.daemon = started
        port = CMicroHTTPD_bound_port(started)
        state = Mutex(resources)
    }

    deinit { stop() }

    /// Stops accepting connections; those already open are served on.
    func quiesce() {
        state.withLock { resources in
            guard let daemon = resources.daemon else { return }
            // The listening socket is returned to us and must stay open until the daemon stops
            // (a polling thread may still hold it); shutting it down makes Linux refuse new
            // connections at once instead of leaving them in the backlog until the stop.
            let fd = MHD_quiesce_daemon(daemon)
            if fd >= 0 {
                resources.quiescedSocket = fd
                Glibc.shutdown(fd, Int32(SHUT_RDWR))
            }
        }
    }

    /// Open connections right now (suspended ones included).
    var connections: UInt32 { state.withLock { $0.daemon.map { CMicroHTTPD_current_connections($0) } ?? 0 } }

    /// Stops the daemon (closing every connection) and frees its memory. Idempotent. No
    /// connection may be suspended when this is called (libmicrohttpd's rule).
    func stop() {
        state.withLock { resources in
            guard let daemon = resources.daemon else { return }
            MHD_stop_daemon(daemon)
            resources.daemon = nil
            if resources.quiescedSocket >= 0 { close(resources.quiescedSocket); resources.quiescedSocket = -1 }
            resources.freeAll()
        }
    }

    /// A heap copy of the socket address for `address` (malloc'd: freed with the daemon).
    private static func socketAddress(_ address: ListenAddress) throws(StartError) -> (UnsafeMutableRawPointer, Int, Int32) {
        let storage = calloc(1, MemoryLayout<sockaddr_storage>.size)!
        if address.host.isEmpty {
            var any = sockaddr_in6()
            any.sin6_family = sa_family_t(AF_INET6)
            any.sin6_port = address.port.bigEndian
            any.sin6_addr = in6addr_any
            storage.storeBytes(of: any, as: sockaddr_in6.self)
            return (storage, MemoryLayout<sockaddr_in6>.size, AF_INET6)
        }
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(address.host, String(address.port), &hints, &result)
        guard status == 0, let first = result, let found = first.pointee.ai_addr else {
            free(storage)
            throw StartError(description: "cannot resolve listen address \(address): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(result) }
        let length = Int(first.pointee.ai_addrlen)
        memcpy(storage, found, length)
        return (storage, length, first.pointee.ai_family)
    }
}

/// A `--web.listen-address` value: `host:port`, `:port` (every interface, IPv6 and IPv4), or
/// `[v6 address]:port`.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`; nil when there is no port or it is not 0-65535.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") {
            guard host.hasSuffix("]"), host.count >= 2 else { return nil }
            host = String(host.dropFirst().dropLast())
        } else if host.contains(":") {
            return nil   // a bare IPv6 address must be bracketed
        }
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
