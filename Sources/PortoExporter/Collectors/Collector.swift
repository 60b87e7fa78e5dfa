import Logging
import PortoWire
import Synchronization

/// A collector: a name (the `collector` label of the self-metrics) and one method that reads
/// from portod and writes samples. The enabled collectors are listed in ``CollectorSet``.
///
/// `collect` throws when a request fails; the samples it wrote before failing stay, and
/// `porto_exporter_collector_success{collector}` becomes 0. A value one container cannot give is
/// not a failure: that sample is skipped.
protocol Collector: Sendable {
    var name: String { get }
    /// Whether its requests cost portod little (docs/porto.md §7): it runs before the others,
    /// each request bounded by a share of the collection's time (``CollectorSet/collect(into:deadline:)``).
    var isCheap: Bool { get }
    func collect(_ context: CollectContext, into writer: ExpositionWriter) throws(PortoError)
}

extension Collector {
    var isCheap: Bool { true }
}

/// What a collector gets for one collection: the transport, the deadline, per-connection state,
/// and the log its failures go to (``PortodLog``).
struct CollectContext {
    let transport: any PortoTransport
    let deadline: ContinuousClock.Instant
    let now: @Sendable () -> ContinuousClock.Instant
    let connection: ConnectionState
    let recorder: CallRecorder
    let log: PortodLog
    let counters: PortodRequestCounters
    /// The collector whose requests these are (the `collector` of log lines).
    var collector = ""
    /// The longest a request may take (a cheap collector's share), besides the deadline.
    var requestLimit: Duration?

    /// Sends one request with the time left before the deadline as its timeout. Throws
    /// `.timeout` without sending when the deadline has passed, and `.porto` for an envelope error.
    ///
    /// - Parameter fallsBack: the caller reads the same figures another way when portod answers
    ///   `InvalidMethod` (an older portod, docs/porto.md §8): that answer is then not a failure.
    func call(_ request: Porto_TPortoRequest, fallsBack: Bool = false) throws(PortoError) -> Porto_TPortoResponse {
        try send(request, fallsBack: fallsBack) { timeout throws(PortoError) in
            let response = try transport.call(request, timeout: timeout)
            if response.error != .success {
                throw PortoError.porto(response.error, message: response.errorMsg)
            }
            return response
        }
    }

    /// Like ``call(_:)``, but returns the response's bytes undecoded, its envelope checked
    /// (``ResponseEnvelope``): for answers decoded piece by piece.
    func callRaw(_ request: Porto_TPortoRequest, fallsBack: Bool = false) throws(PortoError) -> [UInt8] {
        try send(request, fallsBack: fallsBack) { timeout throws(PortoError) in
            let bytes = try transport.callRaw(request, timeout: timeout)
            try ResponseEnvelope(bytes).check(method: request.methodName)
            return bytes
        }
    }

    /// The deadline check and the bookkeeping shared by ``call(_:fallsBack:)`` and
    /// ``callRaw(_:fallsBack:)``: an answer (an envelope error included) counts as portod
    /// answering; a socket, timeout or decode error forgets the per-connection decisions and is
    /// recorded for `porto_up`; every failure is logged (``PortodLog``).
    private func send<T>(_ request: Porto_TPortoRequest, fallsBack: Bool,
                         _ exchange: (Duration) throws(PortoError) -> T) throws(PortoError) -> T {
        let method = request.methodName
        let started = now()
        let remaining = deadline - started
        if remaining <= .zero {
            let error = PortoError.timeout("\(method) not sent: the scrape's deadline had passed")
            log.failed(collector: collector, method: method, error: error, waited: nil)
            throw error
        }
        counters.sent(method)
        do throws(PortoError) {
            let result = try exchange(requestLimit.map { min($0, remaining) } ?? remaining)
            recorder.answered()
            log.succeeded(collector: collector, method: method)
            return result
        } catch {
            switch error {
            case .porto(.invalidMethod, _) where fallsBack:
                recorder.answered()
                throw error
            case .porto: recorder.answered()
            case .socket, .timeout, .decode:
                connection.connectionLost()
                recorder.failed(error)
            }
            counters.failed(method, reason: error.reason)
            log.failed(collector: collector, method: method, error: error, waited: now() - started)
            throw error
        }
    }

    /// Logs `message` once per connection (``PortodLog/note(_:_:level:metadata:connection:generation:)``).
    func note(_ id: String, _ message: Logger.Message, level: Logger.Level = .info, metadata: Logger.Metadata = [:]) {
        log.note(id, message, level: level, metadata: metadata, connection: connection, generation: transport.connectionGeneration)
    }
}

extension CollectContext {
    /// Records a decode error found while reading an answer of `method` that ``callRaw(_:fallsBack:)``
    /// returned: as for an answer the client could not decode, the per-connection decisions are
    /// forgotten, and the failure is logged.
    func answerUndecodable(_ error: PortoError, method: String) {
        connection.connectionLost()
        recorder.failed(error)
        counters.failed(method, reason: error.reason)
        log.failed(collector: collector, method: method, error: error, waited: nil)
    }
}

/// Counts, for one collection, whether portod answered at all (for `porto_up`).
final class CallRecorder: Sendable {
    private struct State {
        var answers = 0
        var lastFailure: PortoError?
    }

    private let state = Mutex(State())

    func answered() { state.withLock { $0.answers += 1 } }
    func failed(_ error: PortoError) { state.withLock { $0.lastFailure = error } }
    var answeredCount: Int { state.withLock { $0.answers } }
    var connectionFailure: PortoError? { state.withLock { $0.lastFailure } }
}
