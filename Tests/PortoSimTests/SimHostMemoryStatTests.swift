import Testing
import PortoWire
@testable import PortoSim

/// `Get` of the raw knob `memory.stat` (docs/porto.md §3.1, §7.1): the kernel's file from the
/// effective memory cgroup, consistent with the derived properties by portod's formulas.
@Suite struct SimHostMemoryStatTests {
    static let derived = ["anon_usage", "cache_usage", "shmem_usage", "mlock_usage", "minor_faults", "major_faults", "memory_reclaimed"]

    static func host(cgroupV2: Bool = false, unknown: Set<String> = []) -> SimHost {
        SimHost(options: SimOptions(containers: 120, cgroupV2: cgroupV2, unknownProperties: unknown, clock: .fixed(epochSeconds: Sim.epoch)))
    }

    /// The file's `key value` lines, in order.
    static func parse(_ text: String) -> [(String, UInt64)] {
        text.split(separator: "\n").map { line in
            let parts = line.split(separator: " ")
            return (String(parts[0]), UInt64(parts[1])!)
        }
    }

    /// What portod's formulas make of the file (its source, cgroup.cpp and property.cpp).
    static func formulas(_ stat: [String: UInt64], v2: Bool) -> [String: UInt64] {
        func k(_ name: String) -> UInt64 { stat[v2 ? name : "total_" + name] ?? 0 }
        return [
            "anon_usage": v2 ? stat["anon"] ?? 0 : k("inactive_anon") + k("active_anon") + k("unevictable") + k("swap"),
            "cache_usage": k("inactive_file") + k("active_file"),
            "shmem_usage": k("shmem"),
            "mlock_usage": k("unevictable"),
            "minor_faults": k("pgfault") - k("pgmajfault"),
            "major_faults": k("pgmajfault"),
            "memory_reclaimed": (stat["total_pgpgout"] ?? 0) * 4096,
        ]
    }

    @Test(arguments: [false, true])
    func derivedPropertiesAreThoseOfTheFile(v2: Bool) throws {
        let host = Self.host(cgroupV2: v2)
        let answer = Sim.get(host, ["/", "***"], ["memory.stat", "memory_usage"] + Self.derived)
        var read = 0
        for entry in answer.list {
            let values = Dictionary(uniqueKeysWithValues: entry.keyval.map { ($0.variable, $0) })
            let stat = try #require(values["memory.stat"])
            guard stat.error == .success else {
                // Only where runtime values are unavailable, and the derived ones fail alike.
                #expect(stat.error == .invalidState, "\(entry.name)")
                #expect(stat.errorMsg == "Not available in stopped state: memory.stat")
                #expect(values["anon_usage"]?.error == .invalidState)
                continue
            }
            read += 1
            #expect(stat.value.hasSuffix("\n"))
            let lines = Self.parse(stat.value)
            let keys = lines.map(\.0)
            #expect(Set(keys).count == keys.count, "a key repeated")
            let dict = Dictionary(uniqueKeysWithValues: lines)
            if v2 {
                #expect(keys.first == "anon" && keys.contains("inactive_file") && keys.contains("pgmajfault"))
                #expect(!keys.contains { $0.hasPrefix("total_") })
            } else {
                #expect(keys.first == "cache" && keys.contains("hierarchical_memory_limit"))
                #expect(keys.filter { $0.hasPrefix("total_") }.count == keys.firstIndex(of: "hierarchical_memory_limit")!)
            }
            for (name, value) in Self.formulas(dict, v2: v2) {
                #expect(values[name]?.value == String(value), "\(entry.name) \(name)")
            }
            // rss + cache (v2: anon + file) is the usage, but for the rounding of usages kept
            // under ancestors' limits, summed up the tree.
            let usage = try #require(UInt64(values["memory_usage"]!.value))
            let sum = v2 ? dict["anon"]! + dict["file"]! : dict["total_rss"]! + dict["total_cache"]!
            #expect(sum <= usage && usage - sum <= 16 + usage / 1_000_000, "\(entry.name) \(usage) \(sum)")
        }
        #expect(read > 60)
        if v2 {
            #expect(answer.list.contains { e in e.keyval.contains { $0.variable == "memory_reclaimed" && $0.value == "0" } })
        }
    }

