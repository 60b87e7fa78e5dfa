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
    static let stateBytes = states.map { Array($0.utf8) }

    public static let all: [ContainerMetric] = cpu + memory + io + net + pressure + process + limits + state + vm

    // MARK: - cpu

    static let cpu: [ContainerMetric] = [
        nsCounter("cpu_usage", 26, \S.cpuUsage, .cpuacct, "CPU time used by the container and its descendants (cpuacct.usage), in seconds."),
        nsCounter("cpu_usage_system", 27, \S.cpuUsageSystem, .cpuacct, "CPU time spent in the kernel by the container and its descendants, in seconds (10 ms steps)."),
        nsCounter("cpu_wait", 28, \S.cpuWait, .cpuacct, "Time the container's tasks waited for a CPU, in seconds (offstream kernels only)."),
        nsCounter("cpu_throttled", 29, \S.cpuThrottled, .cpu, "Time the container was throttled by its CPU limit, in seconds."),
        nsCounter("cpu_burst_usage", 74, \S.cpuBurstUsage, .cpu, "CPU time used above the limit by bursting, in seconds (offstream kernels only)."),
        nsCounter("cpu_unconstrained_wait", 75, \S.cpuUnconstrainedWait, .cpu, "Time spent waiting for a CPU not caused by the container's limit, in seconds (offstream kernels only)."),
    ].map { entry in entry(.cpu) }

    // MARK: - memory

    static let memory: [ContainerMetric] = [
        bytesGauge("memory_usage", 37, \S.memoryUsage, .memory, "Memory used by the container and its descendants, page cache included, in bytes."),
        bytesGauge("anon_usage", 41, \S.anonUsage, .memory, "Anonymous memory used by the container and its descendants, in bytes."),
        bytesGauge("cache_usage", 43, \S.cacheUsage, .memory, "Page cache used by the container and its descendants, in bytes."),
        bytesGauge("shmem_usage", 71, \S.shmemUsage, .memory, "Shared memory (tmpfs, shm) used by the container and its descendants, in bytes."),
        bytesGauge("mlock_usage", 72, \S.mlockUsage, .memory, "Unevictable (for example mlocked) memory of the container and its descendants, in bytes."),
        ContainerMetric(
            "porto_container_minor_faults_total", .counter, property: "minor_faults", group: .memory,
            field: .status(46, \S.minorFaults), unit: "faults",
            help: "Minor page faults in the container and its descendants.", controller: .memory, created: .cgroup),
        ContainerMetric(
            "porto_container_major_faults_total", .counter, property: "major_faults", group: .memory,
            field: .status(47, \S.majorFaults), unit: "faults",
            help: "Major page faults (pages read from disk) in the container and its descendants.", controller: .memory, created: .cgroup),
        ContainerMetric(
            "porto_container_memory_reclaimed_bytes_total", .counter, property: "memory_reclaimed", group: .memory,
            field: .status(48, \S.memoryReclaimed), unit: "bytes",
            help: "Memory reclaimed from the container and its descendants (pgpgout pages times 4096, an estimate), in bytes.",
            controller: .memory, created: .cgroup, notes: "0 on cgroup v2."),
        ContainerMetric(
            "porto_container_oom_kills_total", .counter, property: "oom_kills", group: .memory,
            field: .status(50, \S.oomKills), unit: "kills",
            help: "Tasks of the container killed by the OOM killer since the container last started.",
            controller: .memory, created: .cgroup, notes: "Reset to 0 when the container stops."),
        ContainerMetric(
            "porto_container_oom_kills_since_creation_total", .counter, property: "oom_kills_total", group: .memory,
            field: .status(51, \S.oomKillsTotal), unit: "kills",
            help: "Tasks killed by the OOM killer in the container and all its descendants since the container was created.",
            created: .creationTime,
            notes: "Porto's `oom_kills_total` already ends in `_total`: `porto_container_oom_kills_total` is `oom_kills`, and this name says what the Porto property counts (since creation, across restarts and portod reloads, hierarchical). Counted in every ancestor, so no ownership filter."),
    ]

    // MARK: - io

    // Each io map (docs/porto.md §3.3 Disk IO) becomes families that sum right: the total from
    // `hw` (`name` only), the disks `hw` sums (`device`), stacked devices (`device`, the same
    // bytes again), and the memory cgroup's `fs` and `total_writeback` keys (`name` only).
    static let io: [ContainerMetric] = ioMap("io_read", "read_bytes", 32, \S.ioRead, "bytes", "Bytes read from disk", fs: true)
        + ioMap("io_write", "write_bytes", 33, \S.ioWrite, "bytes", "Bytes written to disk", fs: true)
        + ioMap("io_ops", "ops", 34, \S.ioOps, "operations", "Disk IO operations", fs: true)
        + ioMap("io_read_ops", "read_ops", 341, \S.ioReadOps, "operations", "Disk read operations", fs: false)
        + ioMap("io_write_ops", "write_ops", 342, \S.ioWriteOps, "operations", "Disk write operations", fs: false)
        + ioMap("io_time", "time_seconds", 35, \S.ioTime, "seconds", "Time disks spent serving IO", fs: false, stacked: false,
                conversion: .nanosecondsToSeconds, notes: "Only with the CFQ/BFQ schedulers on cgroup v1; empty on most kernels.")
        + [
            ContainerMetric(
                "porto_container_io_writeback_bytes", .gauge, property: "io_write", group: .io,
                field: .map(33, \S.ioWrite), unit: "bytes",
                help: "Bytes of the container under writeback right now, in bytes.", controller: .memory,
                keys: .key("total_writeback"), notes: "The `total_writeback` key of `io_write`: a gauge, so not part of the counters."),
        ]

    // MARK: - net

    // Each net map (docs/porto.md §3.3 Network) becomes the total from `Uplink` (`name` only), the
    // devices (`interface`) and the device groups (`group`). `SockDiag` ("/" only) and `Latency`
    // (a gauge) are left out. `net_bytes`, `net_packets`, `net_drops` and `net_overlimits` (tc
    // classes) are not read: off by default since portod 5.0.31, and then they repeat the
    // `net_tx_*` counters exactly.
    static let net: [ContainerMetric] = netMap("net_rx_bytes", "rx_bytes", 58, \S.netRxBytes, "bytes", "Bytes received")
        + netMap("net_tx_bytes", "tx_bytes", 61, \S.netTxBytes, "bytes", "Bytes sent")
        + netMap("net_rx_packets", "rx_packets", 59, \S.netRxPackets, "packets", "Packets received")
        + netMap("net_tx_packets", "tx_packets", 62, \S.netTxPackets, "packets", "Packets sent")
        + netMap("net_rx_drops", "rx_drops", 60, \S.netRxDrops, "packets", "Received packets dropped")
        + netMap("net_tx_drops", "tx_drops", 63, \S.netTxDrops, "packets", "Sent packets dropped")
        + netMap("net_rx_overlimits", "rx_overlimits", 601, \S.netRxOverlimits, "packets", "Receive overruns and errors")

    // MARK: - pressure

    static let pressure: [ContainerMetric] = [
        pressureCounter("cpu_pressure", 76, \S.cpuPressure, "CPU"),
        pressureCounter("memory_pressure", 83, \S.memoryPressure, "memory"),
        pressureCounter("io_pressure", 351, \S.ioPressure, "IO"),
    ]

    // MARK: - process

    static let process: [ContainerMetric] = [
        ContainerMetric(
            "porto_container_processes", .gauge, property: "process_count", group: .process,
            field: .status(30, \S.processCount), unit: "processes",
            help: "Processes in the container and its descendants.",
            notes: "Porto walks the whole freezer subtree (descendants included); the costliest property (docs/porto.md §7)."),
        ContainerMetric(
            "porto_container_threads", .gauge, property: "thread_count", group: .process,
            field: .status(31, \S.threadCount), unit: "threads",
            help: "Threads in the container and its descendants."),
    ]

    // MARK: - limits

    static let limits: [ContainerMetric] = [
        specBytes("memory_limit", 53, \P.memoryLimit, "Memory limit of the container (0: none), in bytes."),
        statusBytes("memory_limit_total", 39, \S.memoryLimitTotal, "Smallest non-zero memory limit of the container and its ancestors (or total RAM), in bytes."),
        specBytes("memory_guarantee", 52, \P.memoryGuarantee, "Memory guarantee of the container, in bytes."),
        statusBytes("memory_guarantee_total", 38, \S.memoryGuaranteeTotal, "Memory guarantee of the container including its descendants' (0 when stopped), in bytes."),
        specBytes("anon_limit", 54, \P.anonLimit, "Anonymous memory limit of the container (0: none), in bytes."),
        statusBytes("anon_limit_total", 40, \S.anonLimitTotal, "Smallest non-zero anonymous memory limit of the container and its ancestors, in bytes."),
        specBytes("hugetlb_limit", 57, \P.hugetlbLimit, "Huge page limit of the container (on \"/\" the total huge page size), in bytes."),
        cores("cpu_limit", .specCores(43, \P.cpuLimit), "CPU limit of the container in cores (0: none; on \"/\" the number of CPUs)."),
        cores("cpu_guarantee", .specCores(42, \P.cpuGuarantee), "CPU guarantee of the container in cores."),
        cores("cpu_limit_total", .statusCores(422, \S.cpuLimitTotal), "Smallest non-zero CPU limit of the container and its ancestors (or the number of CPUs), in cores."),
        cores("cpu_guarantee_total", .statusCores(42, \S.cpuGuaranteeTotal), "CPU guarantee in effect for the container, bounded by its ancestors', in cores."),
        ContainerMetric(
            "porto_container_thread_limit", .gauge, property: "thread_limit", group: .limits,
            field: .spec(47, \P.threadLimit), unit: "threads",
            help: "Thread limit of the container.", notes: "Absent when unset."),
    ]

    // MARK: - state

    static let state: [ContainerMetric] = [
        ContainerMetric(
            "porto_container_state", .gauge, property: "state", group: .state, field: .state, unit: "",
            help: "Container state: 1 for the current state, 0 for the others.", extraLabel: "state",
            notes: "One series per state: \(states.joined(separator: ", "))."),
        time("creation_time", 19, \S.creationTime, "Time the container was created, in seconds since the epoch."),
        time("start_time", 20, \S.startTime, "Time the container last started, in seconds since the epoch.", notes: "Absent if it never started."),
        time("death_time", 21, \S.deathTime, "Time the container died, in seconds since the epoch.", notes: "Only in state dead."),
        ContainerMetric(
            "porto_container_exit_code", .gauge, property: "exit_code", group: .state,
            field: .statusInt(9, \S.exitCode), unit: "",
            help: "Exit code of the dead container: 0-255 exit status, -N killed by signal N, -99 OOM.", notes: "Only in state dead."),
        ContainerMetric(
            "porto_container_oom_killed", .gauge, property: "oom_killed", group: .state,
            field: .statusBool(52, \S.oomKilled), unit: "boolean",
            help: "Whether the dead container died from an OOM kill (1) or not (0).", notes: "Only in state dead."),
        ContainerMetric(
            "porto_container_core_dumped", .gauge, property: "core_dumped", group: .state,
            field: .statusBool(10, \S.coreDumped), unit: "boolean",
            help: "Whether the dead container's main task dumped core (1) or not (0).", notes: "Only in state dead."),
        ContainerMetric(
            "porto_container_start_failed", .gauge, property: "start_error", group: .state, field: .startFailed, unit: "boolean",
            help: "Whether portod reports an error for the container's last start (1) or not (0).",
            notes: "From `start_error` (portod's error of the last start): 1 while it holds an error."),
        ContainerMetric(
            "porto_container_start_error_info", .gauge, property: "start_error", group: .state, field: .startErrorName, unit: "",
            help: "The Porto error of the container's last failed start, in the error label; the value is 1.", extraLabel: "error",
            notes: "Only while `start_failed` is 1. The error code's name (`InvalidCommand`, `Permission`, …); never the message, which can hold the command line."),
        ContainerMetric(
            "porto_container_controller_owner", .gauge, property: "cgroups", group: .state, field: .controllerOwners, unit: "",
            help: "Which container owns the cgroup of each controller the container reads (itself or an ancestor), as labels; the value is 1.",
            labelNames: ["name", "controller", "owner"], notes: "Labels `name`, `controller`, `owner`, for cpuacct, cpu, memory and blkio (the controllers behind the ownership filter). Where `owner` is not `name`, the container's series for that controller are left out: read the owner's. The owner comes from the cgroup path (`…/porto%a%b` is `a/b`, the mount point is \"/\")."),
        ContainerMetric(
            "porto_container_respawn_count_total", .counter, property: "respawn_count", group: .state,
            field: .spec(36, \P.respawnCount), unit: "respawns",
            help: "Times the container was respawned.", created: .creationTime,
            notes: "A spec property that users can overwrite, so it may go down."),
    ]

    // MARK: - vm

    static let vm: [ContainerMetric] = [
        vmGauge("count", 1, \.count, unit: "processes", "Processes directly in the container counted by virtual_memory (not descendants).", name: "processes"),
        vmGauge("size", 2, \.size, "Sum of VmSize over the container's own processes, in bytes."),
        vmGauge("max_size", 3, \.maxSize, "Sum of VmPeak over the container's own processes, in bytes."),
        vmGauge("used", 4, \.used, "Sum of VmRSS over the container's own processes, in bytes."),
        vmGauge("max_used", 5, \.maxUsed, "Sum of VmHWM over the container's own processes, in bytes."),
        vmGauge("anon", 6, \.anon, "Sum of RssAnon over the container's own processes, in bytes."),
        vmGauge("file", 7, \.file, "Sum of RssFile over the container's own processes, in bytes."),
        vmGauge("shmem", 8, \.shmem, "Sum of RssShmem over the container's own processes, in bytes."),
        vmGauge("huge", 9, \.huge, "Sum of HugetlbPages over the container's own processes, in bytes."),
        vmGauge("swap", 10, \.swap, "Sum of VmSwap over the container's own processes, in bytes."),
        vmGauge("data", 11, \.data, "Sum of VmData over the container's own processes, in bytes."),
        vmGauge("stack", 12, \.stack, "Sum of VmStk over the container's own processes, in bytes."),
        vmGauge("code", 13, \.code, "Sum of VmExe and VmLib over the container's own processes, in bytes."),
        vmGauge("locked", 14, \.locked, "Sum of VmLck over the container's own processes, in bytes."),
        vmGauge("table", 15, \.table, "Sum of VmPTE and VmPMD over the container's own processes, in bytes."),
    ]

    // MARK: - Builders

    private static func nsCounter(
        _ property: String, _ number: Int, _ path: WritableKeyPath<S, UInt64>, _ controller: Controller, _ help: String
    ) -> (CollectorGroup) -> ContainerMetric {
        { group in
            ContainerMetric(
                "porto_container_\(property)_seconds_total", .counter, property: property, group: group,
                field: .status(number, path), unit: "seconds", help: help, conversion: .nanosecondsToSeconds,
                controller: controller, created: .cgroup)
        }
    }

    private static func bytesGauge(
        _ property: String, _ number: Int, _ path: WritableKeyPath<S, UInt64>, _ controller: Controller, _ help: String
    ) -> ContainerMetric {
        ContainerMetric(
            "porto_container_\(property)_bytes", .gauge, property: property, group: .memory,
            field: .status(number, path), unit: "bytes", help: help, controller: controller)
    }

    /// The families of one io map: total, per physical disk, per stacked device, `fs`.
    private static func ioMap(
        _ property: String, _ what: String, _ number: Int, _ path: WritableKeyPath<S, Porto_TUintMap>,
        _ unit: String, _ help: String, fs: Bool, stacked: Bool = true, conversion: Conversion = .none, notes: String = ""
    ) -> [ContainerMetric] {
        let field = ContainerField.map(number, path)
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
                notes: "Key `fs`: filesystem-level statistics of the memory cgroup (offstream kernels), a measure of its own, not a part of the disk total."))
        }
        return out
    }

    /// The families of one net map: total (`Uplink`), per interface, per device group.
    private static func netMap(
        _ property: String, _ what: String, _ number: Int, _ path: WritableKeyPath<S, Porto_TUintMap>,
        _ unit: String, _ help: String
    ) -> [ContainerMetric] {
        let field = ContainerField.map(number, path)
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
        _ property: String, _ number: Int, _ path: WritableKeyPath<S, Porto_TUintMap>, _ what: String
    ) -> ContainerMetric {
        ContainerMetric(
            "porto_container_\(property)_seconds_total", .counter, property: property, group: .pressure,
            field: .map(number, path), unit: "seconds",
            help: "\(what) pressure stall time of the container (PSI total), per kind (some, full), in seconds.",
            conversion: .microsecondsToSeconds, extraLabel: "kind", created: .cgroup,
            notes: "Porto gives microseconds. cgroup2 is always the container's own.")
    }

    private static func specBytes(_ property: String, _ number: Int, _ path: WritableKeyPath<P, UInt64>, _ help: String) -> ContainerMetric {
        ContainerMetric(
            "porto_container_\(property)_bytes", .gauge, property: property, group: .limits,
            field: .spec(number, path), unit: "bytes", help: help)
    }

    private static func statusBytes(_ property: String, _ number: Int, _ path: WritableKeyPath<S, UInt64>, _ help: String) -> ContainerMetric {
        ContainerMetric(
            "porto_container_\(property)_bytes", .gauge, property: property, group: .limits,
            field: .status(number, path), unit: "bytes", help: help)
    }

    private static func cores(_ property: String, _ field: ContainerField, _ help: String) -> ContainerMetric {
        ContainerMetric(
            "porto_container_\(property)_cores", .gauge, property: property, group: .limits, field: field,
            unit: "cores", help: help, notes: "Get gives `\"2.5c\"`; ListContainersBy a double.")
    }

    private static func time(
        _ property: String, _ number: Int, _ path: WritableKeyPath<S, UInt64>, _ help: String, notes: String = ""
    ) -> ContainerMetric {
        ContainerMetric(
            "porto_container_\(property)_seconds", .gauge, property: property, group: .state,
            field: .status(number, path), unit: "seconds", help: help, notes: notes)
    }

    private static func vmGauge(
        _ key: String, _ number: Int, _ path: WritableKeyPath<Porto_TVmStat, UInt64>,
        unit: String = "bytes", _ help: String, name: String? = nil
    ) -> ContainerMetric {
        ContainerMetric(
            "porto_container_virtual_memory_\(name ?? key)\(unit == "bytes" ? "_bytes" : "")", .gauge, property: "virtual_memory",
            group: .vm, field: .vm(number, path, key: key), unit: unit, help: help,
            notes: "Key `\(key)` of `virtual_memory`." + (name == nil ? "" : " Not `_count`: promtool lint reserves it for histograms and summaries."))
    }
}
