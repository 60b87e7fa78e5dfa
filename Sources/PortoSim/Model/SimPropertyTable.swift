import PortoWire

/// The catalogue of container properties the synthetic host serves: one entry per property, with
/// its availability, its controller, its value and where ListContainersBy puts it (docs/porto.md §3.3).
enum SimPropertyTable {
    static let all: [SimProperty] = identity + cpu + memory + processes + io + network + spec
    static let byName: [String: Int] = {
        var map: [String: Int] = [:]
        for (i, p) in all.enumerated() { map[p.name] = i }
        return map
    }()

    private static let ncpu = Double(SimTopology.hostCPUs)

    private static func absolute(_ name: String) -> String { name == "/" ? "/" : "/porto/" + name }

    // MARK: - Identity, state, times

    static let identity: [SimProperty] = [
        SimProperty("absolute_name", "container name including porto namespaces", fill: SimProperty.status(\.absoluteName)) {
            .string(absolute($0.c.name))
        },
        SimProperty("state", "container state", fill: SimProperty.status(\.state)) { .string($0.c.state.rawValue) },
        SimProperty("id", "container id", fill: SimProperty.status(\.id)) { .uint($0.c.id) },
        SimProperty("level", "container level", fill: SimProperty.status(\.level)) { .uint(UInt64($0.c.level)) },
        // "" in Get and unset in ListContainersBy for "/"; "/" for first-level containers.
        SimProperty("parent", "parent container absolute name", fill: SimProperty.status(\.parent)) { ctx in
            guard let parent = ctx.c.parentName else { return .none }
            return .string(absolute(parent))
        },
        SimProperty("absolute_namespace", "container namespace including parent namespaces", fill: SimProperty.status(\.absoluteNamespace)) { _ in
            .string("/porto/")
        },
        SimProperty("root_pid", "main task pid", .runtime, fill: SimProperty.status(\.rootPid)) { .int(Int64($0.c.rootPid)) },
        SimProperty("exit_status", "container exit status", .deadOnly, fill: SimProperty.status(\.exitStatus)) {
            .int(Int64($0.c.exit?.status ?? 0))
        },
        SimProperty("exit_code", "container exit code, negative: exit signal, -99: OOM", .deadOnly, fill: SimProperty.status(\.exitCode)) {
            .int(Int64($0.c.exit?.code ?? 0))
        },
        SimProperty("core_dumped", "main task dumped core at exit", .deadOnly, fill: SimProperty.status(\.coreDumped)) {
            .bool($0.c.exit?.coreDumped ?? false)
        },
        SimProperty("oom_killed", "container has been killed by OOM", .deadOnly, fill: SimProperty.status(\.oomKilled)) {
            .bool($0.c.exit?.oomKilled ?? false)
        },
        SimProperty("start_error", "last start error", fill: .custom(status: \.startError, probe: Porto_TError()) { b, v in
            if case .string(let text) = v {
                var error = Porto_TError()
                error.error = .invalidCommand
                error.msg = text
                b.status.startError = error
                b.hasStatus = true
            }
        }) { ctx in ctx.c.startError.map { .string($0) } ?? .none },
        // ListContainersBy also sets dead_time (seconds since death) next to time for dead ones.
        SimProperty("time", "running time [seconds]", fill: .custom(status: \.time, probe: 0, kind: .uint64(acceptsTime: false)) { b, v in
            guard case .uint(let x) = v else { return }
            b.status.time = x
            b.hasStatus = true
        }) { ctx in .uint(runningTime(ctx)) },
        SimProperty("creation_time", "creation time", fill: SimProperty.status(\.creationTime)) { .time($0.c.creationTime) },
        SimProperty("start_time", "start time", fill: SimProperty.status(\.startTime)) { ctx in
            ctx.c.startTime.map { .time($0) } ?? .none
        },
        SimProperty("death_time", "death time", .deadOnly, fill: SimProperty.status(\.deathTime)) { ctx in
            .time(ctx.c.deathTime ?? ctx.now)
        },
        SimProperty("change_time", "time of last config change", fill: SimProperty.status(\.changeTime)) { .time($0.c.changeTime) },
        SimProperty("cgroups", "cgroup paths", fill: .custom(status: \.cgroups, probe: Porto_TContainerCgroups(), kind: .cgroups) { b, v in
            guard case .cgroups(let set) = v else { return }
            b.status.cgroups = set.message
            b.hasStatus = true
        }) { .cgroups($0.c.cgroupSet) },
        SimProperty("place_usage", "stub since 5.3.48", fill: nil) { _ in .none },
        SimProperty("taint", "container problems", fill: nil) { _ in .none },
    ]

