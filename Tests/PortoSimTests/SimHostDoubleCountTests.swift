import Testing
import PortoWire
@testable import PortoSim

/// The nested-container double-count trap (docs/porto.md §4): a container that does not own a
/// controller reports its nearest owning ancestor's values, and `cgroups` marks it inherited.
@Suite struct SimHostDoubleCountTests {
    static let properties = ["cgroups", "memory_usage", "cpu_usage", "cpu_throttled", "io_read", "state", "level"]

    @Test func inheritedFlagIsSetExactlyWhereValuesAreTheOwnersValues() throws {
        let host = Sim.host(containers: 200)
        let all = Sim.lcb(host, ["***"], Self.properties)
        let byName = Dictionary(uniqueKeysWithValues: all.map { ($0.spec.name, $0) })
        func parent(_ name: String) -> String? {
            guard name != "/" else { return nil }
            guard let slash = name.lastIndex(of: "/") else { return "/" }
            return String(name[..<slash])
        }
        func inherited(_ c: Porto_TContainer, _ controller: String) -> Bool {
            c.status.cgroups.cgroup.first { $0.controller == controller }?.inherited ?? false
        }
        func owner(_ name: String, _ controller: String) -> Porto_TContainer {
            var at = byName[name]!
            while inherited(at, controller) { at = byName[parent(at.spec.name)!]! }
            return at
        }
        var inheritedSeen = 0
        var ownedNestedSeen = 0
        for c in all where c.status.hasMemoryUsage && c.spec.name != "/" {
            let memoryOwner = owner(c.spec.name, "memory")
            if inherited(c, "memory") {
                inheritedSeen += 1
                #expect(c.status.memoryUsage == memoryOwner.status.memoryUsage, "\(c.spec.name)")
                #expect(c.status.cgroups.cgroup.first { $0.controller == "memory" }?.path
                    == memoryOwner.status.cgroups.cgroup.first { $0.controller == "memory" }?.path)
            } else {
                if c.status.level > 1 { ownedNestedSeen += 1 }
                // An owner's value is its own: below its parent's, which also counts the parent's own memory.
                let p = byName[parent(c.spec.name)!]!
                #expect(c.status.memoryUsage < p.status.memoryUsage, "\(c.spec.name)")
            }
            if inherited(c, "cpuacct") {
                #expect(c.status.cpuUsage == owner(c.spec.name, "cpuacct").status.cpuUsage)
            }
            if inherited(c, "cpu") {
                #expect(c.status.cpuThrottled == owner(c.spec.name, "cpu").status.cpuThrottled)
            }
            if inherited(c, "blkio") {
                // Disk keys come from the blkio owner; "fs" comes from the memory owner.
                var disks = c.status.ioRead.dictionary
                var ownerDisks = owner(c.spec.name, "blkio").status.ioRead.dictionary
                disks["fs"] = nil
                ownerDisks["fs"] = nil
                #expect(disks == ownerDisks, "\(c.spec.name)")
            }
        }
        #expect(inheritedSeen > 5)
        #expect(ownedNestedSeen > 2)
    }

    @Test func firstLevelContainersOwnTheMainControllers() {
        for c in Sim.lcb(Sim.host(containers: 100), ["*"], ["cgroups", "virt_mode"]) {
            for cg in c.status.cgroups.cgroup {
                #expect(!cg.inherited, "\(c.spec.name) \(cg.controller)")
            }
        }
    }

    @Test func getCgroupsShowsTheOwnersPath() throws {
        let text = try #require(Sim.value(Sim.host(), "web/frontend", "cgroups")?.value)
        #expect(text.contains("memory: /sys/fs/cgroup/memory/porto%web;"))
        #expect(text.contains("freezer: /sys/fs/cgroup/freezer/porto%web%frontend;"))
        #expect(Sim.value(Sim.host(), "web/frontend", "cgroups[memory]")?.value == "/sys/fs/cgroup/memory/porto%web")
    }

    @Test func realTrueRefusesInheritedValues() {
        let host = Sim.host()
        let inherited = Sim.value(host, "web/frontend", "memory_usage", real: true)
        #expect(inherited?.error == .noValue)
        #expect(inherited?.errorMsg == "Controllers is disabled")
        #expect(Sim.value(host, "web/frontend/worker-1", "memory_usage", real: true)?.hasError == false)
        #expect(Sim.value(host, "web", "memory_usage", real: true)?.hasError == false)
        #expect(Sim.value(host, "web/frontend", "memory_usage")?.value == Sim.value(host, "web", "memory_usage")?.value)
        // Settable properties never set, and event counters that never fired.
        #expect(Sim.value(host, "sleeper", "memory_limit", real: true)?.errorMsg == "Property not set")
        #expect(Sim.value(host, "web", "memory_limit", real: true)?.value == String(8 << 30))
        #expect(Sim.value(host, "web", "oom_kills", real: true)?.errorMsg == "Property not set")
        #expect(Sim.value(host, "web", "oom_kills")?.value == "0")
    }

    @Test func nestedContainersWithoutMemoryCountNoOOMKills() {
        let host = Sim.host()
        #expect(host.inject(.oomKill("web/frontend")))
        #expect(Sim.value(host, "web/frontend", "oom_kills")?.value == "0")
        #expect(Sim.value(host, "web", "oom_kills")?.value == "1")
    }

    @Test func networkFollowsTheNamespace() throws {
        let host = Sim.host()
        let rows = Sim.lcb(host, ["/", "web", "db", "db/replica", "mac"], ["net_rx_bytes", "net_tx_drops"])
        let net = Dictionary(uniqueKeysWithValues: rows.map { ($0.spec.name, $0.status) })
        // Inherited net under a parent with its own netns: the parent's devices.
        #expect(try #require(net["db/replica"]).netRxBytes == net["db"]?.netRxBytes)
        #expect(Set(try #require(net["db"]).netRxBytes.dictionary.keys) == ["eth0", "Uplink", "group default"])
        #expect(Sim.value(host, "db/replica", "net_rx_bytes", real: true)?.errorMsg == "Shared network")
        // Host netns: sock-diag keys, and empty drops.
        #expect(Set(try #require(net["web"]).netRxBytes.dictionary.keys) == ["Uplink", "Latency"])
        #expect(net["web"]?.hasNetTxDrops == true && net["web"]?.netTxDrops.map.isEmpty == true)
        #expect(Sim.value(host, "web", "net_rx_bytes", real: true)?.hasError == false)
        #expect(Set(try #require(net["/"]).netRxBytes.dictionary.keys) == ["eth0", "eth1", "Uplink", "group default", "SockDiag"])
        #expect(Set(try #require(net["mac"]).netRxBytes.dictionary.keys) == ["eth0", "eth1", "Uplink", "group default"])
    }

    /// With a namespace of their own, `Uplink` and `group default` are sums over the devices (all
    /// of them uplinks here, all in group default); "/" adds `SockDiag`.
    @Test func uplinkAndGroupSumTheDevices() throws {
        let rows = Sim.lcb(Sim.host(), ["***"], ["net_rx_bytes", "net_tx_packets"])
        var checked = 0
        for row in rows {
            for map in [row.status.netRxBytes.dictionary, row.status.netTxPackets.dictionary] where map["group default"] != nil {
                let devices = map.filter { !["Uplink", "SockDiag", "Latency"].contains($0.key) && !$0.key.hasPrefix("group ") }
                #expect(map["Uplink"] == devices.values.reduce(0, &+), "\(row.spec.name)")
                #expect(map["group default"] == map["Uplink"], "\(row.spec.name)")
                checked += 1
            }
        }
        #expect(checked > 4)
    }

    /// tc classes are off (portod's default since 5.0.31): the class properties repeat the tx
    /// device counters, and `net_overlimits` gives tx errors.
    @Test func withoutTcClassesNetBytesRepeatsTx() throws {
        let rows = Sim.lcb(Sim.host(), ["***"], ["net_bytes", "net_tx_bytes", "net_packets", "net_tx_packets", "net_drops", "net_tx_drops"])
        for row in rows {
            #expect(row.status.netBytes == row.status.netTxBytes, "\(row.spec.name)")
            #expect(row.status.netPackets == row.status.netTxPackets, "\(row.spec.name)")
            #expect(row.status.netDrops == row.status.netTxDrops, "\(row.spec.name)")
        }
    }
}
