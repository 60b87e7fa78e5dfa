import FoundationEssentials
import PortoWire
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The exporter's own metrics that do not come from portod: build information, the latency of
/// its own Porto RPCs (fed by `PortoClient`'s `CallObserver`), and the process metrics that
/// Prometheus client libraries export (read from /proc at scrape time).
///
/// `porto_up` and `porto_exporter_collector_*` belong to the collection layer, which knows what
/// each collector did.
public final class SelfMetrics: Sendable {
    public static let buildInfo = MetricFamily(
        name: "porto_exporter_build_info",
        help: "A metric with a constant 1 value labelled by the exporter's version, the git revision it was built from and the Swift compiler version.",
        type: .gauge, labelNames: ["version", "revision", "swift_version"])
    public static let requestDuration = MetricFamily(
        name: "porto_exporter_request_duration_seconds",
        help: "Time taken by the exporter's own Porto RPCs, in seconds, by RPC method (errors included).",
        type: .histogram, labelNames: ["method"])
    public static let cpuSeconds = MetricFamily(
        name: "process_cpu_seconds_total", help: "Total user and system CPU time spent in seconds.", type: .counter)
    public static let residentMemory = MetricFamily(
        name: "process_resident_memory_bytes", help: "Resident memory size in bytes.", type: .gauge)
    public static let virtualMemory = MetricFamily(
        name: "process_virtual_memory_bytes", help: "Virtual memory size in bytes.", type: .gauge)
    public static let openFDs = MetricFamily(
        name: "process_open_fds", help: "Number of open file descriptors.", type: .gauge)
    public static let maxFDs = MetricFamily(
        name: "process_max_fds", help: "Maximum number of open file descriptors.", type: .gauge)
    public static let startTime = MetricFamily(
        name: "process_start_time_seconds", help: "Start time of the process since unix epoch in seconds.", type: .gauge)

    /// Buckets for Porto RPCs: a local socket answers in well under a millisecond when idle, and
    /// ListContainersBy over thousands of containers takes a second or more.
    public static let requestBuckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    private let buildLabels: Labels
    /// RPC latency by method.
    private let histograms = Mutex<[String: Histogram]>([:])
    private let exporterMetricsEnabled: Bool

    /// - Parameter exporterMetrics: false for `--web.disable-exporter-metrics`: then only
    ///   build info is written (the process metrics and RPC latency are left out).
    public init(version: String = BuildInfo.version, revision: String = BuildInfo.revision, exporterMetrics: Bool = true) {
        buildLabels = Labels(["version": version, "revision": revision, "swift_version": BuildInfo.swiftVersion])
        exporterMetricsEnabled = exporterMetrics
    }

    /// The `PortoClient` observer that records every RPC's latency.
    public var observer: PortoClient.CallObserver {
        { [weak self] method, seconds, _ in self?.observe(method: method, seconds: seconds) }
    }

    /// Records one Porto RPC (wire it to `PortoClient`'s `CallObserver`).
    public func observe(method: String, seconds: Double) {
        histograms.withLock {
            $0[method, default: Histogram(upperBounds: Self.requestBuckets)].observe(seconds)
        }
    }

    /// Writes every self-metric into `writer`.
    public func write(to writer: ExpositionWriter) {
        writer.gauge(Self.buildInfo, labels: buildLabels, value: .uint(1))
        guard exporterMetricsEnabled else { return }
        let snapshot = histograms.withLock { $0 }
        for method in snapshot.keys.sorted() {
            writer.histogram(Self.requestDuration, labels: Labels(["method": method]), snapshot[method]!)
        }
        let process = ProcessStats.read()
        if let cpu = process.cpuSeconds { writer.counter(Self.cpuSeconds, value: .double(cpu)) }
        if let rss = process.residentBytes { writer.gauge(Self.residentMemory, value: .uint(rss)) }
        if let vsize = process.virtualBytes { writer.gauge(Self.virtualMemory, value: .uint(vsize)) }
        if let fds = process.openFDs { writer.gauge(Self.openFDs, value: .uint(fds)) }
        if let max = process.maxFDs { writer.gauge(Self.maxFDs, value: .uint(max)) }
        if let start = process.startTimeSeconds { writer.gauge(Self.startTime, value: .double(start)) }
    }
}

/// What /proc says about this process. A field is nil when it could not be read (no /proc).
struct ProcessStats {
    var cpuSeconds: Double?
    var residentBytes: UInt64?
    var virtualBytes: UInt64?
    var openFDs: UInt64?
    var maxFDs: UInt64?
    var startTimeSeconds: Double?

    static func read() -> ProcessStats {
        var stats = ProcessStats()
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = UInt64(sysconf(Int32(_SC_PAGESIZE)))
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            // Fields after "(comm)": state is field 3; utime 14, stime 15, starttime 22, vsize 23, rss 24.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            func field(_ n: Int) -> UInt64? { fields.count > n - 3 ? UInt64(fields[n - 3]) : nil }
            if let utime = field(14), let stime = field(15), ticks > 0 { stats.cpuSeconds = Double(utime + stime) / ticks }
            stats.virtualBytes = field(23)
            if let rss = field(24) { stats.residentBytes = rss * pageSize }
            if let start = field(22), ticks > 0, let boot = bootTime { stats.startTimeSeconds = Double(boot) + Double(start) / ticks }
        }
        if let directory = opendir("/proc/self/fd") {
            // Every entry but "." and "..", the directory's own descriptor included (as
            // FileManager.contentsOfDirectory counted it).
            var count: UInt64 = 0
            while let entry = readdir(directory) {
                let isDot = withUnsafeBytes(of: entry.pointee.d_name) { $0[0] == 0x2E && ($0[1] == 0 || ($0[1] == 0x2E && $0[2] == 0)) }
                if !isDot { count += 1 }
            }
            closedir(directory)
            stats.openFDs = count
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 { stats.maxFDs = UInt64(limit.rlim_cur) }
        return stats
    }

    /// The boot time does not change: read once (it was a /proc/stat read per scrape).
    private static let bootTime: UInt64? = readBootTime()

    private static func readBootTime() -> UInt64? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return UInt64(line.dropFirst(6).trimmingSpaces())
        }
        return nil
    }
}

/// The exporter's version, revision and compiler, for `--version` and `porto_exporter_build_info`.
public enum BuildInfo {
    public static let version = "0.1.0"
    /// The git revision, when the build passes it (`PORTO_EXPORTER_REVISION` at run time is a
    /// fallback for packaging that cannot rebuild); "unknown" otherwise.
    public static let revision = getenv("PORTO_EXPORTER_REVISION").map { String(cString: $0) } ?? "unknown"
    public static let swiftVersion: String = {
        #if compiler(>=6.4)
        "6.4"
        #elseif compiler(>=6.3)
        "6.3"
        #elseif compiler(>=6.2)
        "6.2"
        #elseif compiler(>=6.1)
        "6.1"
        #else
        "6.0"
        #endif
    }()
}