    /// `time` (docs/porto.md §3.3): running → now − start, dead → run length, stopped → 0, "/" → uptime.
    static func runningTime(_ ctx: SimContext) -> UInt64 {
        let c = ctx.c
        guard let start = c.startTime, c.hasRuntime else { return 0 }
        let end: UInt64 = c.state == .dead ? (c.deathTime ?? ctx.now) : ctx.now
        return end > start ? end - start : 0
    }

    // MARK: - CPU

    static let cpu: [SimProperty] = [
        SimProperty("cpu_usage", "consumed CPU time [nanoseconds]", .runtime, controllers: .cpuacct, fill: SimProperty.status(\.cpuUsage)) {
            .uint($0.read(.cpuacct, SimSlots.cpu))
        },
        SimProperty("cpu_usage_system", "consumed system CPU time [nanoseconds]", .runtime, controllers: .cpuacct, fill: SimProperty.status(\.cpuUsageSystem)) {
            .uint($0.read(.cpuacct, SimSlots.cpuSystem))
        },
        SimProperty("cpu_wait", "CPU time waited for execution [nanoseconds]", .unsupported, controllers: .cpuacct, fill: SimProperty.status(\.cpuWait)) { _ in .none },
        SimProperty("cpu_throttled", "throttled CPU time [nanoseconds]", .runtime, controllers: .cpu, fill: SimProperty.status(\.cpuThrottled)) {
            .uint($0.read(.cpu, SimSlots.cpuThrottled))
        },
        SimProperty("cpu_burst_usage", "CPU burst usage [nanoseconds]", .unsupported, controllers: .cpu, fill: nil) { _ in .none },
        SimProperty("cpu_unconstrained_wait", "unconstrained wait [nanoseconds]", .unsupported, controllers: .cpu, fill: nil) { _ in .none },
        SimProperty("cpu_pressure", "CPU pressure stall time [microseconds]", .runtime, controllers: .cgroup2, fill: SimProperty.status(\.cpuPressure)) {
            .uintMap([("full", $0.read(.cgroup2, SimSlots.cpuPressureFull)), ("some", $0.read(.cgroup2, SimSlots.cpuPressureSome))])
        },
        SimProperty("cpu_limit", "CPU limit: 0-100.0 [%] | 0.0c-<CPUS>c [cores]", readOnly: false, controllers: .cpu,
                    isSet: { $0.isRoot || $0.c.cpuLimit != nil }, fill: SimProperty.spec(\.cpuLimit)) { ctx in
            .cores(ctx.isRoot ? ncpu : ctx.c.cpuLimit ?? 0)
        },
        SimProperty("cpu_guarantee", "CPU guarantee: 0-100.0 [%] | 0.0c-<CPUS>c [cores]", readOnly: false, controllers: .cpu,
                    isSet: { $0.isRoot || $0.c.cpuGuarantee != nil }, fill: SimProperty.spec(\.cpuGuarantee)) { ctx in
            .cores(ctx.isRoot ? ncpu : ctx.c.cpuGuarantee ?? 0)
        },
        SimProperty("cpu_limit_total", "CPU total limit [cores]", fill: SimProperty.status(\.cpuLimitTotal)) { .cores(cpuLimitBound($0)) },
        SimProperty("cpu_limit_bound", "CPU limit bound [cores]", fill: SimProperty.status(\.cpuLimitBound)) { .cores(cpuLimitBound($0)) },
        SimProperty("cpu_guarantee_total", "CPU total guarantee [cores]", fill: SimProperty.status(\.cpuGuaranteeTotal)) {
            .cores(cpuGuaranteeBound($0.world, $0.i))
        },
        SimProperty("cpu_guarantee_bound", "CPU guarantee bound [cores]", fill: SimProperty.status(\.cpuGuaranteeBound)) {
            .cores(cpuGuaranteeBound($0.world, $0.i))
        },
        SimProperty("cpu_set_affinity", "resulting CPU affinity", fill: .custom(status: \.cpuSetAffinity, probe: Porto_TContainerCpuSet()) { b, v in
            guard case .string(let list) = v else { return }
            var set = Porto_TContainerCpuSet()
            set.list = list
            set.count = UInt32(SimTopology.hostCPUs)
            b.status.cpuSetAffinity = set
            b.hasStatus = true
        }) { _ in .string("0-\(SimTopology.hostCPUs - 1)") },
        SimProperty("cpu_policy", "CPU policy: rt, high, normal, batch, idle", readOnly: false, fill: SimProperty.spec(\.cpuPolicy)) { _ in
            .string("normal")
        },
        SimProperty("cpu_weight", "CPU weight 0.01..100", readOnly: false, fill: .custom(spec: \.cpuWeight, probe: 0) { b, v in
            if case .uint(let x) = v { b.spec.cpuWeight = Double(x) }
        }) { _ in .uint(1) },
    ]

