import PortoWire
import Testing
@testable import PortoSim

/// `porto-sim --no-get-system` (``SimOptions/noGetSystem``): a portod older than 4.6.0, checked
/// against docs/porto.md §8 (a newer RPC gets InvalidMethod "invalid RPC method"; the replacement for
/// GetSystem is `Get ["/"] ["porto_stat"]`) and 5.1 (porto_stat's keys; `restarts` before 4.7.2).
@Suite struct SimHostNoGetSystemTests {
    static func request(_ fill: (inout Porto_TPortoRequest) -> Void) -> Porto_TPortoRequest {
        var r = Porto_TPortoRequest()
        fill(&r)
        return r
    }

    static let getSystem = request { $0.getSystem = .init() }
    static let version = request { $0.version = .init() }
    /// The RPCs docs/porto.md §8 dates 4.6.0 or later, that an older portod does not know.
    static let newerMethods: [Porto_TPortoRequest] = [
        getSystem,                                          // 4.6.0
        request { $0.asyncWait = .init() },                 // 4.12.2
        request { $0.newVolume = .init() },                 // 4.15.0
        request { $0.getVolume = .init() },                 // 4.15.0
        Sim.lcbRequest(["***"], ["state"]),                 // 5.0.0
        request { $0.createFromSpec = .init() },            // 5.0.0
        request { $0.updateFromSpec = .init() },            // 5.0.0
    ]

    static func portoStat(_ host: SimHost) throws -> [String: String] {
        let text = try #require(Sim.value(host, "/", "porto_stat")?.value)
        return Dictionary(uniqueKeysWithValues: SimHostFormatTests.parseMap(text).map { ($0.0, $0.1) })
    }

    @Test func getSystemAndEveryLaterMethodGetInvalidMethod() throws {
        let host = Sim.host(noGetSystem: true)
        for request in Self.newerMethods {
            let response = try #require(host.respond(to: request), "\(request.methodName)")
            #expect(response.error == .invalidMethod, "\(request.methodName)")
            #expect(response.errorMsg == "invalid RPC method", "\(request.methodName)")
            #expect(!response.hasGetSystem && !response.hasListContainersBy && !response.hasGetVolume)
        }
        // What a portod before 4.6 has still answers.
        #expect(host.respond(to: Self.version)?.error == .success)
        #expect(Sim.get(host, ["web"], ["state"]).list.first?.keyval.first?.value == "running")
        #expect(Sim.list(host).contains("web"))
    }

    @Test func legacyAloneIsOlderThan5ButNotThan4_6() throws {
        let legacy = Sim.host(legacy: true)
        #expect(legacy.respond(to: Self.getSystem)?.error == .success)
        #expect(legacy.respond(to: Self.request { $0.getVolume = .init() })?.error == .success)
        for request in [Sim.lcbRequest(["***"], ["state"]), Self.request { $0.createFromSpec = .init() }] {
            #expect(legacy.respond(to: request)?.error == .invalidMethod, "\(request.methodName)")
        }
        // The current portod knows every one of them (writes are refused for another reason).
        let current = Sim.host()
        for request in Self.newerMethods {
            #expect(current.respond(to: request)?.error != .invalidMethod, "\(request.methodName)")
        }
    }

    @Test func versionIsAReleaseBefore4_6() throws {
        let tag = try #require(Sim.host(noGetSystem: true).respond(to: Self.version)?.version.tag)
        let parts = tag.split(separator: ".").compactMap { Int($0) }
        try #require(parts.count == 3, "\(tag)")
        #expect(parts.lexicographicallyPrecedes([4, 6, 0]), "\(tag)")
        #expect(Sim.host().respond(to: Self.version)?.version.tag == "5.3.59")
    }

    @Test func portoStatCarriesTheDaemonCountersUnderThatVersionsKeys() throws {
        let old = Sim.host(noGetSystem: true)
        let stat = try Self.portoStat(old)
        // The same host with GetSystem, asked the same number of requests before.
        let current = Sim.host()
        _ = try Self.portoStat(current)
        let system = Sim.getSystem(current)
        #expect(stat["restarts"] == String(system.portoStarts))
        #expect(stat["porto_starts"] == nil, "called restarts before 4.7.2")
        #expect(stat["fatals"] == nil, "GetSystem fatals came in 5.0.8")
        #expect(!stat.keys.contains { $0.hasPrefix("spec_requests_") }, "spec requests came in 5.0.0")
        #expect(stat["errors"] == String(system.errors))
        #expect(stat["warnings"] == String(system.warnings))
        #expect(stat["porto_uptime"] == String(system.portoUptime))
        #expect(stat["container_count"] == String(system.containerCount))
        #expect(stat["container_start_failed"] == String(system.containerStartFailed))
        #expect(stat["container_oom"] == String(system.containerOom))
        #expect(stat["volume_count"] == String(system.volumeCount))
        #expect(stat["requests_completed"] == String(system.requestCompleted - 1), "the GetSystem counted the porto_stat Get before it")
        // The current host's porto_stat keeps today's keys.
        let today = try Self.portoStat(current)
        #expect(today["porto_starts"] != nil && today["restarts"] == nil && today["fatals"] != nil)
        // One key, by index.
        #expect(Sim.value(old, "/", "porto_stat[restarts]")?.value == stat["restarts"])
        #expect(Sim.value(old, "/", "porto_stat[porto_starts]")?.error == .invalidValue)
    }

    @Test func portoStatCountsEveryRequestIncludingTheRefusedGetSystem() throws {
        let host = Sim.host(noGetSystem: true)
        let before = try #require(UInt64(try Self.portoStat(host)["requests_completed"] ?? ""))
        let failedBefore = try #require(UInt64(try Self.portoStat(host)["requests_failed"] ?? ""))
        _ = host.respond(to: Self.getSystem)
        let after = try Self.portoStat(host)
        #expect(after["requests_completed"] == String(before + 3), "two porto_stat Gets and the GetSystem")
        #expect(after["requests_failed"] == String(failedBefore + 1), "the GetSystem")
    }

    @Test func portoStatIsNotCacheable() {
        #expect(!SimHost.isCacheable(Sim.getRequest(["/"], ["porto_stat"])))
        #expect(!SimHost.isCacheable(Sim.getRequest(["/"], ["state", "porto_stat[restarts]"])))
        #expect(!SimHost.isCacheable(Self.request { $0.getProperty.name = "/"; $0.getProperty.property = "porto_stat" }))
        #expect(!SimHost.isCacheable(Self.getSystem))
        #expect(SimHost.isCacheable(Sim.getRequest(["***", "/"], ["state", "cpu_usage"])))
    }
}
