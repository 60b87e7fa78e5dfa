import Testing
import PortoWire
@testable import PortoSim

/// Counters over time (docs/porto.md §3.4): they grow only while a container runs, freeze when it is
/// paused or dead, and restart from zero on stop + start; hierarchical parents never go down.
@Suite struct SimHostCounterTests {
    static let counters = ["cpu_usage", "cpu_usage_system", "minor_faults", "io_read", "io_write", "net_rx_bytes", "memory_reclaimed"]

    static func snapshot(_ host: SimHost) -> [String: Porto_TContainer] {
        Dictionary(uniqueKeysWithValues: Sim.lcb(host, ["***"], counters + ["state", "start_time", "cgroups"]).map { ($0.spec.name, $0) })
    }

    static func sum(_ m: Porto_TUintMap, excluding: Set<String> = ["Latency", "total_writeback"]) -> UInt64 {
        m.map.filter { !excluding.contains($0.key) }.reduce(0) { $0 &+ $1.val }
    }

    @Test func countersGrowWhileRunningAndFreezeOtherwise() {
        let clock = SimManualClock(epochSeconds: Sim.epoch)
        let host = Sim.host(containers: 100, clock: .manual(clock))
        let before = Self.snapshot(host)
        clock.advance(by: 30)
        let after = Self.snapshot(host)
        var grew = 0
        var frozen = 0
        for (name, a) in after {
            let b = before[name]!
            #expect(a.status.cpuUsage >= b.status.cpuUsage, "\(name)")
            #expect(a.status.minorFaults >= b.status.minorFaults, "\(name)")
            #expect(Self.sum(a.status.ioRead) >= Self.sum(b.status.ioRead), "\(name)")
            #expect(Self.sum(a.status.netRxBytes) >= Self.sum(b.status.netRxBytes), "\(name)")
            switch a.status.state {
            case "running":
                if a.status.cpuUsage > b.status.cpuUsage { grew += 1 }
            case "paused", "dead":
                // Frozen in its own cgroup; an inherited value moves with a running ancestor.
                let ownsCPU = a.status.cgroups.cgroup.contains { $0.controller == "cpuacct" && !$0.inherited }
                if ownsCPU {
                    frozen += 1
                    #expect(a.status.cpuUsage == b.status.cpuUsage, "\(name)")
                    #expect(a.status.ioRead == b.status.ioRead, "\(name)")
                }
            default:
                break
            }
        }
        #expect(grew > 20)
        #expect(frozen >= 2)
        #expect(after["/"]!.status.cpuUsage > before["/"]!.status.cpuUsage)
        #expect(after["sleeper"]!.status.cpuUsage == 0)
    }

    @Test func edgesOfFloat64AndZeros() throws {
        let big = try #require(Sim.lcb(Sim.host(), ["big"], Self.counters + ["io_ops", "io_read_ops"]).first).status
        #expect(big.cpuUsage == (1 << 53) - 1)
        #expect(big.cpuUsageSystem == 1 << 53)
        #expect(big.minorFaults == (1 << 53) + 1)
        #expect(big.ioRead.dictionary["sda"] == (1 << 53) + 1)
        #expect(big.ioWrite.dictionary["nvme0n1"] == UInt64.max / 2)
        #expect(big.ioOps.dictionary["vda"] == 1 << 53)
        #expect(big.ioReadOps.dictionary["sdb"] == (1 << 53) - 1)
        let sleeper = try #require(Sim.lcb(Sim.host(), ["sleeper"], Self.counters).first).status
        #expect(sleeper.hasCpuUsage && sleeper.cpuUsage == 0 && sleeper.ioRead.dictionary["hw"] == 0)
    }

    @Test func stopAndStartResetsCountersButNotTheParents() throws {
        let clock = SimManualClock(epochSeconds: Sim.epoch)
        let host = Sim.host(clock: .manual(clock))
        let before = Self.snapshot(host)
        #expect(before["db/replica"]!.status.cpuUsage > 0)
        #expect(host.inject(.setState("db/replica", .stopped)))
        #expect(Sim.value(host, "db/replica", "cpu_usage")?.error == .invalidState)
        clock.advance(by: 5)
        #expect(host.inject(.setState("db/replica", .running)))
        clock.advance(by: 5)
        let after = Self.snapshot(host)
        // db/replica owns cpuacct: its counter restarted from zero and ran for 5 s.
        #expect(after["db/replica"]!.status.cpuUsage < before["db/replica"]!.status.cpuUsage)
        #expect(after["db/replica"]!.status.cpuUsage <= 5 * 1_500_000_000)
        #expect(after["db"]!.status.cpuUsage >= before["db"]!.status.cpuUsage)
        #expect(after["/"]!.status.cpuUsage >= before["/"]!.status.cpuUsage)
        #expect(after["db/replica"]!.status.startTime == Sim.epoch + 5)
    }

    @Test func pauseFreezesAndResumeContinues() throws {
        let clock = SimManualClock(epochSeconds: Sim.epoch)
        let host = Sim.host(clock: .manual(clock))
        #expect(host.inject(.setState("db", .paused)))
        let paused = try #require(Self.snapshot(host)["db"])
        #expect(paused.status.state == "paused")
        clock.advance(by: 100)
        let later = try #require(Self.snapshot(host)["db"])
        #expect(later.status.cpuUsage == paused.status.cpuUsage)
        #expect(Sim.states(host)["db/replica"] == "paused")
        #expect(host.inject(.setState("db", .running)))
        clock.advance(by: 1)
        let resumed = try #require(Self.snapshot(host)["db"])
        #expect(resumed.status.cpuUsage > paused.status.cpuUsage)
        // No jump: one more second of run time, not 101.
        #expect(resumed.status.cpuUsage - paused.status.cpuUsage <= 2 * 1_500_000_000)
    }

    @Test func oomKillsTotalIsHierarchical() {
        let rows = Sim.lcb(Sim.host(containers: 200), ["***"], ["oom_kills_total", "level"])
        let root = rows.first { $0.spec.name == "/" }!
        let firstLevel = rows.filter { $0.status.level == 1 }.reduce(UInt64(0)) { $0 + $1.status.oomKillsTotal }
        // "/" also keeps kills of containers destroyed long ago (3 in the synthetic history).
        #expect(root.status.oomKillsTotal == firstLevel + 3)
        #expect(rows.contains { $0.status.level > 1 && $0.status.oomKillsTotal > 0 })
    }
}
