import PortoWire

/// What a request would cost portod in CPU, modelled on the measurements of docs/porto.md §7.1
/// (portod 5.3.59, cgroup v1, 171 containers of every state, CPU from portod's own cpuacct cgroup):
/// a fixed part per request, a part per container the request visits, and for each property asked
/// a part per container visited. The figures are averages over §7.1's mix of states, so the model
/// counts containers, not what each one holds; Get and ListContainersBy cost the same per
/// property (138 against 125-135 ms measured).
enum SimCostModel {
    /// The containers of §7.1's measurement: its per-property figures are per 171 containers.
    static let measuredContainers = 171.0

    /// Per request, whatever it asks (§7: Version, GetSystem and List take 0.09 ms).
    static let perRequestNanoseconds: UInt64 = 90_000

    /// Per container visited: `state` alone took 0.47 ms for 171 containers, less the fixed part.
    static let perContainerNanoseconds: UInt64 = nanoseconds(perMeasured: 0.47 - 0.09)

    /// A raw `memory.stat` through Get: 6 ms for 170 containers, 0.035 ms each with the part per
    /// container.
    static let memoryStatNanoseconds: UInt64 = 35_000 - perContainerNanoseconds

    /// Milliseconds per 171 containers that one property adds to `state` alone (§7.1). The 7
    /// memory.stat-derived properties took 49 together, anon_usage 7.4 alone: the other six share
    /// the rest. net_* took 1.3 all 16 together (portod's cache). virtual_memory was not measured:
    /// it reads /proc/PID/status of every process, here as costly as process_count.
    static let measured: [String: Double] = {
        var table: [String: Double] = [
            "cpu_usage": 2.7, "cpu_usage_system": 2.5, "cpu_throttled": 2.9, "memory_usage": 2.6,
            "io_read": 3.2, "io_write": 9.5, "io_ops": 3.0, "io_read_ops": 2.4, "io_write_ops": 2.4, "io_time": 0.8,
            "cpu_pressure": 2.8, "memory_pressure": 3.4, "io_pressure": 2.9, "cgroups": 1.9,
            "process_count": 22.3, "thread_count": 12.0, "virtual_memory": 22.3, "anon_usage": 7.4, "state": 0,
        ]
        for name in ["cache_usage", "shmem_usage", "mlock_usage", "minor_faults", "major_faults", "memory_reclaimed"] {
            table[name] = (49 - 7.4) / 6
        }
        for name in SimPropertyTable.network.map(\.name) { table[name] = 1.3 / 16 }
        return table
    }()

    /// Every other property: "nearly free (≤ 0.1)": limits, guarantees, labels, times, oom_kills.
    static let otherMeasured = 0.1

    static func nanoseconds(perMeasured milliseconds: Double) -> UInt64 {
        UInt64((milliseconds * 1_000_000 / measuredContainers).rounded())
    }

    /// Nanoseconds per container visited for one property or variable (a `name[key]` costs what
    /// `name` does).
    static func propertyNanoseconds(_ name: String) -> UInt64 {
        var base = Substring(name)
        if let open = base.firstIndex(of: "[") { base = base[..<open] }
        if base == "memory.stat" { return memoryStatNanoseconds }
        return nanoseconds(perMeasured: measured[String(base)] ?? otherMeasured)
    }

    /// The modelled cost of one request that visits `containers` containers for `properties`.
    static func cost(containers: Int, properties: [String]) -> UInt64 {
        var perContainer = perContainerNanoseconds
        for p in properties { perContainer += propertyNanoseconds(p) }
        return perRequestNanoseconds + UInt64(containers) * perContainer
    }
}

extension SimHost {
    /// What `request` would cost portod, in nanoseconds of CPU (``SimCostModel``). ListContainersBy
    /// visits the containers its filters match (an empty property list means all of them, §7), Get
    /// its named containers and those its masks match; other requests cost the fixed part.
    public func modelledCost(of request: Porto_TPortoRequest) -> UInt64 {
        if missingMethods.contains(request.methodName) { return SimCostModel.perRequestNanoseconds }
        let now = options.clock.now
        let world = lock.withLock { currentWorld(now: now) }
        if request.hasListContainersBy {
            let req = request.listContainersBy
            var properties = req.fieldOptions.properties
            if properties.isEmpty { properties = SimPropertyTable.all.map(\.name) }
            let everything = !req.filters.isEmpty && req.filters.allSatisfy { $0.name == "***" && $0.labels.map.isEmpty }
            let visited = everything
                ? world.containers.count
                : Self.lcbPlan(req, world: world)?.entries.count ?? 0
            return SimCostModel.cost(containers: visited, properties: properties)
        }
        if request.hasGet {
            let req = request.get
            var visited = 0
            var masks: [String] = []
            for name in req.name {
                if SimMask.isMask(name) { masks.append(name) } else { visited += 1 }
            }
            if masks.contains("***") {
                visited += world.containers.count - 1
            } else if !masks.isEmpty {
                for c in world.containers.dropFirst() where masks.contains(where: { SimMask.matches(c.name, mask: $0) }) {
                    visited += 1
                }
            }
            return SimCostModel.cost(containers: visited, properties: req.variable)
        }
        if request.hasGetProperty {
            return SimCostModel.cost(containers: 1, properties: [request.getProperty.property])
        }
        return SimCostModel.perRequestNanoseconds
    }
}
