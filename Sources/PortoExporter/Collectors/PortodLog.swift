import Logging
import PortoWire
import Synchronization

/// What the collection tells the log about portod, so that an operator reading it learns what
/// broke without reading metrics:
///
/// - every failed request at warn, with the collector, the method, the socket, the kind of error
///   (`socket`, `timeout`, `decode`, `porto`), the error (the Porto error name, or how the socket
///   failed), portod's message (or the client's detail) and, for a timeout, how long it waited;
/// - the first failure of a run at once; the same failure again (same collector, method and
///   reason) at most once a minute, with how many times it failed since the line before;
/// - the end of a run at info: "portod reachable again after N failed scrapes" when no request
///   had been answered, otherwise "portod request succeeds again" for that collector and method;
/// - facts about the connection (a fallback for an older portod, properties portod does not know,
///   values that could not be read) once per connection (``ConnectionState/firstTime(_:connection:)``).
///
/// Nothing is logged for a collection in which every request succeeded.
final class PortodLog: Sendable {
    let logger: Logger
    /// Where portod is reached (the transport's socket), for the log lines.
    let socket: String
    private let now: @Sendable () -> ContinuousClock.Instant
    /// The same failure is logged again at most this often.
    static let repeatInterval: Duration = .seconds(60)

    private struct Request: Hashable {
        var collector: String
        var method: String
    }
    private struct Failure: Hashable {
        var request: Request
        /// The `reason` (``PortoError/reason``).
        var reason: String
    }
    /// A failure that has been logged, until its request succeeds again.
    private struct Run {
        var lastLogged: ContinuousClock.Instant
        /// Failures since the line at `lastLogged`.
        var unlogged: Int
    }

    private struct State {
        var runs: [Failure: Run] = [:]
        /// Scrapes in a row in which a request failed, per request.
        var failedScrapes: [Request: Int] = [:]
        /// Scrapes in a row in which portod answered nothing.
        var unreachableScrapes = 0
        // The collection in progress:
        var failedNow: Set<Request> = []
        var succeededNow: Set<Request> = []
    }

    private let state = Mutex(State())

    init(logger: Logger, socket: String, now: @escaping @Sendable () -> ContinuousClock.Instant) {
        self.logger = logger
        self.socket = socket
        self.now = now
    }

    /// A request portod answered with success (or with an error the collector falls back from).
    func succeeded(collector: String, method: String) {
        state.withLock { _ = $0.succeededNow.insert(Request(collector: collector, method: method)) }
    }

    /// A request that failed; `waited` is how long it took (told for timeouts).
    func failed(collector: String, method: String, error: PortoError, waited: Duration?) {
        let request = Request(collector: collector, method: method)
        let failure = Failure(request: request, reason: error.reason)
        let at = now()
        let repeated: Int? = state.withLock { state in
            state.failedNow.insert(request)
            guard var run = state.runs[failure] else {
                state.runs[failure] = Run(lastLogged: at, unlogged: 0)
                return 0
            }
            run.unlogged += 1
            defer { state.runs[failure] = run }
            guard at - run.lastLogged >= Self.repeatInterval else { return nil }
            let count = run.unlogged
            run.lastLogged = at
            run.unlogged = 0
            return count
        }
        guard let repeated else { return }
        var metadata: Logger.Metadata = [
            "collector": "\(collector)", "method": "\(method)", "socket": "\(socket)",
            "kind": "\(error.kind)",
        ]
        switch error {
        case .porto(let code, let message):
            metadata["error"] = "\(code.portoName)"
            metadata["message"] = "\(message)"
        case .socket(let failure, let message):
            metadata["error"] = "\(failure)"
            metadata["message"] = "\(message)"
        case .timeout(let message), .decode(let message):
            metadata["message"] = "\(message)"
        }
        if case .timeout = error, let waited { metadata["waited"] = "\(Self.seconds(waited))" }
        if repeated == 0 {
            logger.warning("portod request failed", metadata: metadata)
        } else {
            metadata["repeated"] = "\(repeated)"
            metadata["failed_scrapes"] = "\(state.withLock { $0.failedScrapes[request, default: 0] } + 1)"
            logger.warning("portod request still failing", metadata: metadata)
        }
    }

    /// The end of a collection: `up` is whether portod answered anything. Logs the recoveries.
    func collectionEnded(up: Bool) {
        var lines: [(Logger.Message, Logger.Metadata)] = []
        state.withLock { state in
            defer {
                state.failedNow.removeAll(keepingCapacity: true)
                state.succeededNow.removeAll(keepingCapacity: true)
            }
            for request in state.failedNow { state.failedScrapes[request, default: 0] += 1 }
            guard up else {
                state.unreachableScrapes += 1
                return
            }
            let reachableAgain = state.unreachableScrapes > 0
            if reachableAgain {
                lines.append(("portod reachable again after \(Self.scrapes(state.unreachableScrapes))", [
                    "socket": "\(socket)", "failed_scrapes": "\(state.unreachableScrapes)",
                ]))
                state.unreachableScrapes = 0
            }
            let recovered = state.failedScrapes.keys.filter { state.succeededNow.contains($0) && !state.failedNow.contains($0) }
            for request in recovered.sorted(by: { ($0.collector, $0.method) < ($1.collector, $1.method) }) {
                let count = state.failedScrapes.removeValue(forKey: request) ?? 0
                state.runs = state.runs.filter { $0.key.request != request }
                // Back with portod as a whole: the line above says it.
                if reachableAgain { continue }
                lines.append(("portod request succeeds again after \(Self.scrapes(count))", [
                    "collector": "\(request.collector)", "method": "\(request.method)", "socket": "\(socket)",
                    "failed_scrapes": "\(count)",
                ]))
            }
        }
        for (message, metadata) in lines { logger.info(message, metadata: metadata) }
    }

    /// A fact about the connection: logged at `level` the first time it is told on a connection.
    func note(_ id: String, _ message: Logger.Message, level: Logger.Level = .info, metadata: Logger.Metadata = [:],
              connection: ConnectionState, generation: Int?) {
        guard connection.firstTime(id, connection: generation) else { return }
        var metadata = metadata
        metadata["socket"] = "\(socket)"
        logger.log(level: level, message, metadata: metadata)
    }

    /// "1 failed scrape", "2 failed scrapes".
    static func scrapes(_ n: Int) -> String { n == 1 ? "1 failed scrape" : "\(n) failed scrapes" }

    /// `d` in seconds with millisecond precision, like `1.250s`.
    static func seconds(_ d: Duration) -> String {
        let (s, atto) = d.components
        guard s >= 0, atto >= 0 else { return "0s" }
        let millis = atto / 1_000_000_000_000_000
        return "\(s).\(zeroPadded(Int(millis), 3))s"
    }
}

extension PortoError {
    /// The kind of failure: `socket`, `timeout`, `decode` or `porto`.
    var kind: String {
        switch self {
        case .socket: "socket"
        case .timeout: "timeout"
        case .decode: "decode"
        case .porto: "porto"
        }
    }

    /// The `reason` label of `porto_exporter_portod_request_failures_total`: the kind, or for an
    /// error answered by portod the Porto error name (`Unknown`, `Busy`, ...).
    var reason: String {
        if case .porto(let code, _) = self { return code.portoName }
        return kind
    }
}