    /// A container without its own memory cgroup reads its nearest owning ancestor's file
    /// (docs/porto.md §4, §7.1).
    @Test func nonOwnersReadTheirOwnersFile() throws {
        let host = Self.host()
        let all = Sim.lcb(host, ["***"], ["cgroups", "state"])
        let byName = Dictionary(uniqueKeysWithValues: all.map { ($0.spec.name, $0) })
        var checked = 0
        for c in all where c.spec.name != "/" {
            guard let memory = c.status.cgroups.cgroup.first(where: { $0.controller == "memory" }), memory.inherited else { continue }
            guard c.status.state != "stopped", c.status.state != "starting" else { continue }
            var owner = c.spec.name
            while let o = byName[owner], o.status.cgroups.cgroup.first(where: { $0.controller == "memory" })?.inherited == true {
                owner = owner.lastIndex(of: "/").map { String(owner[..<$0]) } ?? "/"
            }
            let mine = try #require(Sim.value(host, c.spec.name, "memory.stat"))
            let theirs = try #require(Sim.value(host, owner, "memory.stat"))
            #expect(mine.error == .success)
            #expect(mine.value == theirs.value, "\(c.spec.name) reads \(owner)'s file")
            checked += 1
        }
        #expect(checked >= 3)
    }

    /// v1: the non-`total_` keys are the cgroup's own pages; with memory-owning children they are
    /// below the `total_` ones by what the children hold.
    @Test func ownKeysLeaveOutMemoryOwningChildren() throws {
        let host = Self.host()
        let stat = Dictionary(uniqueKeysWithValues: Self.parse(try #require(Sim.value(host, "/", "memory.stat")).value))
        #expect(stat["total_cache"]! > stat["cache"]!)
        #expect(stat["total_pgfault"]! > stat["pgfault"]!)
        #expect(stat["hierarchical_memory_limit"] == 9_223_372_036_854_771_712)
    }

    @Test func otherKnobsAndStoppedContainers() throws {
        let host = Self.host()
        let unknown = try #require(Sim.value(host, "/", "memory.nonexistent"))
        #expect(unknown.error == .invalidValue)
        let stopped = try #require(Sim.states(host).first { $0.value == "stopped" }?.key)
        #expect(Sim.value(host, stopped, "memory.stat")?.error == .invalidState)
    }

    /// A portod that does not know some properties: InvalidProperty in Get, a status.error entry in
    /// ListContainersBy, and not listed by ListProperties (docs/porto.md §3.1, §8).
    @Test func unknownPropertiesAreUnknownEverywhere() throws {
        let host = Self.host(unknown: ["cpu_pressure", "io_read_ops"])
        var request = Porto_TPortoRequest()
        request.listProperties = Porto_TListPropertiesRequest()
        let listed = Set(try #require(host.respond(to: request)).listProperties.list.map(\.name))
        #expect(!listed.contains("cpu_pressure") && !listed.contains("io_read_ops"))
        #expect(listed.contains("cpu_usage") && listed.contains("io_write_ops"))
        // The 7 of the exporter's properties 5.3.59 on a mainline kernel cannot support are not listed either.
        for name in ["cpu_wait", "cpu_burst_usage", "cpu_unconstrained_wait", "memory_guarantee", "memory_guarantee_total", "anon_limit", "anon_limit_total"] {
            #expect(!listed.contains(name), "\(name)")
        }
        #expect(Sim.value(host, "/", "cpu_pressure")?.error == .invalidProperty)
        let root = try #require(Sim.lcb(host, ["/"], ["cpu_pressure", "cpu_usage"]).first)
        #expect(root.status.error.map(\.error) == [.invalidProperty])
        #expect(!root.status.hasCpuPressure && root.status.hasCpuUsage)
    }
}
