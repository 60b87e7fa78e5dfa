import Foundation
import Logging
import Testing
@testable import PortoExporter

@Suite struct HTTPSelfMetricsTests {
    func render(_ metrics: SelfMetrics, _ format: ExpositionFormat = .text) -> String {
        let writer = ExpositionWriter(format: format)
        metrics.write(to: writer)
        return String(decoding: writer.finish(), as: UTF8.self)
    }

    @Test func processMetricsBuildInfoAndRPCLatency() {
        let metrics = SelfMetrics(version: "9.9.9", revision: "abc123")
        metrics.observe(method: "GetSystem", seconds: 0.0007)
        metrics.observe(method: "GetSystem", seconds: 3)
        let text = render(metrics)
        #expect(ExpositionValidator.check(text, format: .text).problems.isEmpty)
        #expect(text.contains("porto_exporter_build_info{version=\"9.9.9\",revision=\"abc123\",swift_version=\"\(BuildInfo.swiftVersion)\"} 1\n"))
        #expect(text.contains("porto_exporter_request_duration_seconds_bucket{method=\"GetSystem\",le=\"0.001\"} 1\n"))
        #expect(text.contains("porto_exporter_request_duration_seconds_bucket{method=\"GetSystem\",le=\"+Inf\"} 2\n"))
        #expect(text.contains("porto_exporter_request_duration_seconds_count{method=\"GetSystem\"} 2\n"))
        for name in ["process_cpu_seconds_total ", "process_resident_memory_bytes ", "process_virtual_memory_bytes ",
                     "process_open_fds ", "process_max_fds ", "process_start_time_seconds "] {
            #expect(text.contains("\n" + name), "\(name)")
        }
        let stats = ProcessStats.read()
        #expect((stats.residentBytes ?? 0) > 1_000_000)
        #expect((stats.openFDs ?? 0) >= 3)
        #expect(abs((stats.startTimeSeconds ?? 0) - Date().timeIntervalSince1970) < 24 * 3600)
        #expect(ExpositionValidator.check(render(metrics, .openMetrics), format: .openMetrics).problems.isEmpty)
    }

    @Test func disableExporterMetricsLeavesOnlyBuildInfo() {
        let metrics = SelfMetrics(exporterMetrics: false)
        metrics.observe(method: "GetSystem", seconds: 0.001)
        let text = render(metrics)
        #expect(text.contains("porto_exporter_build_info{"))
        #expect(!text.contains("process_"))
        #expect(!text.contains("porto_exporter_request_duration_seconds"))
    }

    @Test(arguments: [
        (":9658", "", 9658), ("127.0.0.1:0", "127.0.0.1", 0), ("[::1]:9100", "::1", 9100), ("localhost:80", "localhost", 80),
    ])
    func listenAddresses(text: String, host: String, port: Int) throws {
        let address = try #require(ListenAddress(text))
        #expect(address.host == host)
        #expect(Int(address.port) == port)
    }

    @Test(arguments: ["9658", "::1:9100", "host:", "host:65536", "host:-1", "[::1:80", ""])
    func badListenAddresses(text: String) {
        #expect(ListenAddress(text) == nil)
    }

    @Test func logfmtAndJSONLines() {
        let lines = LineCollector()
        let sink = LogSink { lines.append($0) }
        let logfmt = Logger(label: "t") { _ in LineLogHandler(label: "t", format: .logfmt, sink: sink) }
        logfmt.info("web config reloaded", metadata: ["file": "/etc/a b.yml", "users": "2", "err": "say \"hi\"\nbye"])
        var json = Logger(label: "t") { _ in LineLogHandler(label: "t", format: .json, sink: sink) }
        json.logLevel = .debug
        json.debug("listening", metadata: ["address": "[::1]:9658", "tls": "false"])
        json.trace("not shown")
        let all = lines.all
        #expect(all.count == 2)
        #expect(all[0].hasPrefix("ts="))
        #expect(all[0].hasSuffix(" level=info msg=\"web config reloaded\" err=\"say \\\"hi\\\"\\nbye\" file=\"/etc/a b.yml\" users=2\n"))
        let object = try? JSONSerialization.jsonObject(with: Data(all[1].utf8)) as? [String: String]
        #expect(object?["level"] == "debug")
        #expect(object?["msg"] == "listening")
        #expect(object?["address"] == "[::1]:9658")
        #expect(all[1].hasPrefix("{\"ts\":"))
    }
}
