import Testing
import PortoWire
@testable import PortoSim

/// Masks and root handling (docs/porto.md §2.2, §2.3).
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
        // Absolute names and "self" never match in ListContainersBy (docs/porto.md §2.2).
        for filter in ["/porto/web", "self"] {
            let result = Sim.lcb(host, [filter], ["state"])
            #expect(result.count == 1)
            #expect(result.first?.error.error == .containerDoesNotExist)
            #expect(result.first?.spec.name == filter)
        }
        // Several filters: each container once, and the whole list in name order as for `***`
        // (docs/porto.md §2.2, §2.3; portod walks its containers by name and takes the first filter
        // that matches).
        let names = Sim.lcb(host, ["web/frontend", "web***"], ["state"]).map(\.spec.name)
        #expect(names == ["web", "web/frontend", "web/frontend/worker-1", "web/frontend/worker-1/task"])
        let overlapping = Sim.lcb(host, ["*", "***", "web***", "web"], ["state"]).map(\.spec.name)
        #expect(Set(overlapping.dropLast(2)).count == overlapping.count - 2)
        // "web" is found under "*" first, so "web***" and "web" own nothing: each gets its
        // ContainerDoesNotExist entry, after the containers, in filter order.
        let all = Sim.lcb(host, ["***"], ["state"]).map(\.spec.name)
        #expect(overlapping == all + ["web***", "web"])
        #expect(Set(all).count == all.count)
    }

    @Test func lcbMissingFiltersComeAfterTheContainersInFilterOrder() {
        let result = Sim.lcb(Sim.host(), ["nope-2", "web", "nope-1", "nope-2"], ["state"])
        #expect(result.map(\.spec.name) == ["web", "nope-2", "nope-1", "nope-2"])
        #expect(result.map(\.error.error) == [.lostError, .containerDoesNotExist, .containerDoesNotExist, .containerDoesNotExist])
        #expect(!result[0].hasError)
    }

    @Test func lcbFilterLabelsPickTheFirstFilterWhoseLabelsMatch() throws {
        let host = Sim.host()
        let web = try #require(Sim.lcb(host, ["web"], ["labels"]).first)
        let label = try #require(web.spec.labels.map.first)
        var req = Sim.lcbRequest(["web", "web***"], ["state"])
        var labels = Porto_TStringMap()
        var entry = Porto_TStringMap.TStringMapEntry()
        entry.key = label.key
        entry.val = label.val + "-not"
        labels.map = [entry]
        req.listContainersBy.filters[0].labels = labels
        // "web" fails the first filter's labels and is taken by the second: the first filter owns
        // nothing and is reported missing.
        let names = try #require(host.respond(to: req)).listContainersBy.containers.map(\.spec.name)
        #expect(names == ["web", "web/frontend", "web/frontend/worker-1", "web/frontend/worker-1/task", "web"])
    }

    @Test func getGivesExplicitNamesFirstThenMaskMatchesInNameOrder() {
        let host = Sim.host()
        // portod: the named containers in request order, then each
        // container matching any mask once, in name order, never "/" (docs/porto.md §2.3).
        let names = Sim.get(host, ["web***", "web", "*", "/", "nope", "web"], ["state"]).list.map(\.name)
        let firstLevel = Sim.list(host, mask: "*")
        let webTree = Sim.list(host, mask: "web***")
        let masked = Sim.list(host).filter { firstLevel.contains($0) || webTree.contains($0) }
        #expect(names == ["web", "/", "nope", "web"] + masked)
        #expect(masked.filter { $0 == "web" }.count == 1)
        #expect(masked == masked.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
    }

    @Test func getResolvesAbsoluteNamesAndSelf() {
        let host = Sim.host()
        #expect(Sim.value(host, "/porto/web", "state")?.value == "running")
        #expect(Sim.value(host, "self", "level")?.value == "0")
        #expect(Sim.get(host, ["nomatch*"], ["state"]).list.isEmpty)
    }
}
