import PortoWire

/// The table of every container metric. Adding a metric is one entry here, one value in
/// porto-sim's model, and a regenerated golden file and METRICS.md.
///
/// Names follow one rule: `porto_container_` + the Porto property + the base unit, + `_total` for
/// counters; map keys go in `device` (io), `interface` (net) or `kind` (pressure: `some`/`full`).
/// Irregular names are explained in `notes` (and so in METRICS.md).
public enum ContainerMetrics {
    public typealias S = Porto_TContainerStatus
    public typealias P = Porto_TContainerSpec

    /// Every container state portod reports (PORTO.md 3.3); `porto_container_state` has one series
    /// per state, plus the current one if portod reports a state not listed here.
    public static let states = ["stopped", "starting", "running", "stopping", "paused", "dead", "meta", "respawning"]

    public static let all: [ContainerMetric] = cpu + memory + io + net + pressure + process + limits + state + vm

    // MARK: - cpu

    static let cpu: [ContainerMetric] = [
        nsCounter("cpu_usage", \S.cpuUsage, \S.hasCpuUsage, .cpuacct, "CPU time used by the container and its descendants (cpuacct.usage), in seconds."),
        nsCounter("cpu_usage_system", \S.cpuUsageSystem, \S.hasCpuUsageSystem, .cpuacct, "CPU time spent in the kernel by the container and its descendants, in seconds (10 ms steps)."),
        nsCounter("cpu_wait", \S.cpuWait, \S.hasCpuWait, .cpuacct, "Time the container's tasks waited for a CPU, in seconds (offstream kernels only)."),
        nsCounter("cpu_throttled", \S.cpuThrottled, \S.hasCpuThrottled, .cpu, "Time the container was throttled by its CPU limit, in seconds."),
        nsCounter("cpu_burst_usage", \S.cpuBurstUsage, \S.hasCpuBurstUsage, .cpu, "CPU time used above the limit by bursting, in seconds (offstream kernels only)."),
        nsCounter("cpu_unconstrained_wait", \S.cpuUnconstrainedWait, \S.hasCpuUnconstrainedWait, .cpu, "Time spent waiting for a CPU not caused by the container's limit, in seconds (offstream kernels only)."),
    ].map { entry in entry(.cpu) }

    // MARK: - memory

    static let memory: [ContainerMetric] = [
        bytesGauge("memory_usage", \S.memoryUsage, \S.hasMemoryUsage, .memory, "Memory used by the container and its descendants, page cache included, in bytes."),
        bytesGauge("anon_usage", \S.anonUsage, \S.hasAnonUsage, .memory, "Anonymous memory used by the container and its descendants, in bytes."),
        bytesGauge("cache_usage", \S.cacheUsage, \S.hasCacheUsage, .memory, "Page cache used by the container and its descendants, in bytes."),
        bytesGauge("shmem_usage", \S.shmemUsage, \S.hasShmemUsage, .memory, "Shared memory (tmpfs, shm) used by the container and its descendants, in bytes."),
        bytesGauge("mlock_usage", \S.mlockUsage, \S.hasMlockUsage, .memory, "Unevictable (for example mlocked) memory of the container and its descendants, in bytes."),
        ContainerMetric(
            "porto_container_minor_faults_total", .counter, property: "minor_faults", group: .memory,
            field: .status(\S.minorFaults, has: \S.hasMinorFaults), unit: "faults",
            help: "Minor page faults in the container and its descendants.", controller: .memory, created: .startTime),
        ContainerMetric(
            "porto_container_major_faults_total", .counter, property: "major_faults", group: .memory,
            field: .status(\S.majorFaults, has: \S.hasMajorFaults), unit: "faults",
            help: "Major page faults (pages read from disk) in the container and its descendants.", controller: .memory, created: .startTime),
        ContainerMetric(
            "porto_container_memory_reclaimed_bytes_total", .counter, property: "memory_reclaimed", group: .memory,
            field: .status(\S.memoryReclaimed, has: \S.hasMemoryReclaimed), unit: "bytes",
            help: "Memory reclaimed from the container and its descendants (pgpgout pages times 4096, an estimate), in bytes.",
            controller: .memory, created: .startTime, notes: "0 on cgroup v2."),
        ContainerMetric(
            "porto_container_oom_kills_total", .counter, property: "oom_kills", group: .memory,
            field: .status(\S.oomKills, has: \S.hasOomKills), unit: "kills",
            help: "Tasks of the container killed by the OOM killer since the container last started.",
            controller: .memory, created: .startTime, notes: "Reset to 0 when the container stops."),
        ContainerMetric(
            "porto_container_oom_kills_since_creation_total", .counter, property: "oom_kills_total", group: .memory,
            field: .status(\S.oomKillsTotal, has: \S.hasOomKillsTotal), unit: "kills",
            help: "Tasks killed by the OOM killer in the container and all its descendants since the container was created.",
            created: .creationTime,
            notes: "Porto's `oom_kills_total` already ends in `_total`: `porto_container_oom_kills_total` is `oom_kills`, and this name says what the Porto property counts (since creation, across restarts and portod reloads, hierarchical). Counted in every ancestor, so no ownership filter."),
    ]

