import PortoSim
import Testing
@testable import PortoExporter

/// `_created` is off by default and, with `--web.enable-openmetrics-text-created-samples`, right
/// across respawns (docs/porto.md §3.4): a respawn keeps the cgroups (their counters carry on) and
/// recreates the network namespace; a stop and start resets both.
@Suite struct CreatedSamplesTests {
    static func created(_ text: String, _ family: String, _ name: String) -> String? {
        let prefix = "\(family)_created{name=\"\(name)\""
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return nil }
        return line.split(separator: " ").last.map(String.init)
    }

    /// Whether any sample is a `_created` one (daemon counters such as `container_created_total`
    /// only contain the word).
    static func hasCreatedSamples(_ text: String) -> Bool {
        text.split(separator: "\n").contains { line in
            !line.hasPrefix("#") && (line.split(separator: "{").first ?? "").split(separator: " ").first?.hasSuffix("_created") == true
        }
    }

    @Test func absentByDefault() throws {
        let (text, report) = SimGoldenTests.scrape(SimTransport(SimGoldenTests.host()), format: .openMetrics)
        #expect(report.success)
        #expect(text.contains("porto_container_cpu_usage_seconds_total{"))
        #expect(!Self.hasCreatedSamples(text))
        #expect(Self.hasCreatedSamples(SimGoldenTests.scrape(
            SimTransport(SimGoldenTests.host()), CollectionConfiguration(createdSamples: true), format: .openMetrics).0))
    }

    @Test func absentByDefaultOverHTTP() throws {
        let e = try SimExporter()
        let r = try e.client().request("GET", "/metrics", headers: ["Accept": HTTPPortoSimTests.prometheus3Accept])
        #expect(r.status == 200 && r.text.hasSuffix("# EOF\n"))
        #expect(!Self.hasCreatedSamples(r.text))
    }

    /// The flag on the command line: the binary against porto-sim's server, an OpenMetrics scrape
    /// with and without it.
    @Test func theFlagTurnsThemOn() throws {
        let dir = try TempDirectory()
        let socket = dir.file("portod.socket")
        let sim = try SimServer.start(socketPath: socket, host: SimHost(options: SimOptions(containers: 20, seed: 7)))
        defer { sim.stop() }
        for flag in [false, true] {
            let text = try ExporterProcess.withRunning(
                socket: socket, dir: try TempDirectory(), extra: flag ? ["--web.enable-openmetrics-text-created-samples"] : []
            ) { exporter in
                try HTTPTestClient(port: exporter.port, timeout: 30)
                    .request("GET", "/metrics", headers: ["Accept": HTTPPortoSimTests.prometheus3Accept]).text
            }
            #expect(text.hasSuffix("# EOF\n"))
            #expect(Self.hasCreatedSamples(text) == flag, "flag \(flag)")
        }
    }

    @Test func rightAcrossRespawnWithTheFlag() throws {
        let clock = SimManualClock(epochSeconds: SimGoldenTests.epoch)
        let host = SimHost(options: SimOptions(containers: 50, seed: 1, clock: .manual(clock)))
        let config = CollectionConfiguration(groups: CollectorGroup.defaults, createdSamples: true)
        let collection = CollectorSet(configuration: config, transport: SimTransport(host))
        func scrape() -> String {
            let writer = ExpositionWriter(format: .openMetrics)
            #expect(collection.collect(into: writer, deadline: .now + .seconds(60)).success)
            return String(decoding: writer.finish(), as: UTF8.self)
        }
        let cpu = "porto_container_cpu_usage_seconds"
        let net = "porto_container_net_rx_bytes"
        let respawns = "porto_container_respawn_count"

        let first = scrape()
        let start0 = try #require(Self.created(first, cpu, "db"))
        #expect(Self.created(first, net, "db") == start0)
        let creation = try #require(Self.created(first, respawns, "db"))

        clock.advance(by: 60)
        #expect(host.inject(.setState("db", .dead)))
        #expect(host.inject(.respawn("db")))
        clock.advance(by: 15)
        let afterRespawn = scrape()
        #expect(Self.created(afterRespawn, cpu, "db") == start0, "cgroup counters carry on through a respawn")
        #expect(Self.created(afterRespawn, net, "db") == String(SimGoldenTests.epoch + 60), "the netns is new")
        #expect(Self.created(afterRespawn, respawns, "db") == creation)

        clock.advance(by: 30)
        #expect(host.inject(.setState("db", .stopped)))
        #expect(host.inject(.setState("db", .running)))
        let afterRestart = scrape()
        let start2 = String(SimGoldenTests.epoch + 105)
        #expect(Self.created(afterRestart, cpu, "db") == start2, "stop and start makes new cgroups")
        #expect(Self.created(afterRestart, net, "db") == start2)

        // A container first seen after respawns: no cgroup _created (unknown), the netns one is known.
        let fresh = CollectorSet(configuration: config, transport: SimTransport(host))
        let writer = ExpositionWriter(format: .openMetrics)
        fresh.collect(into: writer, deadline: .now + .seconds(60))
        let text = String(decoding: writer.finish(), as: UTF8.self)
        #expect(Self.created(text, cpu, "flappy") == nil)
        #expect(Self.created(text, cpu, "db") == nil, "db has respawned once: when its cgroups were made is unknown")
        #expect(Self.created(text, net, "db") == start2)
        #expect(Self.created(text, cpu, "web") == Self.created(first, cpu, "web"), "never respawned: start_time")
    }
}
