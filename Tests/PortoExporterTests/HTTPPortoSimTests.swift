import Foundation
import Logging
import PortoSim
import PortoWire
import Testing
@testable import PortoExporter

/// A transport that holds the first call until the test opens the gate: the collection is then
/// known to be in flight while the test sends its scrapes.
final class GatedTransport: PortoTransport, @unchecked Sendable {
    let inner: any PortoTransport
    let gate = Gate()
    init(_ inner: any PortoTransport) { self.inner = inner }
    func call(_ request: Porto_TPortoRequest, timeout: Duration?) throws(PortoError) -> Porto_TPortoResponse {
        gate.wait()
        return try inner.call(request, timeout: timeout)
    }
}

/// The whole exporter in-process: porto-sim's server on a unix socket in a temporary directory,
/// a PortoClient, the collection, the single-flight coordinator and the HTTP server on port 0.
final class SimExporter {
    let dir: TempDirectory
    let sim: SimServer
    let client: PortoClient
    let gated: GatedTransport?
    let coordinator: ScrapeCoordinator
    let server: MetricsServer
    var port: UInt16 { server.ports[0] }

    /// `legacy`, `noGetSystem`: porto-sim as a portod older than 5.0, or 4.6 (``SimOptions``).
    init(containers: Int = 20, faults: FaultOptions = .none, gated: Bool = false, defaultTimeout: Duration = .seconds(10),
         legacy: Bool = false, noGetSystem: Bool = false) throws {
        dir = try TempDirectory()
        sim = try SimServer.start(socketPath: dir.file("portod.socket"),
                                  host: SimHost(options: SimOptions(containers: containers, seed: 7, legacy: legacy, noGetSystem: noGetSystem)),
                                  faults: faults)
        let selfMetrics = SelfMetrics()
        client = PortoClient(socketPath: dir.file("portod.socket"), timeout: .seconds(30), observer: selfMetrics.observer)
        self.gated = gated ? GatedTransport(client) : nil
        let collection = CollectorSet(configuration: CollectionConfiguration(), transport: self.gated ?? client)
        coordinator = ScrapeCoordinator(
            collectionTimeout: defaultTimeout,
            collect: { deadline, progress in
                CollectionSnapshot(collection: collection, deadline: deadline, selfMetrics: selfMetrics, progress: progress)
            },
            timedOut: { CollectionSnapshot(timedOut: collection, selfMetrics: selfMetrics) })
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        var configuration = MetricsServer.Configuration()
        configuration.listenAddresses = [ListenAddress(host: "127.0.0.1", port: 0)]
        configuration.defaultTimeout = defaultTimeout
        let probe = PortoClient(socketPath: dir.file("portod.socket"), timeout: .milliseconds(900))
        server = try MetricsServer(configuration: configuration, webConfig: try WebConfigStore(path: nil, logger: logger),
                                   coordinator: coordinator, portodAnswers: {
                                       var version = Porto_TPortoRequest()
                                       version.version = Porto_TVersionRequest()
                                       return (try? probe.call(version)) != nil
                                   }, logger: logger)
    }

    deinit {
        gated?.gate.open()
        server.shutdown(timeout: .seconds(5))
        client.close()
        sim.stop()
    }

    func client(timeout: Double = 20) throws -> HTTPTestClient { try HTTPTestClient(port: port, timeout: timeout) }

    /// The sample lines of `text` whose name and labels start with `prefix`.
    static func samples(_ text: String, _ prefix: String) -> [String] {
        text.split(separator: "\n").map(String.init).filter { $0.hasPrefix(prefix) }
    }
}

@Suite struct HTTPPortoSimTests {
    static let prometheus3Accept = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1"