    // MARK: - io

    static let io: [ContainerMetric] = [
        ioCounter("io_read", "io_read_bytes_total", \S.ioRead, \S.hasIoRead, "bytes", "Bytes read from disk by the container, per device (`hw` is the sum over real disks), in bytes.", excluded: []),
        ioCounter("io_write", "io_write_bytes_total", \S.ioWrite, \S.hasIoWrite, "bytes", "Bytes written to disk by the container, per device (`hw` is the sum over real disks), in bytes.", excluded: ["total_writeback"],
                  notes: "The `total_writeback` key is a gauge: it is exported as `porto_container_io_writeback_bytes`."),
        ioCounter("io_ops", "io_ops_total", \S.ioOps, \S.hasIoOps, "operations", "Disk IO operations of the container, per device.", excluded: []),
        ioCounter("io_read_ops", "io_read_ops_total", \S.ioReadOps, \S.hasIoReadOps, "operations", "Disk read operations of the container, per device.", excluded: []),
        ioCounter("io_write_ops", "io_write_ops_total", \S.ioWriteOps, \S.hasIoWriteOps, "operations", "Disk write operations of the container, per device.", excluded: []),
        ContainerMetric(
            "porto_container_io_time_seconds_total", .counter, property: "io_time", group: .io,
            field: .map(\S.ioTime, has: \S.hasIoTime), unit: "seconds",
            help: "Time disks spent serving the container's IO, per device, in seconds.", conversion: .nanosecondsToSeconds,
            controller: .blkioOrMemory, extraLabel: "device", created: .startTime,
            notes: "Only with the CFQ/BFQ schedulers on cgroup v1; empty on most kernels."),
        ContainerMetric(
            "porto_container_io_writeback_bytes", .gauge, property: "io_write", group: .io,
            field: .map(\S.ioWrite, has: \S.hasIoWrite), unit: "bytes",
            help: "Bytes of the container under writeback right now, in bytes.", controller: .memory,
            onlyKey: "total_writeback", notes: "The `total_writeback` key of `io_write`: a gauge, so not part of the counter."),
    ]

    // MARK: - net

    static let net: [ContainerMetric] = [
        netCounter("net_bytes", "net_bytes_total", \S.netBytes, \S.hasNetBytes, "bytes", "Bytes sent through the container's traffic classes, per interface or class (the same as net_tx_bytes when tc classes are off), in bytes."),
        netCounter("net_packets", "net_packets_total", \S.netPackets, \S.hasNetPackets, "packets", "Packets sent through the container's traffic classes, per interface or class."),
        netCounter("net_drops", "net_drops_total", \S.netDrops, \S.hasNetDrops, "packets", "Packets dropped by the container's traffic classes, per interface or class."),
        netCounter("net_overlimits", "net_overlimits_total", \S.netOverlimits, \S.hasNetOverlimits, "packets", "Packets over the limit of the container's traffic classes (TX errors when classes are off), per interface or class."),
        netCounter("net_rx_bytes", "net_rx_bytes_total", \S.netRxBytes, \S.hasNetRxBytes, "bytes", "Bytes received in the container's network namespace, per interface, in bytes."),
        netCounter("net_rx_packets", "net_rx_packets_total", \S.netRxPackets, \S.hasNetRxPackets, "packets", "Packets received in the container's network namespace, per interface."),
        netCounter("net_rx_drops", "net_rx_drops_total", \S.netRxDrops, \S.hasNetRxDrops, "packets", "Received packets dropped in the container's network namespace, per interface."),
        netCounter("net_rx_overlimits", "net_rx_overlimits_total", \S.netRxOverlimits, \S.hasNetRxOverlimits, "packets", "Receive overruns and errors in the container's network namespace, per interface."),
        netCounter("net_tx_bytes", "net_tx_bytes_total", \S.netTxBytes, \S.hasNetTxBytes, "bytes", "Bytes sent from the container's network namespace, per interface, in bytes."),
        netCounter("net_tx_packets", "net_tx_packets_total", \S.netTxPackets, \S.hasNetTxPackets, "packets", "Packets sent from the container's network namespace, per interface."),
        netCounter("net_tx_drops", "net_tx_drops_total", \S.netTxDrops, \S.hasNetTxDrops, "packets", "Sent packets dropped in the container's network namespace, per interface."),
    ]

