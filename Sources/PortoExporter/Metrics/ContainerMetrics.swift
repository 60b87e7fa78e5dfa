import PortoWire

/// The table of every container metric. Adding a metric is one entry here, one value in
/// porto-sim's model, and a regenerated golden file and METRICS.md.
///
/// Names follow one rule: `porto_container_` + the Porto property + the base unit, + `_total` for
/// counters; map keys go in `device` (io), `interface` or `group` (net) or `kind` (pressure:
/// `some`/`full`), and summary keys get families of their own (``MapKeys``).
/// Irregular names are explained in `notes` (and so in METRICS.md).
public enum ContainerMetrics {
    public typealias S = Porto_TContainerStatus
    public typealias P = Porto_TContainerSpec

    /// Every container state portod reports (docs/porto.md §3.3); `porto_container_state` has one series
    /// per state, plus the current one if portod reports a state not listed here.
    public static let states = ["stopped", "starting", "running", "stopping", "paused", "dead", "meta", "respawning"]

    public static let all: [ContainerMetric] = cpu + memory + io + net + pressure + process + limits + state + vm

    // MARK: - cpu

    static let cpu: [ContainerMetric] = [
        nsCounter("cpu_usage", \S.cpuUsage, { $0.hasCpuUsage ? $0.cpuUsage : nil }, .cpuacct, "CPU time used by the container and its descendants (cpuacct.usage), in seconds."),
        nsCounter("cpu_usage_system", \S.cpuUsageSystem, { $0.hasCpuUsageSystem ? $0.cpuUsageSystem : nil }, .cpuacct, "CPU time spent in the kernel by the container and its descendants, in seconds (10 ms steps)."),
        nsCounter("cpu_wait", \S.cpuWait, { $0.hasCpuWait ? $0.cpuWait : nil }, .cpuacct, "Time the container's tasks waited for a CPU, in seconds (offstream kernels only)."),
        nsCounter("cpu_throttled", \S.cpuThrottled, { $0.hasCpuThrottled ? $0.cpuThrottled : nil }, .cpu, "Time the container was throttled by its CPU limit, in seconds."),
        nsCounter("cpu_burst_usage", \S.cpuBurstUsage, { $0.hasCpuBurstUsage ? $0.cpuBurstUsage : nil }, .cpu, "CPU time used above the limit by bursting, in seconds (offstream kernels only)."),
        nsCounter("cpu_unconstrained_wait", \S.cpuUnconstrainedWait, { $0.hasCpuUnconstrainedWait ? $0.cpuUnconstrainedWait : nil }, .cpu, "Time spent waiting for a CPU not caused by the container's limit, in seconds (offstream kernels only)."),
    ].map { entry in entry(.cpu) }

    // MARK: - memory

    static let memory: [ContainerMetric] = [
        bytesGauge("memory_usage", \S.memoryUsage, { $0.hasMemoryUsage ? $0.memoryUsage : nil }, .memory, "Memory used by the container and its descendants, page cache included, in bytes."),
        bytesGauge("anon_usage", \S.anonUsage, { $0.hasAnonUsage ? $0.anonUsage : nil }, .memory, "Anonymous memory used by the container and its descendants, in bytes."),
        bytesGauge("cache_usage", \S.cacheUsage, { $0.hasCacheUsage ? $0.cacheUsage : nil }, .memory, "Page cache used by the container and its descendants, in bytes."),
        bytesGauge("shmem_usage", \S.shmemUsage, { $0.hasShmemUsage ? $0.shmemUsage : nil }, .memory, "Shared memory (tmpfs, shm) used by the container and its descendants, in bytes."),
        bytesGauge("mlock_usage", \S.mlockUsage, { $0.hasMlockUsage ? $0.mlockUsage : nil }, .memory, "Unevictable (for example mlocked) memory of the container and its descendants, in bytes."),
        ContainerMetric(
            "porto_container_minor_faults_total", .counter, property: "minor_faults", group: .memory,
            field: .status(\S.minorFaults, read: { $0.hasMinorFaults ? $0.minorFaults : nil }), unit: "faults",
            help: "Minor page faults in the container and its descendants.", controller: .memory, created: .cgroup),
        ContainerMetric(
            "porto_container_major_faults_total", .counter, property: "major_faults", group: .memory,
            field: .status(\S.majorFaults, read: { $0.hasMajorFaults ? $0.majorFaults : nil }), unit: "faults",
            help: "Major page faults (pages read from disk) in the container and its descendants.", controller: .memory, created: .cgroup),
        ContainerMetric(
            "porto_container_memory_reclaimed_bytes_total", .counter, property: "memory_reclaimed", group: .memory,
            field: .status(\S.memoryReclaimed, read: { $0.hasMemoryReclaimed ? $0.memoryReclaimed : nil }), unit: "bytes",
            help: "Memory reclaimed from the container and its descendants (pgpgout pages times 4096, an estimate), in bytes.",
            controller: .memory, created: .cgroup, notes: "0 on cgroup v2."),
        ContainerMetric(
            "porto_container_oom_kills_total", .counter, property: "oom_kills", group: .memory,
            field: .status(\S.oomKills, read: { $0.hasOomKills ? $0.oomKills : nil }), unit: "kills",
            help: "Tasks of the container killed by the OOM killer since the container last started.",
            controller: .memory, created: .cgroup, notes: "Reset to 0 when the container stops."),
        ContainerMetric(
            "porto_container_oom_kills_since_creation_total", .counter, property: "oom_kills_total", group: .memory,
            field: .status(\S.oomKillsTotal, read: { $0.hasOomKillsTotal ? $0.oomKillsTotal : nil }), unit: "kills",
            help: "Tasks killed by the OOM killer in the container and all its descendants since the container was created.",
            created: .creationTime,
            notes: "Porto's `oom_kills_total` already ends in `_total`: `porto_container_oom_kills_total` is `oom_kills`, and this name says what the Porto property counts (since creation, across restarts and portod reloads, hierarchical). Counted in every ancestor, so no ownership filter."),
    ]

