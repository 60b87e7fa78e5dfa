import Testing
import PortoWire
@testable import PortoSim

/// Determinism, churn, generation and injected events.
@Suite struct SimHostLifecycleTests {
    static let everything: [String] = SimPropertyTable.all.map(\.name)

    @Test func sameSeedGivesIdenticalAnswers() throws {
        let a = Sim.host(containers: 120, seed: 7)
        let b = Sim.host(containers: 120, seed: 7)
        let c = Sim.host(containers: 120, seed: 8)
        let requests = [
            Sim.lcbRequest(["***"], []), Sim.getRequest(["***", "/"], Self.everything),
            { var r = Porto_TPortoRequest(); r.getSystem = .init(); return r }(),
            { var r = Porto_TPortoRequest(); r.listVolumes = .init(); return r }(),
        ]
        for request in requests {
            let ra = try #require(a.respond(to: request))
            #expect(ra == b.respond(to: request))
        }
        #expect(a.respond(to: requests[0]) != c.respond(to: requests[0]))
    }

    /// Respawn (docs/porto.md §3.4): portod keeps the cgroups, so cgroup counters and oom_kills
    /// carry on; the network namespace is recreated, so its device counters restart from 0.
    @Test func respawnKeepsCgroupCountersAndResetsTheNetns() throws {
        let clock = SimManualClock(epochSeconds: Sim.epoch)
        let host = Sim.host(clock: .manual(clock))
        let properties = ["cpu_usage", "io_read", "minor_faults", "net_rx_bytes", "start_time", "respawn_count", "oom_kills", "state"]
        #expect(host.inject(.oomKill("db")))
        clock.advance(by: 30)
        let before = try #require(Sim.lcb(host, ["db"], properties).first)
        #expect(try #require(before.status.netRxBytes.dictionary["Uplink"]) > 0)
        #expect(host.inject(.setState("db", .dead)))
        #expect(host.inject(.respawn("db")))
        let at = try #require(Sim.lcb(host, ["db"], properties).first)
        #expect(at.status.state == "running")
        #expect(at.status.startTime == clock.epochSeconds)
        #expect(at.spec.respawnCount == before.spec.respawnCount + 1)
        #expect(at.status.cpuUsage == before.status.cpuUsage)
        #expect(at.status.minorFaults == before.status.minorFaults)
        #expect(at.status.ioRead == before.status.ioRead)
        #expect(at.status.oomKills == before.status.oomKills)
        #expect(at.status.netRxBytes.dictionary["Uplink"] == 0)
        clock.advance(by: 10)
        let after = try #require(Sim.lcb(host, ["db"], properties).first)
        #expect(after.status.cpuUsage > before.status.cpuUsage)
        #expect(try #require(after.status.netRxBytes.dictionary["Uplink"]) > 0)
        #expect(after.status.netRxBytes.dictionary["Uplink"]! < before.status.netRxBytes.dictionary["Uplink"]!)
        // Stop and start resets both.
        #expect(host.inject(.setState("db", .stopped)))
        #expect(host.inject(.setState("db", .running)))
        let restarted = try #require(Sim.lcb(host, ["db"], properties).first)
        #expect(restarted.status.cpuUsage == 0)
        #expect(!host.inject(.respawn("idle")), "a stopped container does not respawn")
    }

    @Test func churnReplacesContainersOverTime() {
        let clock = SimManualClock(epochSeconds: Sim.epoch)
        let host = Sim.host(containers: 100, churn: true, clock: .manual(clock))
        let before = Set(Sim.list(host))
        let created = Sim.getSystem(host).containerCreated
        let rootCPU = Sim.lcb(host, ["/"], ["cpu_usage"]).first!.status.cpuUsage
        clock.advance(by: 3)
        let after = Set(Sim.list(host))
        #expect(before.count == 100 && after.count == 100)
        #expect(before != after)
        #expect(before.subtracting(after).count == 1)
        #expect(Sim.getSystem(host).containerCreated == created + 1)
        clock.advance(by: 600)
        #expect(Set(Sim.list(host)).intersection(before).count >= 80)
        #expect(Sim.lcb(host, ["/"], ["cpu_usage"]).first!.status.cpuUsage > rootCPU)
        // Without churn nothing changes.
        let still = Sim.host(containers: 100, clock: .manual(clock))
        let names = Sim.list(still)
        clock.advance(by: 60)
        #expect(Sim.list(still) == names)
    }

    @Test func churnKeepsTheRootCounterMonotonic() {
        let clock = SimManualClock(epochSeconds: Sim.epoch)
        let host = Sim.host(containers: 60, churn: true, clock: .manual(clock))
        var last: UInt64 = 0
        for _ in 0..<40 {
            let cpu = Sim.lcb(host, ["/"], ["cpu_usage"]).first!.status.cpuUsage
            #expect(cpu >= last)
            last = cpu
            clock.advance(by: 1)
        }
    }