    // MARK: - pressure

    static let pressure: [ContainerMetric] = [
        pressureCounter("cpu_pressure", \S.cpuPressure, \S.hasCpuPressure, "CPU"),
        pressureCounter("memory_pressure", \S.memoryPressure, \S.hasMemoryPressure, "memory"),
        pressureCounter("io_pressure", \S.ioPressure, \S.hasIoPressure, "IO"),
    ]

    // MARK: - process

    static let process: [ContainerMetric] = [
        ContainerMetric(
            "porto_container_processes", .gauge, property: "process_count", group: .process,
            field: .status(\S.processCount, has: \S.hasProcessCount), unit: "processes",
            help: "Processes in the container and its descendants.",
            notes: "Porto walks the whole freezer subtree (descendants included); the costliest property (PORTO.md 7)."),
        ContainerMetric(
            "porto_container_threads", .gauge, property: "thread_count", group: .process,
            field: .status(\S.threadCount, has: \S.hasThreadCount), unit: "threads",
            help: "Threads in the container and its descendants."),
    ]

    // MARK: - limits

    static let limits: [ContainerMetric] = [
        specBytes("memory_limit", \P.memoryLimit, \P.hasMemoryLimit, "Memory limit of the container (0: none), in bytes."),
        statusBytes("memory_limit_total", \S.memoryLimitTotal, \S.hasMemoryLimitTotal, "Smallest non-zero memory limit of the container and its ancestors (or total RAM), in bytes."),
        specBytes("memory_guarantee", \P.memoryGuarantee, \P.hasMemoryGuarantee, "Memory guarantee of the container, in bytes."),
        statusBytes("memory_guarantee_total", \S.memoryGuaranteeTotal, \S.hasMemoryGuaranteeTotal, "Memory guarantee of the container including its descendants' (0 when stopped), in bytes."),
        specBytes("anon_limit", \P.anonLimit, \P.hasAnonLimit, "Anonymous memory limit of the container (0: none), in bytes."),
        statusBytes("anon_limit_total", \S.anonLimitTotal, \S.hasAnonLimitTotal, "Smallest non-zero anonymous memory limit of the container and its ancestors, in bytes."),
        specBytes("hugetlb_limit", \P.hugetlbLimit, \P.hasHugetlbLimit, "Huge page limit of the container (on \"/\" the total huge page size), in bytes."),
        cores("cpu_limit", .specCores(\P.cpuLimit, has: \P.hasCpuLimit), "CPU limit of the container in cores (0: none; on \"/\" the number of CPUs)."),
        cores("cpu_guarantee", .specCores(\P.cpuGuarantee, has: \P.hasCpuGuarantee), "CPU guarantee of the container in cores."),
        cores("cpu_limit_total", .statusCores(\S.cpuLimitTotal, has: \S.hasCpuLimitTotal), "Smallest non-zero CPU limit of the container and its ancestors (or the number of CPUs), in cores."),
        cores("cpu_guarantee_total", .statusCores(\S.cpuGuaranteeTotal, has: \S.hasCpuGuaranteeTotal), "CPU guarantee in effect for the container, bounded by its ancestors', in cores."),
        ContainerMetric(
            "porto_container_thread_limit", .gauge, property: "thread_limit", group: .limits,
            field: .spec(\P.threadLimit, has: \P.hasThreadLimit), unit: "threads",
            help: "Thread limit of the container.", notes: "Absent when unset."),
    ]