    // MARK: - io

    // Each io map (docs/porto.md §3.3 Disk IO) becomes families that sum right: the total from
    // `hw` (`name` only), the disks `hw` sums (`device`), stacked devices (`device`, the same
    // bytes again), and the memory cgroup's `fs` and `total_writeback` keys (`name` only).
    static let io: [ContainerMetric] = ioMap("io_read", "read_bytes", \S.ioRead, { $0.hasIoRead ? $0.ioRead : nil }, "bytes", "Bytes read from disk", fs: true)
        + ioMap("io_write", "write_bytes", \S.ioWrite, { $0.hasIoWrite ? $0.ioWrite : nil }, "bytes", "Bytes written to disk", fs: true)
        + ioMap("io_ops", "ops", \S.ioOps, { $0.hasIoOps ? $0.ioOps : nil }, "operations", "Disk IO operations", fs: true)
        + ioMap("io_read_ops", "read_ops", \S.ioReadOps, { $0.hasIoReadOps ? $0.ioReadOps : nil }, "operations", "Disk read operations", fs: false)
        + ioMap("io_write_ops", "write_ops", \S.ioWriteOps, { $0.hasIoWriteOps ? $0.ioWriteOps : nil }, "operations", "Disk write operations", fs: false)
        + ioMap("io_time", "time_seconds", \S.ioTime, { $0.hasIoTime ? $0.ioTime : nil }, "seconds", "Time disks spent serving IO", fs: false, stacked: false,
                conversion: .nanosecondsToSeconds, notes: "Only with the CFQ/BFQ schedulers on cgroup v1; empty on most kernels.")
        + [
            ContainerMetric(
                "porto_container_io_writeback_bytes", .gauge, property: "io_write", group: .io,
                field: .map(\S.ioWrite, read: { $0.hasIoWrite ? $0.ioWrite : nil }), unit: "bytes",
                help: "Bytes of the container under writeback right now, in bytes.", controller: .memory,
                keys: .key("total_writeback"), notes: "The `total_writeback` key of `io_write`: a gauge, so not part of the counters."),
        ]

    // MARK: - net