    /// Smallest non-zero limit of the container and its ancestors (not "/"), or the CPU count.
    static func cpuLimitBound(_ ctx: SimContext) -> Double {
        var bound = ncpu
        var at = ctx.i
        while at > 0 {
            if let limit = ctx.world.containers[at].cpuLimit, limit > 0 { bound = min(bound, limit) }
            at = ctx.world.parents[at]
        }
        return bound
    }

    /// min(own, parent's bound) when the container owns `cpu`, otherwise the parent's bound; "/"
    /// has the CPU count.
    static func cpuGuaranteeBound(_ world: SimWorld, _ i: Int) -> Double {
        guard i > 0 else { return ncpu }
        let parentBound = cpuGuaranteeBound(world, world.parents[i])
        let c = world.containers[i]
        guard c.controllers.contains(.cpu) else { return parentBound }
        return min(c.cpuGuarantee ?? 0, parentBound)
    }

    // MARK: - Memory

    static let memory: [SimProperty] = [
        SimProperty("memory_usage", "current memory usage [bytes]", .runtime, controllers: .memory, fill: SimProperty.status(\.memoryUsage)) {
            .uint($0.read(.memory, SimSlots.memoryUsage))
        },
        SimProperty("anon_usage", "anonymous memory usage [bytes]", .runtime, controllers: .memory, fill: SimProperty.status(\.anonUsage)) {
            .uint($0.read(.memory, SimSlots.anonUsage))
        },
        SimProperty("cache_usage", "file cache usage [bytes]", .runtime, controllers: .memory, fill: SimProperty.status(\.cacheUsage)) {
            .uint($0.read(.memory, SimSlots.cacheUsage))
        },
        SimProperty("shmem_usage", "shmem and tmpfs usage [bytes]", .runtime, controllers: .memory, fill: SimProperty.status(\.shmemUsage)) {
            .uint($0.read(.memory, SimSlots.shmemUsage))
        },
        SimProperty("mlock_usage", "locked memory [bytes]", .runtime, controllers: .memory, fill: SimProperty.status(\.mlockUsage)) {
            .uint($0.read(.memory, SimSlots.mlockUsage))
        },
        // ListContainersBy bug kept from portod (docs/porto.md §3.3): the field is set only when 0.
        SimProperty("hugetlb_usage", "HugeTLB memory usage [bytes]", .runtime, controllers: .hugetlb, fill: .custom(status: \.hugetlbUsage, probe: 0) { b, v in
            if case .uint(let x) = v, x == 0 { b.status.hugetlbUsage = 0; b.hasStatus = true }
        }) { .uint($0.read(.hugetlb, SimSlots.hugetlbUsage)) },
        SimProperty("minor_faults", "minor page faults", .runtime, controllers: .memory, fill: SimProperty.status(\.minorFaults)) {
            .uint($0.read(.memory, SimSlots.minorFaults))
        },
        SimProperty("major_faults", "major page faults", .runtime, controllers: .memory, fill: SimProperty.status(\.majorFaults)) {
            .uint($0.read(.memory, SimSlots.majorFaults))
        },
        // total_pgpgout × 4096, a key cgroup v2 does not have (docs/porto.md §3.3).
        SimProperty("memory_reclaimed", "memory reclaimed from container [bytes]", .runtime, controllers: .memory, fill: SimProperty.status(\.memoryReclaimed)) {
            .uint($0.world.cgroupV2 ? 0 : $0.read(.memory, SimSlots.reclaimed))
        },
        SimProperty("virtual_memory", "virtual memory of processes directly in the container", .runtime, controllers: .freezer, fill: .custom(status: \.virtualMemory, probe: Porto_TVmStat()) { b, v in
            guard case .uintMap(let entries) = v else { return }
            var vm = Porto_TVmStat()
            for (key, value) in entries {
                switch key {
                case "count": vm.count = value
                case "size": vm.size = value
                case "max_size": vm.maxSize = value
                case "used": vm.used = value
                case "max_used": vm.maxUsed = value
                case "anon": vm.anon = value
                case "file": vm.file = value
                case "shmem": vm.shmem = value
                case "huge": vm.huge = value
                case "swap": vm.swap = value
                case "data": vm.data = value
                case "stack": vm.stack = value
                case "code": vm.code = value
                case "locked": vm.locked = value
                case "table": vm.table = value
                default: break
                }
            }
            b.status.virtualMemory = vm
            b.hasStatus = true
        }) { virtualMemory($0) },
        SimProperty("memory_limit", "memory limit [bytes]", readOnly: false, controllers: .memory,
                    isSet: { $0.isRoot || $0.c.memoryLimit != nil }, fill: SimProperty.spec(\.memoryLimit)) { ctx in
            .uint(ctx.c.memoryLimit ?? 0)
        },
        SimProperty("memory_limit_total", "effective memory limit [bytes]", fill: SimProperty.status(\.memoryLimitTotal)) { ctx in
            var bound = SimTopology.hostMemory
            var at = ctx.i
            while at > 0 {
                if let limit = ctx.world.containers[at].memoryLimit, limit > 0 { bound = min(bound, limit) }
                at = ctx.world.parents[at]
            }
            return .uint(bound)
        },
        SimProperty("memory_guarantee", "guaranteed amount of memory [bytes]", readOnly: false, .unsupported, controllers: .memory, fill: SimProperty.spec(\.memoryGuarantee)) { _ in .none },
        SimProperty("memory_guarantee_total", "effective memory guarantee [bytes]", .unsupported, fill: SimProperty.status(\.memoryGuaranteeTotal)) { _ in .none },
        SimProperty("anon_limit", "anonymous memory limit [bytes]", readOnly: false, .unsupported, controllers: .memory, fill: SimProperty.spec(\.anonLimit)) { _ in .none },
        SimProperty("anon_limit_total", "effective anonymous memory limit [bytes]", .unsupported, fill: SimProperty.status(\.anonLimitTotal)) { _ in .none },
        SimProperty("anon_max_usage", "peak anonymous memory usage [bytes]", readOnly: false, .unsupported, controllers: .memory, fill: SimProperty.spec(\.anonMaxUsage)) { _ in .none },
        SimProperty("memory_pressure", "memory pressure stall time [microseconds]", .runtime, controllers: .cgroup2, fill: SimProperty.status(\.memoryPressure)) {
            .uintMap([("full", $0.read(.cgroup2, SimSlots.memoryPressureFull)), ("some", $0.read(.cgroup2, SimSlots.memoryPressureSome))])
        },
        // Only containers that own memory count kills; the others stay at 0 (docs/porto.md §3.3).
        SimProperty("oom_kills", "count of tasks killed by OOM since start", controllers: .memory,
                    isSet: { $0.c.oomKills > 0 }, fill: SimProperty.status(\.oomKills)) { ctx in
            .uint(ctx.c.controllers.contains(.memory) || ctx.isRoot ? ctx.c.oomKills : 0)
        },
        SimProperty("oom_kills_total", "count of tasks killed by OOM since creation, with descendants", fill: SimProperty.status(\.oomKillsTotal)) {
            .uint($0.c.oomKillsTotal)
        },
        SimProperty("hugetlb_limit", "HugeTLB memory limit [bytes]", readOnly: false, controllers: .hugetlb,
                    isSet: { $0.isRoot || $0.c.hugetlbLimit != nil }, fill: SimProperty.spec(\.hugetlbLimit)) { ctx in
            .uint(ctx.c.hugetlbLimit ?? 0)
        },
    ]

