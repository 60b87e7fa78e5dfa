import PortoWire

/// One `porto_daemon_*` metric read from a `TGetSystemResponse` field.
public struct DaemonMetric: @unchecked Sendable {
    public let family: MetricFamily
    /// The GetSystem field name.
    public let field: String
    public let unit: String
    let value: WritableKeyPath<Porto_TGetSystemResponse, UInt64>?
    let flag: KeyPath<Porto_TGetSystemResponse, Bool>?
    let has: KeyPath<Porto_TGetSystemResponse, Bool>
    /// The field is an uptime in seconds: exported as the start time, now minus the uptime.
    let isUptime: Bool

    init(
        family: MetricFamily, field: String, unit: String, value: WritableKeyPath<Porto_TGetSystemResponse, UInt64>?,
        flag: KeyPath<Porto_TGetSystemResponse, Bool>?, has: KeyPath<Porto_TGetSystemResponse, Bool>, isUptime: Bool = false
    ) {
        self.family = family
        self.field = field
        self.unit = unit
        self.value = value
        self.flag = flag
        self.has = has
        self.isUptime = isUptime
    }
}

/// The table of `porto_daemon_*` metrics: every field of `TGetSystemResponse`, named
/// `porto_daemon_` + field + base unit + `_total` for counters (docs/porto.md §5.1 gives the kinds).
///
/// The `*_count` gauges drop `_count` (`container_count` → `porto_daemon_containers`): promtool
/// lint reserves the suffix for histograms and summaries.
///
/// Not exported: `frozen` (never set by any portod) and `porto_crash` (never filled); the three
/// version strings go to `porto_daemon_info`. The `request_longer_*` counters are exported as
/// they are and also as the histogram `porto_daemon_request_duration_seconds`.
public enum DaemonMetrics {
    typealias R = Porto_TGetSystemResponse

