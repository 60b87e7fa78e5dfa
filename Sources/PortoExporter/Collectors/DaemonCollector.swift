import PortoWire
#if canImport(Glibc)
import Glibc
#endif

/// portod's own figures: one `GetSystem` (docs/porto.md §5.1), written as ``DaemonMetrics``, plus
/// `porto_daemon_info` and the request latency histogram. A field the daemon does not send (an
/// older portod) drops that sample only; a portod without GetSystem (< 4.6) is read through
/// `porto_stat` (DaemonCollector+Legacy.swift).
struct DaemonCollector: Collector {
    let name = "daemon"
    /// Unix seconds now, for the start times computed from portod's uptimes.
    let wallClock: @Sendable () -> UInt64

    func collect(_ context: CollectContext, into writer: ExpositionWriter) throws(PortoError) {
        var request = Porto_TPortoRequest()
        request.getSystem = Porto_TGetSystemRequest()
        let system: Porto_TGetSystemResponse
        do throws(PortoError) {
            system = try context.call(request, fallsBack: true).getSystem
        } catch PortoError.porto(.invalidMethod, _) {
            // portod < 4.6 (docs/porto.md §8). Asked again every scrape: one refused call costs as little
            // as a Version, and a portod upgraded behind the same connection is seen at once.
            context.note("legacy-getsystem", "portod has no GetSystem (older than 4.6): reading daemon counters from porto_stat")
            system = try Self.legacySystem(context)
        }
        Self.write(system, now: wallClock(), into: writer)
    }

    static func write(_ system: Porto_TGetSystemResponse, now: UInt64, into writer: ExpositionWriter) {
        for metric in DaemonMetrics.all where system[keyPath: metric.has] {
            let value: SampleValue
            if let path = metric.value, metric.isUptime {
                let uptime = system[keyPath: path]
                value = .uint(now > uptime ? now - uptime : 0)
            } else if let path = metric.value {
                value = .uint(system[keyPath: path])
            } else if let flag = metric.flag {
                value = .bool(system[keyPath: flag])
            } else {
                continue
            }
            if metric.family.type == .counter {
                writer.counter(metric.family, value: value)
            } else {
                writer.gauge(metric.family, value: value)
            }
        }
        writer.gauge(DaemonMetrics.info, labels: Labels([
            "version": system.portoVersion, "revision": system.portoRevision, "kernel_version": system.kernelVersion,
        ]), value: .uint(1))
        if let histogram = requestDuration(system) {
            writer.histogram(DaemonMetrics.requestDuration, histogram)
        }
    }

    /// Bucket `le=X` counts requests that took at most X: request_completed - request_longer_X
    /// (saturating, since the counters are not read atomically); `+Inf` is request_completed.
    /// The sum is unknown, so `_sum` and `_count` are not written.
    static func requestDuration(_ s: Porto_TGetSystemResponse) -> Histogram? {
        guard s.hasRequestCompleted, s.hasRequestLonger1S, s.hasRequestLonger3S, s.hasRequestLonger30S, s.hasRequestLonger5M
        else { return nil }
        let total = s.requestCompleted
        let longer = [s.requestLonger1S, s.requestLonger3S, s.requestLonger30S, s.requestLonger5M]
        var counts = longer.map { total >= $0 ? total - $0 : 0 }
        for i in counts.indices.dropFirst() where counts[i] < counts[i - 1] { counts[i] = counts[i - 1] }
        return Histogram(upperBounds: DaemonMetrics.requestDurationBounds, cumulativeCounts: counts, count: total, sum: nil)
    }
}

/// The wall clock in whole Unix seconds (no Foundation in the exporter).
public enum WallClock {
    @Sendable public static func seconds() -> UInt64 {
        UInt64(max(0, time(nil)))
    }
}
