import PortoSim
import PortoWire
import Testing
@testable import PortoExporter

/// portod before 4.6 (no GetSystem): the daemon collector reads `porto_stat` of "/" and `Version`
/// instead. porto-sim --legacy (portod < 5.0: no ListContainersBy) answered in-process, with
/// GetSystem refused as an older portod refuses it (InvalidMethod "invalid RPC method", PORTO.md 8).
@Suite struct DaemonLegacyTests {
    final class NoGetSystem: PortoTransport, @unchecked Sendable {
        let inner: SimTransport
        private let lock = Lock()
        private var _methods: [String] = []
        init(_ host: SimHost) { inner = SimTransport(host) }
        var methods: [String] { lock.withLock { _methods } }

        func call(_ request: Porto_TPortoRequest, timeout: Duration?) throws(PortoError) -> Porto_TPortoResponse {
            lock.withLock { _methods.append(request.methodName) }
            if request.hasGetSystem { throw PortoError.porto(.invalidMethod, message: "invalid RPC method") }
            return try inner.call(request, timeout: timeout)
        }
    }

    static let daemonOnly = CollectionConfiguration(groups: [.daemon])

    static func samples(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("porto_daemon_") {
            guard let space = line.lastIndex(of: " ") else { continue }
            out[String(line[..<space])] = String(line[line.index(after: space)...])
        }
        return out
    }

    @Test func withoutGetSystemTheDaemonMetricsComeFromPortoStat() throws {
        let transport = NoGetSystem(SimGoldenTests.host(legacy: true))
        let (text, report) = SimGoldenTests.scrape(transport, Self.daemonOnly, format: .text)
        #expect(report.up)
        #expect(text.contains("porto_exporter_collector_success{collector=\"daemon\"} 1\n"))
        #expect(transport.methods == ["GetSystem", "Get", "Version"])

        // The same host read with GetSystem: every sample porto_stat carries is there, with the
        // same value except the request counters (the fallback's own requests count).
        let (expectedText, _) = SimGoldenTests.scrape(SimTransport(SimGoldenTests.host(legacy: true)), Self.daemonOnly, format: .text)
        let got = Self.samples(text), expected = Self.samples(expectedText)
        for name in ["porto_daemon_errors_total", "porto_daemon_warnings_total", "porto_daemon_porto_starts_total",
                     "porto_daemon_porto_uptime_seconds", "porto_daemon_containers", "porto_daemon_container_oom_total",
                     "porto_daemon_container_start_failed_total", "porto_daemon_volumes"] {
            let key = try #require(expected.keys.first { $0 == name || $0.hasPrefix(name + "{") }, "\(name) in the GetSystem scrape")
            #expect(got[key] == expected[key], "\(key)")
        }
        for key in expected.keys where key.hasPrefix("porto_daemon_request_duration_seconds_bucket") {
            #expect(got[key] != nil, "\(key)")
        }
        // Version and revision from Version; the kernel version only GetSystem tells.
        let version = try #require(SimGoldenTests.host(legacy: true).respond(to: {
            var r = Porto_TPortoRequest(); r.version = Porto_TVersionRequest(); return r
        }())?.version)
        #expect(got["porto_daemon_info{version=\"\(version.tag)\",revision=\"\(version.revision)\",kernel_version=\"\"}"] == "1")
    }

    @Test func portoStatKeys() {
        let system = DaemonCollector.system(fromPortoStat: "errors: 3; restarts: 2; requests_completed: 10; requests_longer_1s: 1; spec_requests_completed: 7; memory_usage_mb: 48; container_count: x")
        #expect(system.errors == 3)
        #expect(system.portoStarts == 2)
        #expect(system.requestCompleted == 10)
        #expect(system.requestLonger1S == 1)
        #expect(!system.hasContainerCount)   // not a whole number: left out
        #expect(!system.hasFatals)
    }

    @Test func otherErrorsOfGetSystemAreNotFallenBackFrom() {
        let transport = FakeTransport { request throws(PortoError) in
            if request.hasGetSystem { throw PortoError.porto(.permission, message: "no") }
            return .ok { _ in }
        }
        let (text, _) = SimGoldenTests.scrape(transport, Self.daemonOnly, format: .text)
        #expect(text.contains("porto_exporter_collector_success{collector=\"daemon\"} 0\n"))
        #expect(!transport.methods.contains("Get"))
    }
}