    public static let all: [DaemonMetric] = [
        c("errors", \R.errors, \R.hasErrors, "Error lines portod has logged."),
        c("warnings", \R.warnings, \R.hasWarnings, "Warning lines portod has logged."),
        c("fatals", \R.fatals, \R.hasFatals, "Fatal lines portod has logged."),
        c("porto_starts", \R.portoStarts, \R.hasPortoStarts, "Times the portod server process has started since /run/portod.stat was created."),
        start("porto_uptime", \R.portoUptime, \R.hasPortoUptime, "Time the current portod server started, in seconds since the epoch.", name: "start_time"),
        start("master_uptime", \R.masterUptime, \R.hasMasterUptime, "Time the portod master process started, in seconds since the epoch.", name: "master_start_time"),
        c("taints", \R.taints, \R.hasTaints, "Taint messages portod has logged."),
        flag("verbose", \R.verbose, \R.hasVerbose, "Whether portod logs verbosely (1) or not (0)."),
        flag("debug", \R.debug, \R.hasDebug, "Whether portod logs debug messages (1) or not (0)."),
        c("log_lines", \R.logLines, \R.hasLogLines, "Lines portod has written to its log."),
        c("log_bytes", \R.logBytes, \R.hasLogBytes, "Bytes portod has written to its log.", unit: "bytes"),
        c("log_lines_lost", \R.logLinesLost, \R.hasLogLinesLost, "Log lines portod has lost."),
        c("log_bytes_lost", \R.logBytesLost, \R.hasLogBytesLost, "Log bytes portod has lost.", unit: "bytes"),
        c("log_open", \R.logOpen, \R.hasLogOpen, "Times portod has opened its log."),
        c("stream_rotate_bytes", \R.streamRotateBytes, \R.hasStreamRotateBytes, "Bytes of container stdout/stderr dropped by rotation.", unit: "bytes"),
        c("stream_rotate_errors", \R.streamRotateErrors, \R.hasStreamRotateErrors, "Errors rotating container stdout/stderr."),
        g("container_count", \R.containerCount, \R.hasContainerCount, "Containers, not counting \"/\".", name: "containers"),
        g("container_limit", \R.containerLimit, \R.hasContainerLimit, "Most containers portod allows."),
        g("container_running", \R.containerRunning, \R.hasContainerRunning, "Containers in state running (meta not included)."),
        c("container_created", \R.containerCreated, \R.hasContainerCreated, "Containers created."),
        c("container_started", \R.containerStarted, \R.hasContainerStarted, "Container starts, respawns included."),
        c("container_start_failed", \R.containerStartFailed, \R.hasContainerStartFailed, "Container starts that failed."),
        c("container_oom", \R.containerOom, \R.hasContainerOom, "OOM events portod has seen in containers."),
        c("container_buried", \R.containerBuried, \R.hasContainerBuried, "Dead containers removed automatically after their aging time."),
        c("container_lost", \R.containerLost, \R.hasContainerLost, "Containers that could not be restored after a portod restart."),
        g("container_tainted", \R.containerTainted, \R.hasContainerTainted, "Containers with taints."),
        c("postfork_issues", \R.postforkIssues, \R.hasPostforkIssues, "Problems portod met in forked helper processes."),
        g("volume_count", \R.volumeCount, \R.hasVolumeCount, "Volumes.", name: "volumes"),
        g("volume_limit", \R.volumeLimit, \R.hasVolumeLimit, "Most volumes portod allows."),
        c("volume_created", \R.volumeCreated, \R.hasVolumeCreated, "Volumes created."),
        c("volume_failed", \R.volumeFailed, \R.hasVolumeFailed, "Volumes that failed to build."),
        c("volume_lost", \R.volumeLost, \R.hasVolumeLost, "Volumes that could not be restored after a portod restart."),
        g("volume_links", \R.volumeLinks, \R.hasVolumeLinks, "Volume links."),
        c("volume_links_mounted", \R.volumeLinksMounted, \R.hasVolumeLinksMounted, "Volume link mount operations."),
        c("layer_import", \R.layerImport, \R.hasLayerImport, "Layers imported."),
        c("layer_export", \R.layerExport, \R.hasLayerExport, "Layers exported."),
        c("layer_remove", \R.layerRemove, \R.hasLayerRemove, "Layers removed."),
        g("client_count", \R.clientCount, \R.hasClientCount, "Open client connections.", name: "clients"),
        g("client_max", \R.clientMax, \R.hasClientMax, "Most client connections portod allows."),
        c("client_connected", \R.clientConnected, \R.hasClientConnected, "Client connections accepted."),
        g("request_queued", \R.requestQueued, \R.hasRequestQueued, "Requests waiting or running, the GetSystem that reads this included."),
        c("request_completed", \R.requestCompleted, \R.hasRequestCompleted, "Requests completed, not counting spec requests (ListContainersBy, CreateFromSpec, UpdateFromSpec)."),
        c("request_failed", \R.requestFailed, \R.hasRequestFailed, "Requests that failed, not counting spec requests."),
        g("request_threads", \R.requestThreads, \R.hasRequestThreads, "Threads serving write requests (the RW queue)."),
        c("request_longer_1s", \R.requestLonger1S, \R.hasRequestLonger1S, "Requests that took more than 1 second from enqueue to finish."),
        c("request_longer_3s", \R.requestLonger3S, \R.hasRequestLonger3S, "Requests that took more than 3 seconds from enqueue to finish."),
        c("request_longer_30s", \R.requestLonger30S, \R.hasRequestLonger30S, "Requests that took more than 30 seconds from enqueue to finish."),
        c("request_longer_5m", \R.requestLonger5M, \R.hasRequestLonger5M, "Requests that took more than 5 minutes from enqueue to finish."),
        g("request_top_running_time", \R.requestTopRunningTime, \R.hasRequestTopRunningTime, "Age of the longest request running now, in seconds.", unit: "seconds"),
        c("fail_system", \R.failSystem, \R.hasFailSystem, "Responses with error Unknown."),
        c("fail_invalid_value", \R.failInvalidValue, \R.hasFailInvalidValue, "Responses with error InvalidValue."),
        c("fail_invalid_command", \R.failInvalidCommand, \R.hasFailInvalidCommand, "Responses with error InvalidCommand."),
        c("fail_memory_guarantee", \R.failMemoryGuarantee, \R.hasFailMemoryGuarantee, "Memory guarantee changes rejected."),
        c("fail_invalid_netaddr", \R.failInvalidNetaddr, \R.hasFailInvalidNetaddr, "Invalid network addresses rejected."),
        g("network_count", \R.networkCount, \R.hasNetworkCount, "Network namespaces portod manages.", name: "networks"),
        c("network_created", \R.networkCreated, \R.hasNetworkCreated, "Network namespaces created."),
        c("network_problems", \R.networkProblems, \R.hasNetworkProblems, "Network problems detected."),
        c("network_repairs", \R.networkRepairs, \R.hasNetworkRepairs, "Network repairs made."),
    ]