    @Test func generationChangesWithTheClockAndEvents() {
        let clock = SimManualClock(epochSeconds: Sim.epoch)
        let host = Sim.host(clock: .manual(clock))
        let g0 = host.generation
        #expect(host.generation == g0)
        _ = Sim.list(host)
        #expect(host.generation == g0)
        clock.advance(by: 1)
        let g1 = host.generation
        #expect(g1 != g0)
        #expect(host.inject(.oomKill("web")))
        #expect(host.generation != g1)
        #expect(!SimHost.isCacheable({ var r = Porto_TPortoRequest(); r.getSystem = .init(); return r }()))
        #expect(SimHost.isCacheable(Sim.lcbRequest(["***"], ["state"])))
    }

    @Test func oomKillEvent() throws {
        let host = Sim.host()
        let before = Dictionary(uniqueKeysWithValues: Sim.lcb(host, ["***"], ["oom_kills", "oom_kills_total"]).map { ($0.spec.name, $0.status) })
        let oom = Sim.getSystem(host).containerOom
        #expect(host.inject(.oomKill("web/frontend/worker-1")))
        let after = Dictionary(uniqueKeysWithValues: Sim.lcb(host, ["***"], ["oom_kills", "oom_kills_total"]).map { ($0.spec.name, $0.status) })
        #expect(after["web/frontend/worker-1"]!.oomKills == before["web/frontend/worker-1"]!.oomKills + 1)
        for name in ["web/frontend/worker-1", "web/frontend", "web", "/"] {
            #expect(after[name]!.oomKillsTotal == before[name]!.oomKillsTotal + 1, "\(name)")
        }
        #expect(after["db"]!.oomKillsTotal == before["db"]!.oomKillsTotal)
        #expect(after["web"]!.oomKills == before["web"]!.oomKills)
        #expect(Sim.getSystem(host).containerOom == oom + 1)
        #expect(!host.inject(.oomKill("nope")))
        #expect(!host.inject(.oomKill("idle")))
    }

    @Test func oomExitEvent() throws {
        let host = Sim.host()
        let kills = { Sim.value(host, "web/frontend/worker-1", "oom_kills")?.value }
        let before = kills()
        // task has no memory cgroup: the kill counts in worker-1, and task itself dies from it.
        #expect(host.inject(.oomExit("web/frontend/worker-1/task")))
        #expect(Sim.states(host)["web/frontend/worker-1/task"] == "dead")
        #expect(Sim.value(host, "web/frontend/worker-1/task", "exit_code")?.value == "-99")
        #expect(Sim.value(host, "web/frontend/worker-1/task", "oom_killed")?.value == "true")
        #expect(kills() == before.map { String(Int($0)! + 1) })
        #expect(Sim.states(host)["web/frontend/worker-1"] == "running")
        #expect(!host.inject(.oomExit("web/frontend/worker-1/task")))
        #expect(!host.inject(.oomExit("idle")))
    }

    @Test func failStartEvent() throws {
        let host = Sim.host()
        let failed = Sim.getSystem(host).containerStartFailed
        #expect(host.inject(.failStart("web")))
        let states = Sim.states(host)
        #expect(states["web"] == "stopped" && states["web/frontend/worker-1/task"] == "stopped")
        let web = try #require(Sim.lcb(host, ["web"], ["start_error"]).first)
        #expect(web.status.startError.error == .invalidCommand)
        #expect(!web.status.startError.msg.isEmpty)
        #expect(Sim.getSystem(host).containerStartFailed == failed + 1)
        #expect(!host.inject(.failStart("nope")))
    }

    @Test func restartEvent() {
        let clock = SimManualClock(epochSeconds: Sim.epoch)
        let host = Sim.host(clock: .manual(clock))
        let before = Sim.getSystem(host)
        #expect(before.portoUptime > 0)
        #expect(host.inject(.restart))
        clock.advance(by: 2)
        let after = Sim.getSystem(host)
        #expect(after.portoStarts == before.portoStarts + 1)
        #expect(after.portoUptime == 2)
        #expect(after.requestCompleted > before.requestCompleted)
        #expect(after.masterUptime == before.masterUptime + 2)
    }

    @Test func setStateEvent() {
        let host = Sim.host()
        #expect(host.inject(.setState("sleeper", .dead)))
        #expect(Sim.value(host, "sleeper", "exit_code")?.value == "1")
        #expect(host.inject(.setState("sleeper", .running)))
        #expect(Sim.value(host, "sleeper", "exit_code")?.error == .invalidState)
        #expect(!host.inject(.setState("idle/child", .running)))
        #expect(!host.inject(.setState("nope", .running)))
    }
}