    // Each net map (docs/porto.md §3.3 Network) becomes the total from `Uplink` (`name` only), the
    // devices (`interface`) and the device groups (`group`). `SockDiag` ("/" only) and `Latency`
    // (a gauge) are left out. `net_bytes`, `net_packets`, `net_drops` and `net_overlimits` (tc
    // classes) are not read: off by default since portod 5.0.31, and then they repeat the
    // `net_tx_*` counters exactly.
    static let net: [ContainerMetric] = netMap("net_rx_bytes", "rx_bytes", \S.netRxBytes, { $0.hasNetRxBytes ? $0.netRxBytes : nil }, "bytes", "Bytes received")
        + netMap("net_tx_bytes", "tx_bytes", \S.netTxBytes, { $0.hasNetTxBytes ? $0.netTxBytes : nil }, "bytes", "Bytes sent")
        + netMap("net_rx_packets", "rx_packets", \S.netRxPackets, { $0.hasNetRxPackets ? $0.netRxPackets : nil }, "packets", "Packets received")
        + netMap("net_tx_packets", "tx_packets", \S.netTxPackets, { $0.hasNetTxPackets ? $0.netTxPackets : nil }, "packets", "Packets sent")
        + netMap("net_rx_drops", "rx_drops", \S.netRxDrops, { $0.hasNetRxDrops ? $0.netRxDrops : nil }, "packets", "Received packets dropped")
        + netMap("net_tx_drops", "tx_drops", \S.netTxDrops, { $0.hasNetTxDrops ? $0.netTxDrops : nil }, "packets", "Sent packets dropped")
        + netMap("net_rx_overlimits", "rx_overlimits", \S.netRxOverlimits, { $0.hasNetRxOverlimits ? $0.netRxOverlimits : nil }, "packets", "Receive overruns and errors")

    // MARK: - pressure

    static let pressure: [ContainerMetric] = [
        pressureCounter("cpu_pressure", \S.cpuPressure, { $0.hasCpuPressure ? $0.cpuPressure : nil }, "CPU"),
        pressureCounter("memory_pressure", \S.memoryPressure, { $0.hasMemoryPressure ? $0.memoryPressure : nil }, "memory"),
        pressureCounter("io_pressure", \S.ioPressure, { $0.hasIoPressure ? $0.ioPressure : nil }, "IO"),
    ]

    // MARK: - process

    static let process: [ContainerMetric] = [
        ContainerMetric(
            "porto_container_processes", .gauge, property: "process_count", group: .process,
            field: .status(\S.processCount, read: { $0.hasProcessCount ? $0.processCount : nil }), unit: "processes",
            help: "Processes in the container and its descendants.",
            notes: "Porto walks the whole freezer subtree (descendants included); the costliest property (docs/porto.md §7)."),
        ContainerMetric(
            "porto_container_threads", .gauge, property: "thread_count", group: .process,
            field: .status(\S.threadCount, read: { $0.hasThreadCount ? $0.threadCount : nil }), unit: "threads",
            help: "Threads in the container and its descendants."),
    ]

    // MARK: - limits

    static let limits: [ContainerMetric] = [
        specBytes("memory_limit", \P.memoryLimit, { $0.hasMemoryLimit ? $0.memoryLimit : nil }, "Memory limit of the container (0: none), in bytes."),
        statusBytes("memory_limit_total", \S.memoryLimitTotal, { $0.hasMemoryLimitTotal ? $0.memoryLimitTotal : nil }, "Smallest non-zero memory limit of the container and its ancestors (or total RAM), in bytes."),
        specBytes("memory_guarantee", \P.memoryGuarantee, { $0.hasMemoryGuarantee ? $0.memoryGuarantee : nil }, "Memory guarantee of the container, in bytes."),
        statusBytes("memory_guarantee_total", \S.memoryGuaranteeTotal, { $0.hasMemoryGuaranteeTotal ? $0.memoryGuaranteeTotal : nil }, "Memory guarantee of the container including its descendants' (0 when stopped), in bytes."),
        specBytes("anon_limit", \P.anonLimit, { $0.hasAnonLimit ? $0.anonLimit : nil }, "Anonymous memory limit of the container (0: none), in bytes."),
        statusBytes("anon_limit_total", \S.anonLimitTotal, { $0.hasAnonLimitTotal ? $0.anonLimitTotal : nil }, "Smallest non-zero anonymous memory limit of the container and its ancestors, in bytes."),
        specBytes("hugetlb_limit", \P.hugetlbLimit, { $0.hasHugetlbLimit ? $0.hugetlbLimit : nil }, "Huge page limit of the container (on \"/\" the total huge page size), in bytes."),
        cores("cpu_limit", .specCores(\P.cpuLimit, read: { $0.hasCpuLimit ? $0.cpuLimit : nil }), "CPU limit of the container in cores (0: none; on \"/\" the number of CPUs)."),
        cores("cpu_guarantee", .specCores(\P.cpuGuarantee, read: { $0.hasCpuGuarantee ? $0.cpuGuarantee : nil }), "CPU guarantee of the container in cores."),
        cores("cpu_limit_total", .statusCores(\S.cpuLimitTotal, read: { $0.hasCpuLimitTotal ? $0.cpuLimitTotal : nil }), "Smallest non-zero CPU limit of the container and its ancestors (or the number of CPUs), in cores."),
        cores("cpu_guarantee_total", .statusCores(\S.cpuGuaranteeTotal, read: { $0.hasCpuGuaranteeTotal ? $0.cpuGuaranteeTotal : nil }), "CPU guarantee in effect for the container, bounded by its ancestors', in cores."),
        ContainerMetric(
            "porto_container_thread_limit", .gauge, property: "thread_limit", group: .limits,
            field: .spec(\P.threadLimit, read: { $0.hasThreadLimit ? $0.threadLimit : nil }), unit: "threads",
            help: "Thread limit of the container.", notes: "Absent when unset."),
    ]

