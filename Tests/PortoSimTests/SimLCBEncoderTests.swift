import Testing
import PortoWire
@testable import PortoSim

/// The server sends ``SimHost/encodedAnswer(to:counting:)``, whose ListContainersBy part is
/// written by hand (``SimLCBEncoder``): it must be byte for byte what SwiftProtobuf makes of the
/// message ``SimHost/respond(to:)`` builds, which the other suites check against docs/porto.md.
@Suite struct SimLCBEncoderTests {
    /// What porto-exporter's default collectors ask for, plus the awkward cases.
    static let propertyLists: [[String]] = [
        [],  // every property
        ["state"],
        ["anon_usage", "cache_usage", "cgroups", "cpu_guarantee", "cpu_guarantee_total", "cpu_limit", "cpu_limit_total",
         "cpu_throttled", "cpu_usage", "cpu_usage_system", "creation_time", "io_ops", "io_read", "io_write", "labels",
         "major_faults", "memory_limit", "memory_limit_total", "memory_usage", "minor_faults", "net", "net_rx_bytes",
         "net_tx_bytes", "oom_kills", "oom_kills_total", "process_count", "start_time", "state", "thread_count"],
        // Unknown and hidden names, a repeat, and properties out of field order.
        ["time", "bogus", "state", "porto_stat", "state", "exit_code", "io_read[sda]", "labels", "command"],
        ["hugetlb_usage", "virtual_memory", "cpu_weight", "cpu_set_affinity", "start_error", "controllers", "net", "root_pid"],
    ]

    static let filterLists: [[String]] = [["***"], ["*", "web***"], ["nope", "web", "nope"], []]

    static func expectSameBytes(_ host: SimHost, _ request: Porto_TPortoRequest, _ comment: Comment) throws {
        let encoded = host.encodedAnswer(to: request, counting: false)
        let response = try #require(host.respond(to: request), comment)
        let expected: [UInt8] = try response.serializedBytes()
        #expect(encoded.body == expected, comment)
        #expect(encoded.error == response.error, comment)
        #expect(encoded.generation == host.generation, comment)
    }

    @Test(arguments: [(1 as UInt64, false), (7, true), (42, false)])
    func listContainersByBytesAreSwiftProtobufs(seed: UInt64, churn: Bool) throws {
        let clock = SimManualClock(epochSeconds: Sim.epoch)
        let host = Sim.host(containers: 120, seed: seed, churn: churn, clock: .manual(clock))
        #expect(host.inject(.oomKill("web")))
        for _ in 0..<2 {
            for filters in Self.filterLists {
                for properties in Self.propertyLists {
                    try Self.expectSameBytes(host, Sim.lcbRequest(filters, properties), "\(filters) \(properties)")
                }
            }
            clock.advance(by: 3_700)
        }
    }

    @Test func otherAnswersAreTheMessageEncoded() throws {
        let host = Sim.host()
        var version = Porto_TPortoRequest()
        version.version = Porto_TVersionRequest()
        var system = Porto_TPortoRequest()
        system.getSystem = Porto_TGetSystemRequest()
        for request in [version, system, Sim.getRequest(["***", "/"], ["state", "cpu_usage", "labels"])] {
            try Self.expectSameBytes(host, request, "\(request.methodName)")
        }
        var nameless = Sim.lcbRequest(["***"], ["state"])
        nameless.listContainersBy.filters.append(Porto_TListContainersFilter())
        #expect(host.encodedAnswer(to: nameless, counting: false).body == nil)
        let legacy = Sim.host(legacy: true)
        try Self.expectSameBytes(legacy, Sim.lcbRequest(["***"], ["state"]), "legacy")
    }

    @Test func uncountedAnswersLeaveTheRequestCountersAlone() {
        let host = Sim.host()
        let before = Sim.getSystem(host).requestCompleted
        for _ in 0..<5 { _ = host.encodedAnswer(to: Sim.lcbRequest(["***"], ["state"]), counting: false) }
        _ = host.encodedAnswer(to: Sim.getRequest(["web"], ["state"]), counting: false)
        // Only the GetSystem above counted itself.
        #expect(Sim.getSystem(host).requestCompleted == before + 1)
        _ = host.encodedAnswer(to: Sim.getRequest(["web"], ["state"]), counting: true)
        #expect(Sim.getSystem(host).requestCompleted == before + 3)
    }

    @Test func previousTickIsOneSecondWithoutEvents() {
        let clock = SimManualClock(epochSeconds: Sim.epoch)
        let host = Sim.host(clock: .manual(clock))
        let first = host.generation
        clock.advance(by: 1)
        let second = host.generation
        #expect(host.isPreviousTick(first, of: second))
        #expect(!host.isPreviousTick(second, of: second))
        clock.advance(by: 1)
        #expect(!host.isPreviousTick(first, of: host.generation))
        let beforeEvent = host.generation
        clock.advance(by: 1)
        #expect(host.inject(.oomKill("web")))
        #expect(!host.isPreviousTick(beforeEvent, of: host.generation))
    }

    @Test func varintLengths() {
        for value: UInt64 in [0, 1, 127, 128, 16_383, 16_384, 1 << 53, UInt64.max] {
            var out: [UInt8] = []
            SimProtoWriter.appendVarint(value, to: &out)
            #expect(out.count == SimProtoWriter.varintLength(value), "\(value)")
        }
    }
}
