import Foundation
import PortoSim
import Testing
@testable import PortoExporter

/// portod misbehaving, seen through HTTP: for each porto-sim fault mode, `/metrics` with
/// a 2 s scrape timeout answers 200 (bounded generously: no timed assertion) with `porto_up 0` or
/// the failing collector reported, the server stays up, and once the fault is cleared the next
/// scrape is complete. `PortodFaultTests` checks the same faults at the `CollectorSet` level.
@Suite struct HTTPPortodFaultTests {
    enum Fault: String, CaseIterable, CustomTestStringConvertible {
        case hang, delay, garbage, cut, oversized, noError = "no-error", failLCB = "fail-lcb",
             closeAfter1 = "close-after 1", socketMissing = "socket missing"
        var testDescription: String { rawValue }

        var options: FaultOptions {
            switch self {
            case .hang: FaultOptions(hang: true)
            case .delay: FaultOptions(delay: .seconds(3))   // beyond the 2 s scrape timeout
            case .garbage: FaultOptions(garbage: true)
            case .cut: FaultOptions(cutFrame: true)
            case .oversized: FaultOptions(oversizedPrefix: true)
            case .noError: FaultOptions(noErrorField: true)
            case .failLCB: FaultOptions(failListContainersBy: true)
            case .closeAfter1: FaultOptions(closeAfterRequests: 1)
            case .socketMissing: .none
            }
        }
    }

    static let timeout = ["X-Prometheus-Scrape-Timeout-Seconds": "2"]

    @Test(arguments: Fault.allCases)
    func aFaultIsReportedOverHTTPAndTheNextScrapeIsComplete(fault: Fault) throws {
        let e = try SimExporter(faults: fault.options)
        let socket = e.dir.file("portod.socket"), away = e.dir.file("portod.socket.away")
        if fault == .socketMissing { try FileManager.default.moveItem(atPath: socket, toPath: away) }

        let started = Date()
        let r = try e.client(timeout: 20).request("GET", "/metrics", headers: Self.timeout)
        #expect(Date().timeIntervalSince(started) < 20)
        #expect(r.status == 200)
        #expect(ExpositionValidator.check(r.text, format: .text).problems.isEmpty)
        let failed = SimExporter.samples(r.text, "porto_exporter_collector_success{").filter { $0.hasSuffix(" 0") }
        switch fault {
        case .failLCB:
            #expect(r.text.contains("\nporto_up 1\n"), "GetSystem answered")
            #expect(failed == ["porto_exporter_collector_success{collector=\"containers\"} 0"])
        case .closeAfter1:
            // portod closing after each answer looks like a reload: the client reconnects, and
            // whatever could not be read is reported as failed.
            #expect(r.text.contains("\nporto_up 1\n") || !failed.isEmpty, "\(failed)")
        default:
            #expect(r.text.contains("\nporto_up 0\n") || !failed.isEmpty, "\(failed)")
        }

        // The fault is cleared: the next scrape that saw portod answer is complete. A hung or slow
        // collection may still be ending, so wait (bounded) for one that ran after it.
        e.sim.setFaults(.none)
        if fault == .socketMissing { try FileManager.default.moveItem(atPath: away, toPath: socket) }
        var recovered = ""
        try waitUntil(timeout: 20) {
            let r = try e.client(timeout: 20).request("GET", "/metrics", headers: ["X-Prometheus-Scrape-Timeout-Seconds": "10"])
            recovered = r.text
            return r.status == 200 && r.text.contains("\nporto_up 1\n")
                && SimExporter.samples(r.text, "porto_exporter_collector_success{").allSatisfy { $0.hasSuffix(" 1") }
        }
        #expect(!SimExporter.samples(recovered, "porto_exporter_collector_success{").isEmpty)
        #expect(recovered.contains("porto_container_cpu_usage_seconds_total{name="))
    }
}
