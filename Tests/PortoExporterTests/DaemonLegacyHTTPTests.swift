import PortoSim
import PortoWire
import Testing
@testable import PortoExporter

/// The built `porto-exporter` binary scraped over HTTP while it reads porto-sim in its
/// `--no-get-system` mode (a portod older than 4.6.0, docs/porto.md §8): the daemon metrics come from
/// `Get ["/"] ["porto_stat"]` and `Version`, GetSystem is tried again on every scrape, porto_up is 1.
@Suite struct DaemonLegacyHTTPTests {
    /// The value of the sample `series` (name and labels, exactly) in `text`.
    static func value(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.dropFirst(series.count + 1)) }
    }

    @Test func withoutGetSystemTheDaemonMetricsComeFromPortoStat() throws {
        let dir = try TempDirectory()
        let socket = dir.file("portod.socket")
        let host = SimHost(options: SimOptions(containers: 20, seed: 4, noGetSystem: true))
        var versionRequest = Porto_TPortoRequest()
        versionRequest.version = Porto_TVersionRequest()
        let version = try #require(host.respond(to: versionRequest)?.version)
        let sim = try SimServer.start(socketPath: socket, host: host)
        defer { sim.stop() }

        let scrapes = try ExporterProcess.withRunning(socket: socket, dir: dir) { exporter in
            [try exporter.scrape(), try exporter.scrape()]
        }
        for text in scrapes {
            #expect(ExpositionValidator.check(text, format: .text).problems.isEmpty)
            #expect(text.contains("\nporto_up 1\n"))
            #expect(text.contains("porto_exporter_collector_success{collector=\"daemon\"} 1\n"))
            #expect(text.contains("porto_exporter_collector_success{collector=\"containers\"} 1\n"))
            // Version and revision from Version; the kernel version only GetSystem tells.
            #expect(text.contains("porto_daemon_info{version=\"\(version.tag)\",revision=\"\(version.revision)\",kernel_version=\"\"} 1\n"))
            // porto_stat's `restarts` (the key before 4.7.2) is porto_starts; porto-sim starts at 3.
            #expect(Self.value(text, "porto_daemon_porto_starts_total") == 3)
            #expect(Self.value(text, "porto_daemon_containers") == 20)
            #expect(Self.value(text, "porto_daemon_errors_total") != nil)
            #expect(Self.value(text, "porto_daemon_request_duration_seconds_bucket{le=\"+Inf\"}") != nil)
            #expect(text.contains("porto_container_cpu_usage_seconds_total{name=\"web\"}"))
        }
        // porto_stat counts requests like GetSystem does, so it is read afresh on every scrape.
        let completed = scrapes.map { Self.value($0, "porto_daemon_request_completed_total") ?? 0 }
        #expect(completed[1] > completed[0], "\(completed)")
        let counts = sim.requestCounts
        #expect(counts["GetSystem"] == 2, "tried again on every scrape: \(counts)")
        #expect(counts["ListContainersBy"] == 1, "remembered for the connection: \(counts)")
        #expect((counts["Get"] ?? 0) >= 4, "porto_stat and the containers, each scrape: \(counts)")
        #expect((counts["Version"] ?? 0) >= 2, "\(counts)")
    }
}