    /// `porto_daemon_info{version,revision,kernel_version} 1`.
    public static let info = MetricFamily(
        name: "porto_daemon_info", help: "portod's version, revision and the kernel version, as labels; the value is 1.",
        type: .gauge, labelNames: ["version", "revision", "kernel_version"])

    /// Upper bounds (seconds) of `porto_daemon_request_duration_seconds`, from request_longer_*.
    public static let requestDurationBounds: [Double] = [1, 3, 30, 300]

    /// The request latency histogram derived from request_completed and request_longer_*:
    /// bucket `le=X` = request_completed - request_longer_X; `+Inf` = request_completed.
    public static let requestDuration = MetricFamily(
        name: "porto_daemon_request_duration_seconds",
        help: "portod request time from enqueue to finish, in seconds, derived from request_completed and request_longer_1s/3s/30s/5m (spec requests not included).",
        type: .histogram)

    private static func c(_ field: String, _ v: WritableKeyPath<R, UInt64>, _ has: KeyPath<R, Bool>, _ help: String, unit: String = "") -> DaemonMetric {
        let suffix = unitSuffix(field, unit)
        return DaemonMetric(
            family: MetricFamily(name: "porto_daemon_\(field)\(suffix)_total", help: help, type: .counter),
            field: field, unit: unit, value: v, flag: nil, has: has)
    }

    /// A gauge. `name` replaces the field name where the rule would end a gauge in `_count`,
    /// a suffix Prometheus reserves for histograms and summaries (promtool lint).
    private static func g(
        _ field: String, _ v: WritableKeyPath<R, UInt64>, _ has: KeyPath<R, Bool>, _ help: String, unit: String = "", name: String? = nil
    ) -> DaemonMetric {
        let suffix = unitSuffix(field, unit)
        return DaemonMetric(
            family: MetricFamily(name: "porto_daemon_\(name ?? field)\(suffix)", help: help, type: .gauge),
            field: field, unit: unit, value: v, flag: nil, has: has)
    }

    /// `_unit`, unless the field already names its unit (`log_bytes`, `log_bytes_lost`).
    private static func unitSuffix(_ field: String, _ unit: String) -> String {
        unit.isEmpty || field.split(separator: "_").contains(Substring(unit)) ? "" : "_\(unit)"
    }

    /// A start time from an uptime field: a timestamp is what Prometheus practice exports
    /// (`time() - x` is the age). Computed from whole seconds, it can wobble by a second between
    /// scrapes: alert on restarts with `porto_daemon_porto_starts_total`.
    private static func start(_ field: String, _ v: WritableKeyPath<R, UInt64>, _ has: KeyPath<R, Bool>, _ help: String, name: String) -> DaemonMetric {
        DaemonMetric(
            family: MetricFamily(name: "porto_daemon_\(name)_seconds", help: help, type: .gauge),
            field: field, unit: "seconds", value: v, flag: nil, has: has, isUptime: true)
    }

    private static func flag(_ field: String, _ v: KeyPath<R, Bool>, _ has: KeyPath<R, Bool>, _ help: String) -> DaemonMetric {
        DaemonMetric(
            family: MetricFamily(name: "porto_daemon_\(field)", help: help, type: .gauge),
            field: field, unit: "boolean", value: nil, flag: v, has: has)
    }
}