    // MARK: - state

    static let state: [ContainerMetric] = [
        ContainerMetric(
            "porto_container_state", .gauge, property: "state", group: .state, field: .state, unit: "",
            help: "Container state: 1 for the current state, 0 for the others.", extraLabel: "state",
            notes: "One series per state: \(states.joined(separator: ", "))."),
        time("creation_time", \S.creationTime, \S.hasCreationTime, "Time the container was created, in seconds since the epoch."),
        time("start_time", \S.startTime, \S.hasStartTime, "Time the container last started, in seconds since the epoch.", notes: "Absent if it never started."),
        time("death_time", \S.deathTime, \S.hasDeathTime, "Time the container died, in seconds since the epoch.", notes: "Only in state dead."),
        ContainerMetric(
            "porto_container_exit_code", .gauge, property: "exit_code", group: .state,
            field: .statusInt(\S.exitCode, has: \S.hasExitCode), unit: "",
            help: "Exit code of the dead container: 0-255 exit status, -N killed by signal N, -99 OOM.", notes: "Only in state dead."),
        ContainerMetric(
            "porto_container_oom_killed", .gauge, property: "oom_killed", group: .state,
            field: .statusBool(\S.oomKilled, has: \S.hasOomKilled), unit: "boolean",
            help: "Whether the dead container died from an OOM kill (1) or not (0).", notes: "Only in state dead."),
        ContainerMetric(
            "porto_container_respawn_count_total", .counter, property: "respawn_count", group: .state,
            field: .spec(\P.respawnCount, has: \P.hasRespawnCount), unit: "respawns",
            help: "Times the container was respawned.", created: .creationTime,
            notes: "A spec property that users can overwrite, so it may go down."),
    ]

    // MARK: - vm

    static let vm: [ContainerMetric] = [
        vmGauge("count", \.count, \.hasCount, unit: "processes", "Processes directly in the container counted by virtual_memory (not descendants).", name: "processes"),
        vmGauge("size", \.size, \.hasSize, "Sum of VmSize over the container's own processes, in bytes."),
        vmGauge("max_size", \.maxSize, \.hasMaxSize, "Sum of VmPeak over the container's own processes, in bytes."),
        vmGauge("used", \.used, \.hasUsed, "Sum of VmRSS over the container's own processes, in bytes."),
        vmGauge("max_used", \.maxUsed, \.hasMaxUsed, "Sum of VmHWM over the container's own processes, in bytes."),
        vmGauge("anon", \.anon, \.hasAnon, "Sum of RssAnon over the container's own processes, in bytes."),
        vmGauge("file", \.file, \.hasFile, "Sum of RssFile over the container's own processes, in bytes."),
        vmGauge("shmem", \.shmem, \.hasShmem, "Sum of RssShmem over the container's own processes, in bytes."),
        vmGauge("huge", \.huge, \.hasHuge, "Sum of HugetlbPages over the container's own processes, in bytes."),
        vmGauge("swap", \.swap, \.hasSwap, "Sum of VmSwap over the container's own processes, in bytes."),
        vmGauge("data", \.data, \.hasData, "Sum of VmData over the container's own processes, in bytes."),
        vmGauge("stack", \.stack, \.hasStack, "Sum of VmStk over the container's own processes, in bytes."),
        vmGauge("code", \.code, \.hasCode, "Sum of VmExe and VmLib over the container's own processes, in bytes."),
        vmGauge("locked", \.locked, \.hasLocked, "Sum of VmLck over the container's own processes, in bytes."),
        vmGauge("table", \.table, \.hasTable, "Sum of VmPTE and VmPMD over the container's own processes, in bytes."),
    ]

    // MARK: - Builders

    private static func nsCounter(
        _ property: String, _ path: WritableKeyPath<S, UInt64>, _ has: KeyPath<S, Bool>, _ controller: Controller, _ help: String
    ) -> (CollectorGroup) -> ContainerMetric {
        { group in
            ContainerMetric(
                "porto_container_\(property)_seconds_total", .counter, property: property, group: group,
                field: .status(path, has: has), unit: "seconds", help: help, conversion: .nanosecondsToSeconds,
                controller: controller, created: .startTime)
        }
    }

