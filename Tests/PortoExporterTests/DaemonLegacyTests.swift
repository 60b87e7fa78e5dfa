import PortoSim
import PortoWire
import Testing
@testable import PortoExporter

/// portod before 4.6 (no GetSystem): the daemon collector reads `porto_stat` of "/" and `Version`
/// instead. porto-sim's `noGetSystem` host (portod < 4.6, docs/porto.md §8: GetSystem and
/// ListContainersBy answer InvalidMethod "invalid RPC method") answered in-process.
@Suite struct DaemonLegacyTests {
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
        let host = SimHost(options: SimOptions(containers: 50, seed: 1, noGetSystem: true, clock: .fixed(epochSeconds: SimGoldenTests.epoch)))
        let transport = FakeTransportRecorder(SimTransport(host))
        let (text, report) = SimGoldenTests.scrape(transport, Self.daemonOnly, format: .text)
        #expect(report.up)
        #expect(text.contains("porto_exporter_collector_success{collector=\"daemon\"} 1\n"))
        #expect(transport.methods == ["GetSystem", "Get", "Version"])

        // The same host on a portod that has GetSystem: every sample porto_stat carries is there,
        // with the same value except the request counters (the fallback's own requests count).
        let (expectedText, _) = SimGoldenTests.scrape(SimTransport(SimGoldenTests.host(legacy: true)), Self.daemonOnly, format: .text)
        let got = Self.samples(text), expected = Self.samples(expectedText)
        for name in ["porto_daemon_errors_total", "porto_daemon_warnings_total", "porto_daemon_porto_starts_total",
                     "porto_daemon_start_time_seconds", "porto_daemon_containers", "porto_daemon_container_oom_total",
                     "porto_daemon_container_start_failed_total", "porto_daemon_volumes"] {
            let key = try #require(expected.keys.first { $0 == name || $0.hasPrefix(name + "{") }, "\(name) in the GetSystem scrape")
            #expect(got[key] == expected[key], "\(key)")
        }
        for key in expected.keys where key.hasPrefix("porto_daemon_request_duration_seconds_bucket") {
            #expect(got[key] != nil, "\(key)")
        }
        // Version and revision from Version; the kernel version only GetSystem tells.
        let version = try #require(host.respond(to: {
            var r = Porto_TPortoRequest(); r.version = Porto_TVersionRequest(); return r
        }())?.version)
        #expect(version.tag == SimHost.tagBeforeGetSystem)
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