    /// Non-recursive: only the container's own processes; `count` is left out when there are none.
    static func virtualMemory(_ ctx: SimContext) -> SimValue {
        let c = ctx.c
        let processes = c.isActive || c.state == .paused ? c.profile.processes : 0
        let rss = processes == 0 ? 0 : c.profile.memory / 100 * SimWorld.wobble(ctx.now, c.id)
        let anon = rss / 1000 * c.profile.anonPermille
        var entries: [(String, UInt64)] = [
            ("anon", anon), ("code", processes * 6 << 20), ("data", anon + processes * (2 << 20)),
            ("file", rss - anon), ("huge", 0), ("locked", min(c.profile.mlock, anon)),
            ("max_size", processes * (512 << 20) + rss * 2), ("max_used", rss + rss / 4),
            ("shmem", processes == 0 ? 0 : c.profile.shmem), ("size", processes * (384 << 20) + rss * 2),
            ("stack", processes * 132 << 10), ("swap", 0), ("table", processes * 96 << 10), ("used", rss),
        ]
        if processes > 0 { entries.insert(("count", processes), at: 2) }
        return .uintMap(entries)
    }

    // MARK: - Processes

    static let processes: [SimProperty] = [
        // Walks the whole freezer subtree, so it includes nested containers.
        SimProperty("process_count", "process count", .runtime, controllers: .freezer, fill: SimProperty.status(\.processCount)) {
            .uint($0.read(.freezer, SimSlots.processes))
        },
        SimProperty("thread_count", "thread count", .runtime, controllers: [.freezer, .pids], fill: SimProperty.status(\.threadCount)) { ctx in
            .uint(ctx.c.controllers.contains(.pids) ? ctx.read(.pids, SimSlots.threads) : ctx.read(.freezer, SimSlots.threads))
        },
        // Get returns "" when unset; first-level containers get the default 10000.
        SimProperty("thread_limit", "thread limit", readOnly: false, controllers: .pids,
                    isSet: { $0.c.threadLimit != nil }, fill: SimProperty.spec(\.threadLimit)) { ctx in
            if let limit = ctx.c.threadLimit { return .uint(limit) }
            return ctx.c.level == 1 ? .uint(10_000) : .none
        },
    ]