    @Test(arguments: ExpositionFormat.allCases)
    func aScrapeOfPortoSimIsCompleteAndValid(format: ExpositionFormat) throws {
        let e = try SimExporter()
        let c = try e.client()
        #expect(try c.request("GET", "/-/ready").status == 200, "portod answers Version: ready before any scrape")
        let r = try c.request("GET", "/metrics", headers: format == .openMetrics ? ["Accept": Self.prometheus3Accept] : [:])
        #expect(r.status == 200)
        #expect(r.header("Content-Type") == format.contentType)
        let (samples, problems) = ExpositionValidator.check(r.text, format: format)
        #expect(problems.isEmpty, "\(problems.prefix(5))")
        #expect(samples.count > 100)
        #expect(r.text.contains("\nporto_up 1\n"))
        #expect(r.text.contains("porto_exporter_collector_success{collector=\"containers\"} 1\n"))
        #expect(r.text.contains("porto_exporter_build_info{version=\""))
        #expect(r.text.contains("process_resident_memory_bytes "))
        #expect(r.text.contains("porto_exporter_request_duration_seconds_bucket{method=\"ListContainersBy\",le="))
        #expect(r.text.contains("porto_container_cpu_usage_seconds_total{name="))
        #expect(try c.request("GET", "/-/ready").status == 200)
    }