    private static func bytesGauge(
        _ property: String, _ path: WritableKeyPath<S, UInt64>, _ has: KeyPath<S, Bool>, _ controller: Controller, _ help: String
    ) -> ContainerMetric {
        ContainerMetric(
            "porto_container_\(property)_bytes", .gauge, property: property, group: .memory,
            field: .status(path, has: has), unit: "bytes", help: help, controller: controller)
    }

    private static func ioCounter(
        _ property: String, _ suffix: String, _ path: WritableKeyPath<S, Porto_TUintMap>, _ has: KeyPath<S, Bool>,
        _ unit: String, _ help: String, excluded: Set<String>, notes: String = ""
    ) -> ContainerMetric {
        ContainerMetric(
            "porto_container_\(suffix)", .counter, property: property, group: .io, field: .map(path, has: has),
            unit: unit, help: help, controller: .blkioOrMemory, extraLabel: "device", excludedKeys: excluded,
            created: .startTime, notes: notes)
    }

    private static func netCounter(
        _ property: String, _ suffix: String, _ path: WritableKeyPath<S, Porto_TUintMap>, _ has: KeyPath<S, Bool>,
        _ unit: String, _ help: String
    ) -> ContainerMetric {
        ContainerMetric(
            "porto_container_\(suffix)", .counter, property: property, group: .net, field: .map(path, has: has),
            unit: unit, help: help, controller: .netns, extraLabel: "interface", excludedKeys: ["Latency"],
            created: .startTime,
            notes: "The `Latency` key (milliseconds since the last socket statistics poll, a gauge) is not exported.")
    }

    private static func pressureCounter(
        _ property: String, _ path: WritableKeyPath<S, Porto_TUintMap>, _ has: KeyPath<S, Bool>, _ what: String
    ) -> ContainerMetric {
        ContainerMetric(
            "porto_container_\(property)_seconds_total", .counter, property: property, group: .pressure,
            field: .map(path, has: has), unit: "seconds",
            help: "\(what) pressure stall time of the container (PSI total), per kind (some, full), in seconds.",
            conversion: .microsecondsToSeconds, extraLabel: "kind", created: .startTime,
            notes: "Porto gives microseconds. cgroup2 is always the container's own.")
    }

    private static func specBytes(_ property: String, _ path: WritableKeyPath<P, UInt64>, _ has: KeyPath<P, Bool>, _ help: String) -> ContainerMetric {
        ContainerMetric(
            "porto_container_\(property)_bytes", .gauge, property: property, group: .limits,
            field: .spec(path, has: has), unit: "bytes", help: help)
    }

    private static func statusBytes(_ property: String, _ path: WritableKeyPath<S, UInt64>, _ has: KeyPath<S, Bool>, _ help: String) -> ContainerMetric {
        ContainerMetric(
            "porto_container_\(property)_bytes", .gauge, property: property, group: .limits,
            field: .status(path, has: has), unit: "bytes", help: help)
    }

    private static func cores(_ property: String, _ field: ContainerField, _ help: String) -> ContainerMetric {
        ContainerMetric(
            "porto_container_\(property)_cores", .gauge, property: property, group: .limits, field: field,
            unit: "cores", help: help, notes: "Get gives `\"2.5c\"`; ListContainersBy a double.")
    }

    private static func time(
        _ property: String, _ path: WritableKeyPath<S, UInt64>, _ has: KeyPath<S, Bool>, _ help: String, notes: String = ""
    ) -> ContainerMetric {
        ContainerMetric(
            "porto_container_\(property)_seconds", .gauge, property: property, group: .state,
            field: .status(path, has: has), unit: "seconds", help: help,
            legacyVariable: "\(property)[raw]", notes: notes)
    }

    private static func vmGauge(
        _ key: String, _ path: WritableKeyPath<Porto_TVmStat, UInt64>, _ has: KeyPath<Porto_TVmStat, Bool>,
        unit: String = "bytes", _ help: String, name: String? = nil
    ) -> ContainerMetric {
        ContainerMetric(
            "porto_container_virtual_memory_\(name ?? key)\(unit == "bytes" ? "_bytes" : "")", .gauge, property: "virtual_memory",
            group: .vm, field: .vm(path, has: has, key: key), unit: unit, help: help,
            notes: "Key `\(key)` of `virtual_memory`." + (name == nil ? "" : " Not `_count`: promtool lint reserves it for histograms and summaries."))
    }
}