    // MARK: - Disk IO

    static let io: [SimProperty] = [
        ioProperty("io_read", "bytes read from disk", .read, fs: true, writeback: false, \.ioRead),
        ioProperty("io_write", "bytes written to disk", .write, fs: true, writeback: true, \.ioWrite),
        ioProperty("io_ops", "disk operations", .ops, fs: true, writeback: false, \.ioOps),
        ioProperty("io_read_ops", "disk read operations", .readOps, fs: false, writeback: false, \.ioReadOps),
        ioProperty("io_write_ops", "disk write operations", .writeOps, fs: false, writeback: false, \.ioWriteOps),
        // Empty on mainline kernels without CFQ/BFQ (docs/porto.md §3.3).
        SimProperty("io_time", "disk io time [nanoseconds]", .runtime, controllers: [.blkio, .memory], fill: SimProperty.status(\.ioTime)) { _ in
            .uintMap([])
        },
        SimProperty("io_pressure", "io pressure stall time [microseconds]", .runtime, controllers: .cgroup2, fill: SimProperty.status(\.ioPressure)) {
            .uintMap([("full", $0.read(.cgroup2, SimSlots.ioPressureFull)), ("some", $0.read(.cgroup2, SimSlots.ioPressureSome))])
        },
        // Get renders a bare number when only "fs" is set.
        SimProperty("io_limit", "IO bandwidth limit [bytes/s]", readOnly: false, controllers: .blkio,
                    isSet: { $0.c.ioLimit != nil }, fill: SimProperty.spec(\.ioLimit)) { ctx in
            guard let limit = ctx.c.ioLimit else { return .uint(0) }
            if limit.count == 1, limit[0].0 == "fs" { return .uint(limit[0].1) }
            return .uintMap(limit)
        },
    ]

    /// Keys: the disks used in the blkio owner's subtree, `hw` (sd*, nvme*, vd* only), `fs` from
    /// the memory owner, and for io_write `total_writeback` (a gauge) from the memory owner.
    private static func ioProperty(
        _ name: String, _ desc: String, _ map: SimSlots.IOMap, fs: Bool, writeback: Bool,
        _ kp: WritableKeyPath<Porto_TContainerStatus, Porto_TUintMap>
    ) -> SimProperty {
        SimProperty(name, desc, .runtime, controllers: [.blkio, .memory], fill: SimProperty.status(kp)) { ctx in
            let owner = ctx.world.owner(of: ctx.i, .blkio)
            let mask = ctx.world.diskMasks[owner]
            var entries: [(String, UInt64)] = []
            var hw: UInt64 = 0
            for (d, disk) in SimSlots.disks.enumerated() where mask & (1 << d) != 0 {
                let v = ctx.world.value(owner, SimSlots.io(map, disk: d))
                entries.append((disk, v))
                if SimSlots.hwDisks[d] { hw &+= v }
            }
            if fs { entries.append(("fs", ctx.read(.memory, SimSlots.ioFS(map)))) }
            entries.append(("hw", hw))
            if writeback { entries.append(("total_writeback", ctx.read(.memory, SimSlots.writeback))) }
            entries.sort { simNameLess($0.0, $1.0) }
            return .uintMap(entries)
        }
    }