    @Test func concurrentScrapesCostPortodOneCollection() throws {
        let e = try SimExporter(gated: true)
        let variants: [[String: String]] = [
            ["Accept": Self.prometheus3Accept, "Accept-Encoding": "gzip"],    // Prometheus A
            ["Accept": Self.prometheus3Accept, "Accept-Encoding": "gzip"],    // Prometheus B (HA pair)
            [:],                                                              // curl
            ["Accept-Encoding": "gzip"],
            ["Accept": "application/openmetrics-text;version=1.0.0"],
            [:], [:], ["Accept-Encoding": "gzip, br"],
        ]
        let clients = try variants.map { _ in try e.client() }
        for (c, headers) in zip(clients, variants) {
            var text = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Prometheus-Scrape-Timeout-Seconds: 30\r\n"
            for (name, value) in headers { text += "\(name): \(value)\r\n" }
            try c.send(text + "\r\n")
        }
        // Every scrape is in the server while the first call of the one collection is held.
        try waitUntil { e.server.inFlightScrapeCount == clients.count }
        #expect(e.coordinator.collectionCount == 1)
        e.gated!.gate.open()
        var bodies: [ExpositionFormat: String] = [:]
        for (c, headers) in zip(clients, variants) {
            let r = try c.readResponse()
            #expect(r.status == 200)
            let gzip = headers["Accept-Encoding"] != nil
            #expect((r.header("Content-Encoding") == "gzip") == gzip)
            let body = String(decoding: gzip ? try #require(Gzip.decompress(r.body)) : r.body, as: UTF8.self)
            let format: ExpositionFormat = headers["Accept"] == nil ? .text : .openMetrics
            #expect(r.header("Content-Type") == format.contentType)
            // The collection's samples are the same for every scrape; the self-metrics
            // (process_*, RPC latency) are read when each variant is rendered.
            let collected = body.split(separator: "\n").filter { !$0.contains("process_") && !$0.contains("porto_exporter_request_duration_seconds") }
                .joined(separator: "\n")
            if let seen = bodies[format] { #expect(seen == collected, "one collection, the same samples") }
            bodies[format] = collected
        }
        let counts = e.sim.requestCounts
        #expect(counts["ListContainersBy"] == 1, "\(counts)")
        #expect(counts["GetSystem"] == 1, "\(counts)")
        #expect(e.coordinator.collectionCount == 1)
    }

    @Test func theDeadlineIsHonouredWhenPortodHangs() throws {
        let e = try SimExporter(faults: FaultOptions(hang: true))
        let c = try e.client()
        let r = try c.request("GET", "/metrics", headers: ["X-Prometheus-Scrape-Timeout-Seconds": "1.5"])
        #expect(r.status == 200)
        #expect(ExpositionValidator.check(r.text, format: .text).problems.isEmpty)
        #expect(r.text.contains("\nporto_up 0\n"))
        #expect(r.text.contains("porto_exporter_collector_success{collector=\"containers\"} 0\n"))
        #expect(try c.request("GET", "/-/ready").status == 503)
        // portod recovers: the first scrape after it is complete.
        e.sim.setFaults(.none)
        try waitUntil { e.server.inFlightScrapeCount == 0 }
        var recovered: HTTPTestClient.Response?
        try waitUntil(timeout: 20) {
            // The hung collection may still be ending: wait for one that saw portod answer.
            let r = try c.request("GET", "/metrics", headers: ["X-Prometheus-Scrape-Timeout-Seconds": "10"])
            recovered = r
            return r.text.contains("\nporto_up 1\n")
        }
        #expect(recovered?.text.contains("porto_exporter_collector_success{collector=\"containers\"} 1\n") == true)
        // Readiness reuses an answer for a second from the start of its call (Readiness.reuse): the
        // "not ready" of the hang, whose call took the probe's 900 ms, may still be the one served.
        try waitUntil(timeout: 5) { try c.request("GET", "/-/ready").status == 200 }
    }

    @Test func theDeadlineIsHonouredWhenPortodIsSlow() throws {
        // Every answer takes 800 ms; a 1 s scrape cannot hold all of them.
        let e = try SimExporter(faults: FaultOptions(delay: .milliseconds(800)))
        let r = try e.client().request("GET", "/metrics", headers: ["X-Prometheus-Scrape-Timeout-Seconds": "1"])
        #expect(r.status == 200)
        #expect(ExpositionValidator.check(r.text, format: .text).problems.isEmpty)
        let failed = SimExporter.samples(r.text, "porto_exporter_collector_success{").filter { $0.hasSuffix(" 0") }
        #expect(!failed.isEmpty, "the collectors that ran out of time say so")
    }

    /// A scrape that joins a collection is answered at its own deadline, not the one of the scrape
    /// that started it. A (3 s) starts the collection, B (10 s) joins; portod answers
    /// ListContainersBy after 5 s. A gets what was done by its deadline (the daemon collector),
    /// B the whole collection, from the one collection.
    @Test func aJoiningScrapeIsAnsweredAtItsOwnDeadline() throws {
        var faults = FaultOptions(delay: .seconds(5))
        faults.onlyMethod = "ListContainersBy"
        let e = try SimExporter(faults: faults)
        let a = try e.client(), b = try e.client()
        try a.send("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Prometheus-Scrape-Timeout-Seconds: 3\r\n\r\n")
        try waitUntil { e.coordinator.collectionCount == 1 }
        try b.send("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n")
        let partial = try a.readResponse().text
        #expect(ExpositionValidator.check(partial, format: .text).problems.isEmpty)
        #expect(partial.contains("\nporto_up 1\n"))
        #expect(partial.contains("porto_exporter_collector_success{collector=\"daemon\"} 1\n"))
        #expect(partial.contains("porto_exporter_collector_success{collector=\"containers\"} 0\n"))
        #expect(!partial.contains("porto_container_cpu_usage_seconds_total{"))
        let whole = try b.readResponse().text
        #expect(whole.contains("\nporto_up 1\n"))
        #expect(!whole.contains("porto_exporter_collector_success{collector=\"containers\"} 0\n"), "ListContainersBy answered within B's deadline")
        #expect(whole.contains("porto_exporter_collector_success{collector=\"containers\"} 1\n"))
        #expect(whole.contains("porto_container_cpu_usage_seconds_total{"))
        #expect(e.coordinator.collectionCount == 1)
    }

    @Test func anUnreachableSocketIsPortoUp0With200() throws {
        let e = try SimExporter()
        e.sim.stop()
        let r = try e.client().request("GET", "/metrics")
        #expect(r.status == 200)
        #expect(r.text.contains("\nporto_up 0\n"))
        #expect(try e.client().request("GET", "/-/ready").status == 503)
    }
}
