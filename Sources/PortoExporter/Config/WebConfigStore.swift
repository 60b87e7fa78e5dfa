import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The current web configuration, re-read when its file changes.
///
/// Every request calls `current()`, which costs one `stat(2)` (at most once per
/// `checkInterval`): the file is re-read only when its inode, size, modification or change time
/// differ from the last look, so an edit in place, a `mv` over it and a Kubernetes ConfigMap
/// symlink swap are all seen. A change that does not parse keeps the last good configuration and
/// logs why, once per distinct change.
///
/// TLS is set up when the HTTP daemon starts and libmicrohttpd cannot change it on a running
/// daemon: a changed `tls_server_config` is logged and takes effect at the next start. Basic auth
/// users take effect at once.
public final class WebConfigStore: Sendable {
    public let path: String?
    private let logger: Logger
    private let checkInterval: Duration
    private let state: Mutex<State>

    private struct State {
        var config: WebConfig
        var fingerprint: Fingerprint
        var rejectedFingerprint: Fingerprint?
        var lastCheck: ContinuousClock.Instant
        var generation: UInt64 = 0
    }

    struct Fingerprint: Equatable {
        var device: UInt64, inode: UInt64, size: Int64
        var mtime: timespec, ctime: timespec
        /// What a missing or unreadable file looks like.
        static let missing = Fingerprint(device: 0, inode: 0, size: -1, mtime: timespec(), ctime: timespec())
        static func == (a: Self, b: Self) -> Bool {
            a.device == b.device && a.inode == b.inode && a.size == b.size
                && a.mtime.tv_sec == b.mtime.tv_sec && a.mtime.tv_nsec == b.mtime.tv_nsec
                && a.ctime.tv_sec == b.ctime.tv_sec && a.ctime.tv_nsec == b.ctime.tv_nsec
        }
    }

    /// Loads the file once; without a path the configuration is empty (plain HTTP, no auth).
    /// - Throws: `WebConfig.LoadError` when the file is missing or invalid: start-up must stop.
    public init(path: String?, logger: Logger, checkInterval: Duration = .zero) throws(WebConfig.LoadError) {
        self.path = path
        self.logger = logger
        self.checkInterval = checkInterval
        let fingerprint = path.map(Self.fingerprint) ?? .missing
        let config = try path.map { (p) throws(WebConfig.LoadError) in try WebConfig.load(path: p) } ?? WebConfig()
        state = Mutex(State(config: config, fingerprint: fingerprint, lastCheck: .now))
    }

    /// The configuration in force now: the file is checked for a change first.
    public func current() -> WebConfig {
        guard let path else { return state.withLock { $0.config } }
        return state.withLock { state in
            let now = ContinuousClock.now
            if checkInterval > .zero, state.lastCheck.duration(to: now) < checkInterval { return state.config }
            state.lastCheck = now
            let seen = Self.fingerprint(path)
            guard seen != state.fingerprint, seen != state.rejectedFingerprint else { return state.config }
            do throws(WebConfig.LoadError) {
                let loaded = try WebConfig.load(path: path)
                if loaded.tls != state.config.tls {
                    logger.warning("web config changed its TLS settings; they take effect when the exporter restarts", metadata: ["file": "\(path)"])
                }
                let tls = state.config.tls
                state.config = loaded
                state.config.tls = tls   // what the running daemon actually serves
                state.fingerprint = seen
                state.rejectedFingerprint = nil
                state.generation &+= 1
                logger.info("web config reloaded", metadata: ["file": "\(path)", "basic_auth_users": "\(loaded.basicAuthUsers.count)"])
            } catch {
                logger.error("web config change rejected, keeping the last good configuration", metadata: ["file": "\(path)", "err": "\(error.message)"])
                state.rejectedFingerprint = seen
            }
            return state.config
        }
    }

    /// Changes each time a new configuration is taken (caches keyed on the users use it).
    public var generation: UInt64 { state.withLock { $0.generation } }

    private static func fingerprint(_ path: String) -> Fingerprint {
        var st = stat()
        guard stat(path, &st) == 0 else { return .missing }
        return Fingerprint(device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size), mtime: st.st_mtim, ctime: st.st_ctim)
    }
}
