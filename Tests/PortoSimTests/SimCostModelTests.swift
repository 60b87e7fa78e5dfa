import Testing
import PortoWire
@testable import PortoSim

/// porto-sim's model of portod's CPU per request against the measurements it is built from
/// (docs/porto.md §7.1: portod 5.3.59, 171 containers).
@Suite struct SimCostModelTests {
    /// The exporter's 60 properties of that measurement (every group but vm, plus cgroups and net).
    static let exporterSet = [
        "anon_limit", "anon_limit_total", "anon_usage", "cache_usage", "cgroups", "cpu_burst_usage", "cpu_guarantee",
        "cpu_guarantee_total", "cpu_limit", "cpu_limit_total", "cpu_pressure", "cpu_throttled", "cpu_unconstrained_wait",
        "cpu_usage", "cpu_usage_system", "cpu_wait", "creation_time", "death_time", "exit_code", "hugetlb_limit", "io_ops",
        "io_pressure", "io_read", "io_read_ops", "io_time", "io_write", "io_write_ops", "major_faults", "memory_guarantee",
        "memory_guarantee_total", "memory_limit", "memory_limit_total", "memory_pressure", "memory_reclaimed", "memory_usage",
        "minor_faults", "mlock_usage", "net", "net_bytes", "net_drops", "net_overlimits", "net_packets", "net_rx_bytes",
        "net_rx_drops", "net_rx_overlimits", "net_rx_packets", "net_tx_bytes", "net_tx_drops", "net_tx_packets", "oom_killed",
        "oom_kills", "oom_kills_total", "process_count", "respawn_count", "shmem_usage", "start_time", "state", "thread_count",
        "thread_limit",
    ] + ["labels"]
    static let derived = ["anon_usage", "cache_usage", "shmem_usage", "mlock_usage", "minor_faults", "major_faults", "memory_reclaimed"]
    static let costly = derived + ["process_count", "thread_count", "io_read", "io_write", "io_ops", "io_read_ops",
                                   "io_write_ops", "io_time", "cpu_pressure", "memory_pressure", "io_pressure"]

    /// "/" and 170 containers: the 171 of the measurement.
    static let host = Sim.host(containers: 170)

    static func milliseconds(_ request: Porto_TPortoRequest) -> Double {
        Double(host.modelledCost(of: request)) / 1e6
    }

    static func lcb(_ properties: [String]) -> Double {
        milliseconds(Sim.lcbRequest(["***"], properties))
    }

    @Test func theExporterSetCostsWhatWasMeasured() {
        #expect(Self.exporterSet.count == 60)
        #expect((125...136).contains(Self.lcb(Self.exporterSet)), "\(Self.lcb(Self.exporterSet)) ms")
        // Get costs what ListContainersBy does (138 measured).
        let get = Self.milliseconds(Sim.getRequest(["***", "/"], Self.exporterSet))
        #expect(abs(get - Self.lcb(Self.exporterSet)) < 0.01)
    }

    @Test func partsOfTheSetCostWhatTheyAddedAlone() {
        let all = Self.lcb(Self.exporterSet)
        // The 7 memory.stat-derived properties together: 49 ms.
        #expect(abs(all - Self.lcb(Self.exporterSet.filter { !Self.derived.contains($0) }) - 49) < 0.1)
        // process_count 22.3 + thread_count 12.0.
        #expect(abs(all - Self.lcb(Self.exporterSet.filter { $0 != "process_count" && $0 != "thread_count" }) - 34.3) < 0.1)
        // The 42 others: 15.5-17 ms.
        let rest = Self.lcb(Self.exporterSet.filter { !Self.costly.contains($0) })
        #expect((15.5...17).contains(rest), "\(rest) ms")
        // `state` alone: 0.47 ms; io_write alone adds 9.5.
        #expect(abs(Self.lcb(["state"]) - 0.47) < 0.01)
        #expect(abs(Self.lcb(["state", "io_write"]) - Self.lcb(["state"]) - 9.5) < 0.01)
    }

    @Test func rawMemoryStatCostsWhatWasMeasured() {
        // 6 ms for 170 containers, 0.035 ms each; 4 ms for the 107 owners.
        let all = Self.milliseconds(Sim.getRequest(["***"], ["memory.stat"]))
        #expect(abs(all - 6.0) < 0.2, "\(all) ms")
        let owners = Self.milliseconds(Sim.getRequest((0..<107).map { "c\($0)" }, ["memory.stat"]))
        #expect(abs(owners - 3.8) < 0.2, "\(owners) ms")
        // Eight times less than the 7 derived properties it replaces.
        let derived = Self.lcb(["state"] + Self.derived) - Self.lcb(["state"])
        #expect(derived / all > 7.5)
    }

    @Test func otherRequestsCostTheFixedPart() {
        var version = Porto_TPortoRequest()
        version.version = Porto_TVersionRequest()
        #expect(Self.milliseconds(version) == 0.09)
        var listProperties = Porto_TPortoRequest()
        listProperties.listProperties = Porto_TListPropertiesRequest()
        #expect(Self.milliseconds(listProperties) == 0.09)
    }

    /// The server adds up the model per method for every request read, cached answers included,
    /// and writes it in its stats.
    @Test func theServerReportsTheModelPerMethod() throws {
        let host = Sim.host(containers: 20)
        try withServer(host: host) { server, _ in
            let client = try RawClient(server.socketPath)
            let lcb = Sim.lcbRequest(["***"], ["state", "cpu_usage"])
            for _ in 0..<3 { _ = try client.call(lcb) }
            _ = try client.call(Sim.getRequest(["/"], ["memory.stat"]))
            let costs = server.modelledCosts
            #expect(costs["ListContainersBy"] == 3 * host.modelledCost(of: lcb))
            #expect(costs["Get"] == host.modelledCost(of: Sim.getRequest(["/"], ["memory.stat"])))
            #expect(server.statsJSON().contains("\"portod_cpu_ns_modelled\":{\"Get\":\(costs["Get"]!),\"ListContainersBy\":\(costs["ListContainersBy"]!)}"))
        }
    }
}