    // MARK: - state

    static let state: [ContainerMetric] = [
        ContainerMetric(
            "porto_container_state", .gauge, property: "state", group: .state, field: .state, unit: "",
            help: "Container state: 1 for the current state, 0 for the others.", extraLabel: "state",
            notes: "One series per state: \(states.joined(separator: ", "))."),
        time("creation_time", \S.creationTime, { $0.hasCreationTime ? $0.creationTime : nil }, "Time the container was created, in seconds since the epoch."),
        time("start_time", \S.startTime, { $0.hasStartTime ? $0.startTime : nil }, "Time the container last started, in seconds since the epoch.", notes: "Absent if it never started."),
        time("death_time", \S.deathTime, { $0.hasDeathTime ? $0.deathTime : nil }, "Time the container died, in seconds since the epoch.", notes: "Only in state dead."),
        ContainerMetric(
            "porto_container_exit_code", .gauge, property: "exit_code", group: .state,
            field: .statusInt(\S.exitCode, read: { $0.hasExitCode ? $0.exitCode : nil }), unit: "",
            help: "Exit code of the dead container: 0-255 exit status, -N killed by signal N, -99 OOM.", notes: "Only in state dead."),
        ContainerMetric(
            "porto_container_oom_killed", .gauge, property: "oom_killed", group: .state,
            field: .statusBool(\S.oomKilled, read: { $0.hasOomKilled ? $0.oomKilled : nil }), unit: "boolean",
            help: "Whether the dead container died from an OOM kill (1) or not (0).", notes: "Only in state dead."),
        ContainerMetric(
            "porto_container_respawn_count_total", .counter, property: "respawn_count", group: .state,
            field: .spec(\P.respawnCount, read: { $0.hasRespawnCount ? $0.respawnCount : nil }), unit: "respawns",
            help: "Times the container was respawned.", created: .creationTime,
            notes: "A spec property that users can overwrite, so it may go down."),
    ]

    // MARK: - vm

    static let vm: [ContainerMetric] = [
        vmGauge("count", \.count, { $0.hasCount ? $0.count : nil }, unit: "processes", "Processes directly in the container counted by virtual_memory (not descendants).", name: "processes"),
        vmGauge("size", \.size, { $0.hasSize ? $0.size : nil }, "Sum of VmSize over the container's own processes, in bytes."),
        vmGauge("max_size", \.maxSize, { $0.hasMaxSize ? $0.maxSize : nil }, "Sum of VmPeak over the container's own processes, in bytes."),
        vmGauge("used", \.used, { $0.hasUsed ? $0.used : nil }, "Sum of VmRSS over the container's own processes, in bytes."),
        vmGauge("max_used", \.maxUsed, { $0.hasMaxUsed ? $0.maxUsed : nil }, "Sum of VmHWM over the container's own processes, in bytes."),
        vmGauge("anon", \.anon, { $0.hasAnon ? $0.anon : nil }, "Sum of RssAnon over the container's own processes, in bytes."),
        vmGauge("file", \.file, { $0.hasFile ? $0.file : nil }, "Sum of RssFile over the container's own processes, in bytes."),
        vmGauge("shmem", \.shmem, { $0.hasShmem ? $0.shmem : nil }, "Sum of RssShmem over the container's own processes, in bytes."),
        vmGauge("huge", \.huge, { $0.hasHuge ? $0.huge : nil }, "Sum of HugetlbPages over the container's own processes, in bytes."),
        vmGauge("swap", \.swap, { $0.hasSwap ? $0.swap : nil }, "Sum of VmSwap over the container's own processes, in bytes."),
        vmGauge("data", \.data, { $0.hasData ? $0.data : nil }, "Sum of VmData over the container's own processes, in bytes."),
        vmGauge("stack", \.stack, { $0.hasStack ? $0.stack : nil }, "Sum of VmStk over the container's own processes, in bytes."),
        vmGauge("code", \.code, { $0.hasCode ? $0.code : nil }, "Sum of VmExe and VmLib over the container's own processes, in bytes."),
        vmGauge("locked", \.locked, { $0.hasLocked ? $0.locked : nil }, "Sum of VmLck over the container's own processes, in bytes."),
        vmGauge("table", \.table, { $0.hasTable ? $0.table : nil }, "Sum of VmPTE and VmPMD over the container's own processes, in bytes."),
    ]

