import PortoWire

/// A collector: a name (the `collector` label of the self-metrics) and one method that reads
/// from portod and writes samples. The enabled collectors are listed in ``Collection``.
///
/// `collect` throws when a request fails; the samples it wrote before failing stay, and
/// `porto_exporter_collector_success{collector}` becomes 0. A value one container cannot give is
/// not a failure: that sample is skipped.
protocol Collector: Sendable {
    var name: String { get }
    func collect(_ context: CollectContext, into writer: ExpositionWriter) throws(PortoError)
}

/// What a collector gets for one collection: the transport, the deadline, per-connection state.
struct CollectContext {
    let transport: any PortoTransport
    let deadline: ContinuousClock.Instant
    let now: @Sendable () -> ContinuousClock.Instant
    let connection: ConnectionState
    let recorder: CallRecorder

    /// Sends one request with the time left before the deadline as its timeout. Throws
    /// `.timeout` without sending when the deadline has passed, and `.porto` for an envelope error.
    func call(_ request: Porto_TPortoRequest) throws(PortoError) -> Porto_TPortoResponse {
        try send(request) { timeout throws(PortoError) in
            let response = try transport.call(request, timeout: timeout)
            if response.error != .success {
                throw PortoError.porto(response.error, message: response.errorMsg)
            }
            return response
        }
    }

    /// Like ``call(_:)``, but returns the response's bytes undecoded, its envelope checked
    /// (``ResponseEnvelope``): for answers decoded piece by piece.
    func callRaw(_ request: Porto_TPortoRequest) throws(PortoError) -> [UInt8] {
        try send(request) { timeout throws(PortoError) in
            let bytes = try transport.callRaw(request, timeout: timeout)
            try ResponseEnvelope(bytes).check(method: request.methodName)
            return bytes
        }
    }

    /// The deadline check and the bookkeeping shared by ``call(_:)`` and ``callRaw(_:)``: an
    /// answer (an envelope error included) counts as portod answering; a socket, timeout or
    /// decode error forgets the per-connection decisions and is recorded for `porto_up`.
    private func send<T>(_ request: Porto_TPortoRequest,
                         _ exchange: (Duration) throws(PortoError) -> T) throws(PortoError) -> T {
        let remaining = deadline - now()
        if remaining <= .zero {
            throw PortoError.timeout("scrape deadline passed before \(request.methodName)")
        }
        do throws(PortoError) {
            let result = try exchange(remaining)
            recorder.answered()
            return result
        } catch {
            switch error {
            case .porto: recorder.answered()
            case .socket, .timeout, .decode:
                connection.connectionLost()
                recorder.failed(error)
            }
            throw error
        }
    }
}

extension CollectContext {
    /// Records a decode error found while reading an answer that ``callRaw(_:)`` returned: as for
    /// an answer the client could not decode, the per-connection decisions are forgotten.
    func answerUndecodable(_ error: PortoError) {
        connection.connectionLost()
        recorder.failed(error)
    }
}

/// Counts, for one collection, whether portod answered at all (for `porto_up`).
final class CallRecorder: @unchecked Sendable {
    private let lock = Lock()
    private var answers = 0
    private var lastFailure: PortoError?

    func answered() { lock.withLock { answers += 1 } }
    func failed(_ error: PortoError) { lock.withLock { lastFailure = error } }
    var answeredCount: Int { lock.withLock { answers } }
    var connectionFailure: PortoError? { lock.withLock { lastFailure } }
}
