import Testing
import PortoWire
@testable import PortoSim

/// ListContainersBy behaviour (docs/porto.md §1.3, §3.1, §3.3 field column).
@Suite struct SimHostListContainersByTests {
    @Test func onlyTheRequestedPropertiesAreFilled() throws {
        let host = Sim.host()
        for c in Sim.lcb(host, ["***"], ["state"]) {
            var expected = Porto_TContainer()
            expected.spec.name = c.spec.name
            var status = Porto_TContainerStatus()
            status.state = c.status.state
            expected.status = status
            #expect(c == expected)
        }
        let web = try #require(Sim.lcb(host, ["web"], ["memory_limit", "labels"]).first)
        #expect(!web.hasStatus)
        var spec = Porto_TContainerSpec()
        spec.name = "web"
        spec.memoryLimit = 8 << 30
        spec.labels = web.spec.labels
        #expect(web.spec == spec)
        #expect(web.spec.labels.map.count == 7)
    }

    @Test func unknownPropertiesGiveOneErrorEachOnEveryContainer() {
        let containers = Sim.lcb(Sim.host(), ["***"], ["state", "bogus", "io_read[sda]"])
        #expect(containers.count == 41)
        for c in containers {
            #expect(c.status.error.map(\.error) == [.invalidProperty, .invalidProperty])
            #expect(c.status.error.map(\.msg) == ["Unknown property bogus", "Unknown property io_read[sda]"])
            #expect(c.status.hasState)
            #expect(c.status.warning.isEmpty)
        }
    }

    @Test func filterMatchingNothingGivesContainerDoesNotExist() throws {
        let result = Sim.lcb(Sim.host(), ["nope", "web"], ["state"])
        #expect(result.count == 2)
        let missing = result[1]
        #expect(missing.spec.name == "nope")
        #expect(missing.error.error == .containerDoesNotExist)
        #expect(!missing.hasStatus)
        #expect(result[0].spec.name == "web" && !result[0].hasError)
    }

    @Test func filterWithoutNameClosesTheConnection() {
        var req = Sim.lcbRequest(["***"], ["state"])
        req.listContainersBy.filters.append(Porto_TListContainersFilter())
        #expect(Sim.host().respond(to: req) == nil)
    }

    @Test func emptyFilterListMatchesNothing() throws {
        let r = try #require(Sim.host().respond(to: Sim.lcbRequest([], ["state"])))
        #expect(r.error == .success)
        #expect(r.hasListContainersBy)
        #expect(r.listContainersBy.containers.isEmpty)
    }

    @Test func legacyHostHasNoListContainersBy() throws {
        let r = try #require(Sim.host(legacy: true).respond(to: Sim.lcbRequest(["***"], ["state"])))
        #expect(r.error == .invalidMethod)
        #expect(r.errorMsg == "invalid RPC method")
        #expect(!r.hasListContainersBy)
        #expect(Sim.get(Sim.host(legacy: true), ["web"], ["state"]).list.first?.keyval.first?.value == "running")
    }

    @Test func emptyPropertyListGivesEverything() throws {
        let web = try #require(Sim.lcb(Sim.host(), ["web"], []).first)
        #expect(web.status.hasCpuUsage && web.status.hasMemoryUsage && web.status.hasIoRead && web.status.hasCgroups)
        #expect(web.spec.hasCommand && web.spec.hasMemoryLimit && web.spec.hasLabels)
        #expect(web.status.error.isEmpty)
    }

    @Test func unavailableValuesAreLeftOut() throws {
        let host = Sim.host()
        let props = ["cpu_wait", "memory_guarantee", "hugetlb_usage", "io_time", "place_usage", "cpu_usage"]
        let mac = try #require(Sim.lcb(host, ["mac"], props).first)
        #expect(!mac.status.hasCpuWait && !mac.spec.hasMemoryGuarantee && !mac.status.hasPlaceUsage)
        // hugetlb_usage: portod's LCB sets it only when it is 0 (docs/porto.md §3.3); Get has the value.
        #expect(!mac.status.hasHugetlbUsage)
        #expect(Sim.value(host, "mac", "hugetlb_usage")?.value == String(64 << 20))
        let sleeper = try #require(Sim.lcb(host, ["sleeper"], props).first)
        #expect(sleeper.status.hasHugetlbUsage && sleeper.status.hugetlbUsage == 0)
        #expect(mac.status.hasIoTime && mac.status.ioTime.map.isEmpty)
        #expect(Sim.value(host, "mac", "io_time")?.value == "")
        #expect(Sim.value(host, "mac", "cpu_wait")?.error == .notSupported)
        #expect(Sim.value(host, "mac", "memory_guarantee")?.error == .notSupported)
        #expect(mac.status.error.isEmpty)
    }

    @Test func labelFiltersMatchExactly() {
        var req = Sim.lcbRequest(["***"], ["state"])
        var labels = Porto_TStringMap()
        var entry = Porto_TStringMap.TStringMapEntry()
        entry.key = "APP.name"
        entry.val = "db"
        labels.map = [entry]
        req.listContainersBy.filters[0].labels = labels
        let names = Sim.host().respond(to: req)?.listContainersBy.containers.map(\.spec.name)
        #expect(names == ["db"])
    }
}