    // MARK: - Builders

    private static func nsCounter(
        _ property: String, _ path: WritableKeyPath<S, UInt64>, _ read: @escaping @Sendable (S) -> UInt64?, _ controller: Controller, _ help: String
    ) -> (CollectorGroup) -> ContainerMetric {
        { group in
            ContainerMetric(
                "porto_container_\(property)_seconds_total", .counter, property: property, group: group,
                field: .status(path, read: read), unit: "seconds", help: help, conversion: .nanosecondsToSeconds,
                controller: controller, created: .cgroup)
        }
    }

    private static func bytesGauge(
        _ property: String, _ path: WritableKeyPath<S, UInt64>, _ read: @escaping @Sendable (S) -> UInt64?, _ controller: Controller, _ help: String
    ) -> ContainerMetric {
        ContainerMetric(
            "porto_container_\(property)_bytes", .gauge, property: property, group: .memory,
            field: .status(path, read: read), unit: "bytes", help: help, controller: controller)
    }

    /// The families of one io map: total, per physical disk, per stacked device, `fs`.
    private static func ioMap(
        _ property: String, _ what: String, _ path: WritableKeyPath<S, Porto_TUintMap>, _ read: @escaping @Sendable (S) -> Porto_TUintMap?,
        _ unit: String, _ help: String, fs: Bool, stacked: Bool = true, conversion: Conversion = .none, notes: String = ""
    ) -> [ContainerMetric] {
        let field = ContainerField.map(path, read: read)
        let inUnit = unit == "operations" ? "" : ", in \(unit)"
        var out = [
            ContainerMetric(
                "porto_container_io_\(what)_total", .counter, property: property, group: .io, field: field, unit: unit,
                help: "\(help) by the container, summed over its physical disks\(inUnit).", conversion: conversion,
                controller: .blkio, keys: .diskTotal, created: .cgroup,
                notes: join("Key `hw` (sd\\*, nvme\\*, vd\\*; their sum when `hw` is absent). Equals `sum without(device)` of `porto_container_io_disk_\(what)_total`.", notes)),
            ContainerMetric(
                "porto_container_io_disk_\(what)_total", .counter, property: property, group: .io, field: field, unit: unit,
                help: "\(help) by the container, per physical disk (sd*, nvme*, vd*)\(inUnit).", conversion: conversion,
                controller: .blkio, extraLabel: "device", keys: .physicalDisks, created: .cgroup,
                notes: join("`sum without(device)` is the total.", notes)),
        ]
        if stacked {
            out.append(ContainerMetric(
                "porto_container_io_stacked_device_\(what)_total", .counter, property: property, group: .io, field: field, unit: unit,
                help: "\(help) by the container, per stacked block device (md*, dm-*, …): the same IO again as on the disks below\(inUnit).",
                conversion: conversion, controller: .blkio, extraLabel: "device", keys: .stackedDevices, created: .cgroup,
                notes: "Every device key that `hw` does not sum. Counted again on the physical disks under it: never add it to the disk families."))
        }
        if fs {
            out.append(ContainerMetric(
                "porto_container_io_fs_\(what)_total", .counter, property: property, group: .io, field: field, unit: unit,
                help: "\(help) at the filesystem level by the container (memory cgroup statistics)\(inUnit).", conversion: conversion,
                controller: .memory, keys: .key("fs"), created: .cgroup,
                notes: "Key `fs` (offstream kernels): another view of the same IO, page cache included; not a part of the disk total."))
        }
        return out
    }