    // MARK: - Network

    enum NetStat { case rxBytes, rxPackets, rxDrops, txBytes, txPackets, txDrops, rxErrors, txErrors }

    static let network: [SimProperty] = [
        netProperty("net_rx_bytes", "received bytes", .rxBytes, \.netRxBytes),
        netProperty("net_rx_packets", "received packets", .rxPackets, \.netRxPackets),
        netProperty("net_rx_drops", "dropped received packets", .rxDrops, \.netRxDrops),
        netProperty("net_tx_bytes", "transmitted bytes", .txBytes, \.netTxBytes),
        netProperty("net_tx_packets", "transmitted packets", .txPackets, \.netTxPackets),
        netProperty("net_tx_drops", "dropped transmitted packets", .txDrops, \.netTxDrops),
        // With net_cls classes disabled (the default since 5.0.31) these repeat the tx counters,
        // and net_overlimits gives tx errors.
        netProperty("net_bytes", "tx bytes (tc classes)", .txBytes, \.netBytes),
        netProperty("net_packets", "tx packets (tc classes)", .txPackets, \.netPackets),
        netProperty("net_drops", "tx drops (tc classes)", .txDrops, \.netDrops),
        netProperty("net_overlimits", "tx overlimits (tc classes)", .txErrors, \.netOverlimits),
        netProperty("net_rx_overlimits", "rx overlimits", .rxErrors, \.netRxOverlimits),
    ]

    private static func netProperty(
        _ name: String, _ desc: String, _ stat: NetStat, _ kp: WritableKeyPath<Porto_TContainerStatus, Porto_TUintMap>
    ) -> SimProperty {
        SimProperty(name, desc, .runtime, isNetwork: true, fill: SimProperty.status(kp)) { netMap($0, stat) }
    }

    /// Device counters of the container's network namespace, or sock-diag `Uplink`/`Latency` for
    /// containers in the host's namespace (docs/porto.md §3.3 Network).
    static func netMap(_ ctx: SimContext, _ stat: NetStat) -> SimValue {
        let world = ctx.world
        let owner = world.netOwner[ctx.i]
        if owner == 0 && !ctx.isRoot {
            // Sock-diag: Uplink = TCP traffic of the subtree's own sockets, Latency = ms since the
            // last sock-diag poll (every 5 s); it grows without limit when not running.
            let c = ctx.c
            let latency: UInt64
            if c.isActive {
                latency = (ctx.now % 5) * 1000 + c.id * 37 % 1000
            } else {
                latency = (ctx.now - (c.stopTime ?? c.startTime ?? ctx.now)) * 1000 + c.id * 37 % 1000
            }
            let uplink: UInt64
            switch stat {
            case .rxBytes: uplink = world.value(ctx.i, SimSlots.sockRxBytes)
            case .txBytes: uplink = world.value(ctx.i, SimSlots.sockTxBytes)
            case .rxPackets: uplink = world.value(ctx.i, SimSlots.sockRxPackets)
            case .txPackets: uplink = world.value(ctx.i, SimSlots.sockTxPackets)
            default: return .uintMap([])
            }
            return .uintMap([("Latency", latency), ("Uplink", uplink)])
        }
        let o = world.containers[owner]
        let devices: [String]
        if case .own(_, let devs) = o.net { devices = devs } else { devices = ["eth0", "eth1"] }
        let run = o.runSeconds(now: ctx.now) ?? 0
        var entries: [(String, UInt64)] = []
        var total: UInt64 = 0
        for (d, device) in devices.enumerated() {
            let bytes = o.profile.netRate / UInt64(d + 1) &* run
            let v: UInt64
            switch stat {
            case .rxBytes: v = bytes
            case .txBytes: v = bytes / 2
            case .rxPackets: v = bytes / 1200
            case .txPackets: v = bytes / 2 / 900
            case .rxDrops: v = bytes / 50_000_000
            case .txDrops: v = bytes / 90_000_000
            case .rxErrors: v = bytes / 700_000_000
            case .txErrors: v = 0
            }
            entries.append((device, v))
            total &+= v
        }
        entries.append(("Uplink", total))
        entries.append(("group default", total))
        if owner == 0 {
            let sock: UInt64
            switch stat {
            case .rxBytes: sock = world.value(0, SimSlots.sockRxBytes)
            case .txBytes: sock = world.value(0, SimSlots.sockTxBytes)
            case .rxPackets: sock = world.value(0, SimSlots.sockRxPackets)
            case .txPackets: sock = world.value(0, SimSlots.sockTxPackets)
            default: sock = 0
            }
            entries.append(("SockDiag", sock))
        }
        entries.sort { simNameLess($0.0, $1.0) }
        return .uintMap(entries)
    }

