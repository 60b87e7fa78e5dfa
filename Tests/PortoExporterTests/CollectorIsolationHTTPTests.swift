import PortoSim
import Testing
@testable import PortoExporter

/// Collectors fail alone, over HTTP: porto-sim hangs or fails one method, and a scrape with
/// Prometheus' default 10 s timeout still serves every other collector's samples. The answer is
/// the collection's own (a collection that overran the scrape's deadline would be answered with
/// `porto_up 0` and every collector failed), so it ended within the deadline.
@Suite struct CollectorIsolationHTTPTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var method: String
        var collector: String
        var hang: Bool
        var legacy = false
        var noGetSystem = false
        var testDescription: String {
            "\(hang ? "hang" : "fail") \(method)" + (legacy ? " (before 5.0)" : noGetSystem ? " (before 4.6)" : "")
        }
    }

    /// Each method the collectors send, with the collector that sends it and the porto-sim that
    /// makes it send it (the legacy Get of containers, ListVolumes of an old portod).
    static let methods: [Case] = [
        Case(method: "GetSystem", collector: "daemon", hang: false),
        Case(method: "ListContainersBy", collector: "containers", hang: false),
        Case(method: "GetVolume", collector: "volumes", hang: false),
        Case(method: "ListVolumes", collector: "volumes", hang: false, noGetSystem: true),
        Case(method: "ListLayers", collector: "layers", hang: false),
        Case(method: "ListStorages", collector: "storages", hang: false),
        Case(method: "Get", collector: "containers", hang: false, legacy: true),
    ]
    static let cases: [Case] = methods.flatMap { c in
        var hung = c
        hung.hang = true
        return [c, hung]
    }

    /// A sample each collector writes from porto-sim.
    static let evidence = [
        "daemon": "\nporto_daemon_containers ", "containers": "\nporto_container_cpu_usage_seconds_total{name=\"web\"} ",
        "volumes": "\nporto_volume_space_usage_bytes{", "layers": "\nporto_layers ", "storages": "\nporto_storages ",
    ]

    @Test(arguments: cases)
    func oneMethodHungOrFailingCostsOnlyItsCollectorsSamples(c: Case) throws {
        let faults = FaultOptions(hang: c.hang, onlyMethod: c.method, fail: !c.hang)
        // --porto.timeout as the scrape's timeout: the collection is bounded by this scrape alone
        // (a longer --porto.timeout keeps it going for scrapes that may join).
        let e = try SimExporter(faults: faults, defaultTimeout: .seconds(10), legacy: c.legacy, noGetSystem: c.noGetSystem)
        let r = try e.client(timeout: 30).request("GET", "/metrics", headers: ["X-Prometheus-Scrape-Timeout-Seconds": "10"])
        #expect(r.status == 200)
        #expect(r.text.contains("\nporto_up 1\n"))
        let success = SimExporter.samples(r.text, "porto_exporter_collector_success{")
        #expect(success.count == 5, "\(success)")
        for line in success {
            let failed = line.contains("collector=\"\(c.collector)\"")
            #expect(line.hasSuffix(failed ? "} 0" : "} 1"), "\(line)")
        }
        for (collector, sample) in Self.evidence {
            #expect(r.text.contains(sample) == (collector != c.collector), "\(collector): \(sample)")
        }
        // The method was asked for once, and is the one failure counted.
        #expect(e.sim.requestCounts[c.method] == 1, "\(e.sim.requestCounts)")
        #expect(r.text.contains("\nporto_exporter_portod_requests_total{method=\"\(c.method)\"} 1\n"))
        #expect(SimExporter.samples(r.text, "porto_exporter_portod_request_failures_total{") == [
            "porto_exporter_portod_request_failures_total{method=\"\(c.method)\",reason=\"\(c.hang ? "timeout" : "Unknown")\"} 1",
        ])
    }
}
