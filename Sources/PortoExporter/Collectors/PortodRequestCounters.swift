import Synchronization

/// `porto_exporter_portod_requests_total{method}` and
/// `porto_exporter_portod_request_failures_total{method, reason}`: the requests the collectors
/// sent to portod since the exporter started, and those that failed (``PortoError/reason``). A
/// request not sent because the scrape's deadline had passed is neither; an `InvalidMethod` that
/// a collector falls back from is a request, not a failure.
final class PortodRequestCounters: Sendable {
    private struct Failure: Hashable {
        var method: String
        var reason: String
    }

    private struct Counts {
        var requests: [String: UInt64] = [:]
        var failures: [Failure: UInt64] = [:]
    }

    private let counts = Mutex(Counts())

    func sent(_ method: String) {
        counts.withLock { $0.requests[method, default: 0] += 1 }
    }

    func failed(_ method: String, reason: String) {
        counts.withLock { $0.failures[Failure(method: method, reason: reason), default: 0] += 1 }
    }

    /// Writes both families, series sorted by their labels.
    func write(into writer: ExpositionWriter) {
        let (requests, failures) = counts.withLock { ($0.requests, $0.failures) }
        for (method, count) in requests.sorted(by: { $0.key < $1.key }) {
            writer.counter(ExporterMetrics.portodRequests, labels: Labels(["method": method]), value: .uint(count))
        }
        for (failure, count) in failures.sorted(by: { ($0.key.method, $0.key.reason) < ($1.key.method, $1.key.reason) }) {
            writer.counter(ExporterMetrics.portodRequestFailures,
                           labels: Labels(["method": failure.method, "reason": failure.reason]), value: .uint(count))
        }
    }
}