    // MARK: - Spec (settable) properties

    static let spec: [SimProperty] = [
        SimProperty("labels", "user-defined labels", readOnly: false, isSet: { !$0.c.labels.isEmpty }, fill: .custom(spec: \.labels, probe: Porto_TStringMap(), kind: .labels) { b, v in
            if case .labels(let set) = v { b.spec.labels = set.message }
        }) { ctx in ctx.c.labels.isEmpty ? .none : .labels(ctx.c.labelSet) },
        SimProperty("controllers", "cgroup controllers", readOnly: false, fill: .custom(spec: \.controllers, probe: Porto_TContainerControllers()) { b, v in
            if case .controllers(let names) = v {
                var controllers = Porto_TContainerControllers()
                controllers.controller = names
                b.spec.controllers = controllers
            }
        }) { .controllers($0.c.controllers.names) },
        SimProperty("command", "command executed upon container start", readOnly: false, fill: SimProperty.spec(\.command)) { .string($0.c.command) },
        SimProperty("virt_mode", "virtualization mode: app|os|job|host", readOnly: false, fill: SimProperty.spec(\.virtMode)) { .string($0.c.virtMode) },
        SimProperty("owner_user", "container owner user", readOnly: false, fill: SimProperty.spec(\.ownerUser)) { .string($0.c.ownerUser) },
        SimProperty("owner_group", "container owner group", readOnly: false, fill: SimProperty.spec(\.ownerGroup)) { .string($0.c.ownerGroup) },
        SimProperty("respawn", "automatically respawn dead container", readOnly: false, fill: SimProperty.spec(\.respawn)) { .bool($0.c.respawn) },
        SimProperty("respawn_count", "current respawn count", readOnly: false, fill: SimProperty.spec(\.respawnCount)) { .uint($0.c.respawnCount) },
        SimProperty("max_respawns", "limit for automatic respawns, -1: unlimited", readOnly: false, fill: SimProperty.spec(\.maxRespawns)) { _ in .int(-1) },
        SimProperty("aging_time", "time to keep dead container [seconds]", readOnly: false, fill: SimProperty.spec(\.agingTime)) { _ in .uint(86_400) },
        SimProperty("enable_porto", "access to porto", readOnly: false, fill: SimProperty.spec(\.enablePorto)) { _ in .string("true") },
        SimProperty("isolate", "new pid namespace", readOnly: false, fill: SimProperty.spec(\.isolate)) { _ in .bool(true) },
        SimProperty("weak", "destroy container when client disconnects", readOnly: false, fill: SimProperty.spec(\.weak)) { _ in .bool(false) },
        SimProperty("net", "network configuration", readOnly: false, fill: .custom(spec: \.net, probe: Porto_TContainerNetConfig()) { b, v in
            guard case .string(let text) = v else { return }
            var option = Porto_TContainerNetOption()
            let words = text.split(separator: " ").map(String.init)
            option.opt = words.first ?? "inherited"
            option.arg = Array(words.dropFirst())
            var config = Porto_TContainerNetConfig()
            config.cfg = [option]
            config.inherited = text == "inherited"
            b.spec.net = config
        }) { ctx in
            if ctx.isRoot { return .string("host") }
            if case .own(let config, _) = ctx.c.net { return .string(config) }
            return .string("inherited")
        },
    ]
}
