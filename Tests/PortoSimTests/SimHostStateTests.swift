import Testing
import PortoWire
@testable import PortoSim

/// States and availability rules (docs/porto.md §3.2): RT properties are unavailable in stopped and
/// starting, DO properties only in dead.
@Suite struct SimHostStateTests {
    @Test(arguments: [20, 40, 200])
    func everyStateIsPresent(containers: Int) {
        let states = Set(Sim.states(Sim.host(containers: containers)).values)
        #expect(states == Set(SimState.allCases.map(\.rawValue)))
    }

    @Test func rootIsMetaLevelZeroIdOne() throws {
        let root = try #require(Sim.lcb(Sim.host(), ["***"], ["state", "level", "id", "parent"]).first)
        #expect(root.spec.name == "/")
        #expect(root.status.state == "meta")
        #expect(root.status.level == 0)
        #expect(root.status.id == 1)
        #expect(!root.status.hasParent)
        #expect(Sim.value(Sim.host(), "/", "parent")?.value == "")
        #expect(Sim.value(Sim.host(), "web", "parent")?.value == "/")
        #expect(Sim.value(Sim.host(), "web/frontend", "parent")?.value == "/porto/web")
    }

    /// One Get and one ListContainersBy over every container, keyed by name.
    static func read(_ host: SimHost, _ variables: [String]) -> ([String: [Porto_TGetResponse.TContainerGetValueResponse]], [String: Porto_TContainer]) {
        let get = Sim.get(host, ["***"], variables).list
        let lcb = Sim.lcb(host, ["***"], variables)
        return (
            Dictionary(uniqueKeysWithValues: get.map { ($0.name, $0.keyval) }),
            Dictionary(uniqueKeysWithValues: lcb.map { ($0.spec.name, $0) })
        )
    }

    @Test func runtimePropertiesPerState() {
        let host = Sim.host()
        let (get, lcb) = Self.read(host, ["cpu_usage"])
        for (name, state) in Sim.states(host) where name != "/" {
            let kv = get[name]?.first
            if state == "stopped" || state == "starting" {
                #expect(kv?.error == .invalidState, "\(name) \(state)")
                #expect(kv?.errorMsg == "cpu_usage is not available in \(state) state")
                #expect(lcb[name]?.status.hasCpuUsage == false)
            } else {
                #expect(kv?.hasError == false, "\(name) \(state)")
                #expect(lcb[name]?.status.hasCpuUsage == true, "\(name) \(state)")
            }
        }
        #expect(Sim.value(host, "/", "cpu_usage")?.hasError == false)
    }

    @Test func deadOnlyPropertiesPerState() {
        let host = Sim.host()
        let (get, lcb) = Self.read(host, ["exit_code", "exit_status", "oom_killed", "death_time"])
        for (name, state) in Sim.states(host) where name != "/" {
            let kv = get[name]?.first
            let status = lcb[name]?.status
            if state == "dead" {
                #expect(kv?.hasError == false)
                #expect(status?.hasExitCode == true && status?.hasDeathTime == true)
            } else {
                #expect(kv?.error == .invalidState, "\(name) \(state)")
                #expect(kv?.errorMsg == "exit_code available only in dead state")
                #expect(status?.hasExitCode == false && status?.hasOomKilled == false)
            }
        }
        #expect(Sim.value(host, "/", "exit_code")?.error == .invalidState)
    }

    @Test func deadContainersTellHowTheyDied() throws {
        let containers = Sim.lcb(Sim.host(), ["batch/*"], ["state", "exit_code", "exit_status", "oom_killed", "core_dumped", "death_time", "time"])
        let byName = Dictionary(uniqueKeysWithValues: containers.map { ($0.spec.name, $0.status) })
        let oom = try #require(byName["batch/job-oom"])
        #expect(oom.exitCode == -99 && oom.oomKilled)
        let segv = try #require(byName["batch/job-segv"])
        #expect(segv.exitCode == -11 && segv.coreDumped && segv.exitStatus == 11 | 0x80)
        let fail = try #require(byName["batch/job-fail"])
        #expect(fail.exitCode == 1 && fail.exitStatus == 256)
        #expect(byName["batch/job-ok"]?.exitCode == 0)
        #expect(oom.hasDeadTime && oom.deadTime == Sim.epoch - oom.deathTime)
        #expect(byName["batch/cron"]?.hasDeadTime == false)
    }

    @Test func startTimeIsEmptyWhenNeverStarted() {
        let host = Sim.host()
        #expect(Sim.value(host, "idle", "start_time")?.value == "")
        #expect(Sim.lcb(host, ["idle"], ["start_time"]).first?.status.hasStartTime == false)
        #expect(Sim.value(host, "idle", "time")?.value == "0")
    }

    @Test func rootTimeIsHostUptime() throws {
        let host = Sim.host()
        let root = try #require(Sim.lcb(host, ["/"], ["time", "creation_time"]).first)
        #expect(root.status.time == Sim.epoch - root.status.creationTime)
        #expect(root.status.time > 86_400)
    }
}