    /// The families of one net map: total (`Uplink`), per interface, per device group.
    private static func netMap(
        _ property: String, _ what: String, _ path: WritableKeyPath<S, Porto_TUintMap>, _ read: @escaping @Sendable (S) -> Porto_TUintMap?,
        _ unit: String, _ help: String
    ) -> [ContainerMetric] {
        let field = ContainerField.map(path, read: read)
        let inUnit = unit == "bytes" ? ", in bytes" : ""
        return [
            ContainerMetric(
                "porto_container_net_\(what)_total", .counter, property: property, group: .net, field: field, unit: unit,
                help: "\(help) by the container through its uplinks (its own sockets' TCP traffic in the host network namespace)\(inUnit).",
                controller: .netns, keys: .key("Uplink"), created: .netns,
                notes: "Key `Uplink`: the devices that lead out of the container's network namespace."),
            ContainerMetric(
                "porto_container_net_interface_\(what)_total", .counter, property: property, group: .net, field: field, unit: unit,
                help: "\(help) in the container's network namespace, per device\(inUnit).",
                controller: .netns, extraLabel: "interface", keys: .interfaces, created: .netns,
                notes: "Only with a network namespace of its own (or on \"/\"). `sum without(interface)` equals the total when every device is an uplink; bridges and the host ends of veth pairs count the same traffic again."),
            ContainerMetric(
                "porto_container_net_group_\(what)_total", .counter, property: property, group: .net, field: field, unit: unit,
                help: "\(help) in the container's network namespace, per device group\(inUnit).",
                controller: .netns, extraLabel: "group", keys: .groups, created: .netns,
                notes: "Keys `group X` (device groups of /etc/iproute2/group)."),
        ]
    }

    private static func join(_ a: String, _ b: String) -> String { b.isEmpty ? a : a + " " + b }

    private static func pressureCounter(
        _ property: String, _ path: WritableKeyPath<S, Porto_TUintMap>, _ read: @escaping @Sendable (S) -> Porto_TUintMap?, _ what: String
    ) -> ContainerMetric {
        ContainerMetric(
            "porto_container_\(property)_seconds_total", .counter, property: property, group: .pressure,
            field: .map(path, read: read), unit: "seconds",
            help: "\(what) pressure stall time of the container (PSI total), per kind (some, full), in seconds.",
            conversion: .microsecondsToSeconds, extraLabel: "kind", created: .cgroup,
            notes: "Porto gives microseconds. cgroup2 is always the container's own.")
    }

    private static func specBytes(_ property: String, _ path: WritableKeyPath<P, UInt64>, _ read: @escaping @Sendable (P) -> UInt64?, _ help: String) -> ContainerMetric {
        ContainerMetric(
            "porto_container_\(property)_bytes", .gauge, property: property, group: .limits,
            field: .spec(path, read: read), unit: "bytes", help: help)
    }

    private static func statusBytes(_ property: String, _ path: WritableKeyPath<S, UInt64>, _ read: @escaping @Sendable (S) -> UInt64?, _ help: String) -> ContainerMetric {
        ContainerMetric(
            "porto_container_\(property)_bytes", .gauge, property: property, group: .limits,
            field: .status(path, read: read), unit: "bytes", help: help)
    }

    private static func cores(_ property: String, _ field: ContainerField, _ help: String) -> ContainerMetric {
        ContainerMetric(
            "porto_container_\(property)_cores", .gauge, property: property, group: .limits, field: field,
            unit: "cores", help: help, notes: "Get gives `\"2.5c\"`; ListContainersBy a double.")
    }

    private static func time(
        _ property: String, _ path: WritableKeyPath<S, UInt64>, _ read: @escaping @Sendable (S) -> UInt64?, _ help: String, notes: String = ""
    ) -> ContainerMetric {
        ContainerMetric(
            "porto_container_\(property)_seconds", .gauge, property: property, group: .state,
            field: .status(path, read: read), unit: "seconds", help: help, notes: notes)
    }

    private static func vmGauge(
        _ key: String, _ path: WritableKeyPath<Porto_TVmStat, UInt64>, _ read: @escaping @Sendable (Porto_TVmStat) -> UInt64?,
        unit: String = "bytes", _ help: String, name: String? = nil
    ) -> ContainerMetric {
        ContainerMetric(
            "porto_container_virtual_memory_\(name ?? key)\(unit == "bytes" ? "_bytes" : "")", .gauge, property: "virtual_memory",
            group: .vm, field: .vm(path, read: read, key: key), unit: unit, help: help,
            notes: "Key `\(key)` of `virtual_memory`." + (name == nil ? "" : " Not `_count`: promtool lint reserves it for histograms and summaries."))
    }
}
