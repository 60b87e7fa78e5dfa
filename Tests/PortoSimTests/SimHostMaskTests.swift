import Testing
import PortoWire
@testable import PortoSim

/// Masks and root handling (PORTO.md §2.2, §2.3).
@Suite struct SimHostMaskTests {
    @Test(arguments: [
        ("web", "***", true), ("web/frontend", "***", true), ("/", "***", true),
        ("web", "*", true), ("web/frontend", "*", false), ("/", "*", false),
        ("web/frontend", "web/*", true), ("web/frontend/worker-1", "web/*", false), ("web", "web/*", false),
        ("web/frontend/worker-1", "web***", true), ("web", "web***", true), ("webby", "web***", true),
        ("web/frontend/worker-1/task", "***task", true), ("task/x", "***task", false),
        ("a/b", "a?b", false), ("axb", "a?b", true), ("web", "w?b", true),
        ("web/frontend", "*/*", true), ("web", "*/*", false),
    ])
    func maskTable(name: String, mask: String, matches: Bool) {
        #expect(SimMask.matches(name, mask: mask) == matches)
    }

    @Test func rootInEachRequest() {
        let host = Sim.host()
        #expect(!Sim.list(host).contains("/"))
        #expect(!Sim.list(host, mask: "***").contains("/"))
        #expect(!Sim.get(host, ["***"], ["state"]).list.contains { $0.name == "/" })
        #expect(Sim.get(host, ["***"], ["state"]).list.count == 40)
        #expect(Sim.get(host, ["/"], ["state"]).list.first?.keyval.first?.value == "meta")
        let all = Sim.lcb(host, ["***"], ["state"]).map(\.spec.name)
        #expect(all.first == "/")
        #expect(all.count == 41)
        #expect(all == all.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        #expect(!Sim.lcb(host, ["*"], ["state"]).contains { $0.spec.name == "/" })
        #expect(Sim.lcb(host, ["/"], ["state"]).map(\.spec.name) == ["/"])
    }

    @Test func firstLevelAndChildren() {
        let host = Sim.host()
        let firstLevel = Sim.list(host, mask: "*")
        #expect(!firstLevel.isEmpty && firstLevel.allSatisfy { !$0.contains("/") })
        #expect(Sim.list(host, mask: "web/*") == ["web/frontend"])
        #expect(Sim.list(host, mask: "web***") == ["web", "web/frontend", "web/frontend/worker-1", "web/frontend/worker-1/task"])
        #expect(Sim.lcb(host, ["***task"], ["state"]).map(\.spec.name) == ["web/frontend/worker-1/task"])
    }

    @Test func lcbMatchesLiterallyAndOnceUnderTheFirstFilter() {
        let host = Sim.host()
        // Absolute names and "self" never match in ListContainersBy (PORTO.md §2.2).
        for filter in ["/porto/web", "self"] {
            let result = Sim.lcb(host, [filter], ["state"])
            #expect(result.count == 1)
            #expect(result.first?.error.error == .containerDoesNotExist)
            #expect(result.first?.spec.name == filter)
        }
        let names = Sim.lcb(host, ["web/frontend", "web***"], ["state"]).map(\.spec.name)
        #expect(names == ["web/frontend", "web", "web/frontend/worker-1", "web/frontend/worker-1/task"])
    }

    @Test func getResolvesAbsoluteNamesAndSelf() {
        let host = Sim.host()
        #expect(Sim.value(host, "/porto/web", "state")?.value == "running")
        #expect(Sim.value(host, "self", "level")?.value == "0")
        #expect(Sim.get(host, ["nomatch*"], ["state"]).list.isEmpty)
    }
}
