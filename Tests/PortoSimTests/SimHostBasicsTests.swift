import Testing
import PortoWire
@testable import PortoSim

/// Version, GetSystem, List and the envelope, checked against docs/porto.md §1 and §5.1.
@Suite struct SimHostBasicsTests {
    @Test func versionIsPortod5359() throws {
        var req = Porto_TPortoRequest()
        req.version = Porto_TVersionRequest()
        let r = try #require(Sim.host().respond(to: req))
        #expect(r.hasError && r.error == .success)
        #expect(r.version.tag == "5.3.59")
        #expect(!r.version.revision.isEmpty)
        #expect(r.timestamp == Sim.epoch)
    }

    @Test func requestWithoutMethodIsInvalidMethod() throws {
        let r = try #require(Sim.host().respond(to: Porto_TPortoRequest()))
        #expect(r.error == .invalidMethod)
        #expect(r.errorMsg == "invalid RPC method")
    }

    @Test func writesAreRefused() throws {
        var req = Porto_TPortoRequest()
        var create = Porto_TCreateRequest()
        create.name = "x"
        req.create = create
        let r = try #require(Sim.host().respond(to: req))
        #expect(r.error == .permission)
    }

    @Test func getSystemSetsEveryFieldAndCountsRequests() {
        let host = Sim.host()
        let first = Sim.getSystem(host)
        #expect(first.portoVersion == "5.3.59")
        #expect(first.hasKernelVersion && first.hasErrors && first.hasWarnings && first.hasFatals)
        #expect(first.hasPostforkIssues && first.hasRequestTopRunningTime && first.hasMasterUptime)
        #expect(first.hasVolumeCount && first.hasClientCount && first.hasNetworkCount && first.hasLogLines)
        #expect(!first.hasPortoCrash)
        #expect(first.requestQueued >= 1)
        #expect(first.containerCount == 40)
        #expect(first.containerLimit == 3000)
        _ = Sim.list(host)
        _ = Sim.lcb(host, ["***"], ["state"])
        let second = Sim.getSystem(host)
        // The GetSystem and the List count; the ListContainersBy (a spec request) does not.
        #expect(second.requestCompleted == first.requestCompleted + 2)
    }

    @Test func containerRunningCountsRunningOnly() {
        let host = Sim.host()
        let running = Sim.states(host).values.filter { $0 == "running" }.count
        #expect(Sim.getSystem(host).containerRunning == UInt64(running))
    }

    @Test func listNeverIncludesRootAndIsSorted() {
        let host = Sim.host()
        let names = Sim.list(host)
        #expect(names.count == 40)
        #expect(!names.contains("/"))
        #expect(names == names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
    }
}

/// GetProperty, ListProperties and concurrent use.
@Suite struct SimHostMiscTests {
    static func getProperty(_ host: SimHost, _ name: String?, _ property: String?) -> Porto_TPortoResponse? {
        var req = Porto_TPortoRequest()
        var gp = Porto_TGetPropertyRequest()
        if let name { gp.name = name }
        if let property { gp.property = property }
        req.getProperty = gp
        return host.respond(to: req)
    }

    @Test func getPropertyAnswersOneValueOrAnEnvelopeError() throws {
        let host = Sim.host()
        #expect(try #require(Self.getProperty(host, "web", "state")).getProperty.value == "running")
        let missing = try #require(Self.getProperty(host, "nope", "state"))
        #expect(missing.error == .containerDoesNotExist)
        #expect(try #require(Self.getProperty(host, "idle", "cpu_usage")).error == .invalidState)
        // name and property are upstream-required: portod closes the connection without them.
        #expect(Self.getProperty(host, nil, "state") == nil)
        #expect(Self.getProperty(host, "web", nil) == nil)
    }

    @Test func listPropertiesLeavesOutUnsupportedOnes() throws {
        var req = Porto_TPortoRequest()
        req.listProperties = Porto_TListPropertiesRequest()
        let names = try #require(Sim.host().respond(to: req)).listProperties.list.map(\.name)
        #expect(names.contains("cpu_usage") && names.contains("labels") && names.contains("io_read"))
        #expect(!names.contains("cpu_wait") && !names.contains("memory_guarantee"))
    }

    @Test func concurrentRequestsAndEvents() async {
        let host = Sim.host(containers: 300, clock: .system)
        await withTaskGroup(of: Int.self) { group in
            for k in 0..<4 {
                group.addTask {
                    var seen = 0
                    for _ in 0..<5 {
                        seen += Sim.lcb(host, ["***"], ["state", "cpu_usage", "labels"]).count
                        host.inject(.oomKill(k % 2 == 0 ? "web" : "db"))
                    }
                    return seen
                }
            }
            for await seen in group { #expect(seen == 5 * 301) }
        }
    }
}

/// Hosts of every size answer consistently, down to a root alone.
@Suite struct SimHostSizeTests {
    @Test(arguments: [0, 1, 5, 12, 23])
    func smallHosts(containers: Int) {
        for churn in [false, true] {
            let host = Sim.host(containers: containers, churn: churn)
            #expect(Sim.list(host).count == containers)
            let all = Sim.lcb(host, ["***"], ["state", "parent", "cgroups"])
            #expect(all.count == containers + 1)
            #expect(all.first?.spec.name == "/")
            let names = Set(all.map(\.spec.name))
            for c in all where c.spec.name != "/" {
                // Every parent exists: the showcase is cut parent-first.
                let parent = String(c.status.parent.dropFirst("/porto/".count))
                #expect(c.status.parent == "/" || names.contains(parent), "\(c.spec.name)")
            }
            #expect(Sim.getSystem(host).containerCount == UInt64(containers))
        }
    }
}
