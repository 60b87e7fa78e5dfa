import Foundation
import PortoSim
import Testing
@testable import PortoExporter

/// The built `porto-exporter` binary scraped over HTTP while porto-sim fails, hangs and goes away:
/// its log (standard error) says what broke, once, and when it came back; healthy scrapes log nothing.
@Suite struct PortodLogHTTPTests {
    /// The log lines added since `before` (a previous `logText`).
    static func added(_ exporter: ExporterProcess, since before: String) -> [String] {
        exporter.logText.dropFirst(before.count).split(separator: "\n").map(String.init)
    }

    @Test func theLogSaysWhatBrokeAndWhenItCameBack() throws {
        let dir = try TempDirectory()
        let socket = dir.file("portod.socket")
        let host = SimHost(options: SimOptions(containers: 10, seed: 3))
        var sim = try SimServer.start(socketPath: socket, host: host)
        defer { sim.stop() }

        try ExporterProcess.withRunning(socket: socket, dir: dir) { exporter in
            _ = try exporter.scrape()
            var before = exporter.logText
            _ = try exporter.scrape()
            _ = try exporter.scrape()
            #expect(Self.added(exporter, since: before) == [], "no line per scrape when all is well")

            // One method fails: one warn line with what broke; a repeat within the minute adds nothing.
            sim.setFaults(FaultOptions(onlyMethod: "ListContainersBy", fail: true))
            for _ in 0..<2 {
                let text = try exporter.scrape()
                #expect(text.contains("porto_exporter_collector_success{collector=\"containers\"} 0\n"))
            }
            var lines = Self.added(exporter, since: before)
            #expect(lines.count == 1, "\(lines)")
            #expect(lines.first?.contains(
                #" level=warn msg="portod request failed" collector=containers error=Unknown kind=porto message="injected failure" method=ListContainersBy socket=\#(socket)"#) == true,
                "\(lines)")
            before = exporter.logText
            sim.setFaults(.none)
            _ = try exporter.scrape()
            lines = Self.added(exporter, since: before)
            #expect(lines.count == 1, "\(lines)")
            #expect(lines.first?.contains(
                #" level=info msg="portod request succeeds again after 2 failed scrapes" collector=containers failed_scrapes=2 method=ListContainersBy socket=\#(socket)"#) == true,
                "\(lines)")

            // portod goes away (its socket file with it), then comes back.
            before = exporter.logText
            sim.stop()
            #expect(try exporter.scrape().contains("\nporto_up 0\n"))
            lines = Self.added(exporter, since: before)
            #expect(!lines.isEmpty && lines.allSatisfy { $0.contains(" level=warn msg=\"portod request failed\" ") && $0.contains(" kind=socket ") })
            #expect(lines.contains { $0.contains(" collector=daemon error=unreachable kind=socket message=") && $0.contains(" method=GetSystem socket=\(socket)") }, "\(lines)")
            before = exporter.logText
            sim = try SimServer.start(socketPath: socket, host: host)
            #expect(try exporter.scrape().contains("\nporto_up 1\n"))
            lines = Self.added(exporter, since: before)
            #expect(lines.count == 1 && lines[0].contains(
                #" level=info msg="portod reachable again after 1 failed scrape" failed_scrapes=1 socket=\#(socket)"#), "\(lines)")

            // A hung request: the timeout says how long it waited.
            before = exporter.logText
            sim.setFaults(FaultOptions(hang: true, onlyMethod: "GetSystem"))
            let r = try HTTPTestClient(port: exporter.port, timeout: 30)
                .request("GET", "/metrics", headers: ["X-Prometheus-Scrape-Timeout-Seconds": "2"])
            #expect(r.status == 200)
            // The collection runs on past this short scrape's deadline, up to --porto.timeout (a
            // longer scrape may join it): the timeout is logged when it ends.
            try waitUntil(timeout: 20) { Self.added(exporter, since: before).contains { $0.contains(" kind=timeout ") } }
            lines = Self.added(exporter, since: before)
            let timeout = lines.first { $0.contains(" kind=timeout ") }
            #expect(timeout?.contains(" level=warn msg=\"portod request failed\" collector=daemon kind=timeout message=\"GetSystem: no answer within ") == true, "\(lines)")
            #expect(timeout?.contains(" method=GetSystem socket=\(socket) waited=") == true, "\(lines)")
            sim.setFaults(.none)
        }
    }

    /// ListProperties (once per connection) leaves out what this portod does not know: it is never
    /// asked, so portod reports no unknown property and nothing is logged; the samples are absent.
    /// (A portod that cannot list its properties reports them, logged once: PortodLogTests.)
    @Test func propertiesPortodDoesNotKnowAreNeverAsked() throws {
        let dir = try TempDirectory()
        let socket = dir.file("portod.socket")
        let sim = try SimServer.start(socketPath: socket, host: SimHost(options: SimOptions(
            containers: 5, seed: 3, unknownProperties: ["io_pressure", "cpu_pressure"])))
        defer { sim.stop() }
        try ExporterProcess.withRunning(socket: socket, dir: dir) { exporter in
            for _ in 0..<3 {
                let text = try exporter.scrape()
                #expect(text.contains("porto_exporter_collector_success{collector=\"containers\"} 1\n"), "not a failure")
                #expect(!text.contains("porto_container_io_pressure_seconds_total{") && text.contains("porto_container_memory_pressure_seconds_total{"))
            }
            #expect(sim.requestCounts["ListProperties"] == 1)
            #expect(!exporter.logText.contains("does not know"), "\(exporter.logText)")
        }
    }
}
