import Foundation
import Logging
import Testing
@testable import PortoExporter

/// A snapshot with a fixed body per format.
struct FixedSnapshot: Snapshot {
    var reachedPorto = true
    var tag = "fixed"
    func write(_ format: ExpositionFormat, to sink: (UnsafeRawBufferPointer) -> Void) {
        let text = "# HELP test_value A test value.\n# TYPE test_value gauge\ntest_value{tag=\"\(tag)\"} 1\n" + (format == .openMetrics ? "# EOF\n" : "")
        // In several chunks, as an ExpositionWriter gives them.
        for line in text.split(separator: "\n") { Array((line + "\n").utf8).withUnsafeBytes(sink) }
    }
}

/// A server on 127.0.0.1:0 with a scripted collection.
final class TestServer {
    let server: MetricsServer
    let coordinator: ScrapeCoordinator
    var port: UInt16 { server.ports[0] }

    init(webConfigPath: String? = nil, maxRequests: Int = 40, defaultTimeout: Duration = .seconds(5),
         connectionTimeoutSeconds: UInt32 = 30,
         collectionTimeout: Duration = .zero, portodAnswers: @escaping @Sendable () -> Bool = { true }, auth: BasicAuth = BasicAuth(),
         collect: @escaping @Sendable (ContinuousClock.Instant) -> any Snapshot = { _ in FixedSnapshot() }) throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        coordinator = ScrapeCoordinator(collectionTimeout: collectionTimeout, collect: collect, timedOut: { FixedSnapshot(reachedPorto: false, tag: "timeout") })
        var configuration = MetricsServer.Configuration()
        configuration.listenAddresses = [ListenAddress(host: "127.0.0.1", port: 0)]
        configuration.maxRequests = maxRequests
        configuration.defaultTimeout = defaultTimeout
        configuration.version = "1.2.3-test"
        configuration.connectionTimeoutSeconds = connectionTimeoutSeconds
        server = try MetricsServer(configuration: configuration,
                                   webConfig: try WebConfigStore(path: webConfigPath, logger: logger),
                                   coordinator: coordinator, portodAnswers: portodAnswers, auth: auth, logger: logger)
    }

    func client() throws -> HTTPTestClient { try HTTPTestClient(port: port) }
}

@Suite struct HTTPServerTests {
    @Test func servesMetricsWithExactContentType() throws {
        let t = try TestServer()
        let r = try t.client().request("GET", "/metrics")
        #expect(r.status == 200)
        #expect(r.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
        #expect(r.text == String(decoding: FixedSnapshot().render(.text), as: UTF8.self))
        #expect(r.header("Content-Encoding") == nil)
    }

    @Test func headHasNoBodyButTheSameHeaders() throws {
        let t = try TestServer()
        let c = try t.client()
        let get = try c.request("GET", "/metrics")
        let head = try c.request("HEAD", "/metrics")
        #expect(head.status == 200)
        #expect(head.body.isEmpty)
        #expect(head.header("Content-Type") == get.header("Content-Type"))
        #expect(head.header("Content-Length") == String(get.body.count))
    }

    @Test(arguments: ["POST", "PUT", "DELETE", "OPTIONS", "PATCH", "BREW"])
    func otherMethodsGet405WithAllow(method: String) throws {
        let t = try TestServer()
        let r = try t.client().request(method, "/metrics", headers: ["Content-Length": "0"])
        #expect(r.status == 405)
        #expect(r.header("Allow") == "GET, HEAD")
    }

    @Test(arguments: ["/metric", "/metrics/", "/metrics/../metrics", "/favicon.ico", "/-/unknown", "//metrics"])
    func unknownPathsGet404(path: String) throws {
        let t = try TestServer()
        let r = try t.client().request("GET", path)
        #expect(r.status == 404)
    }

    @Test func queryStringsAreIgnored() throws {
        let t = try TestServer()
        let r = try t.client().request("GET", "/metrics?collect[]=x")
        #expect(r.status == 200)
    }

    @Test func landingPageHealthAndReadiness() throws {
        let t = try TestServer(collect: { _ in FixedSnapshot(reachedPorto: false) })
        let c = try t.client()
        let landing = try c.request("GET", "/")
        #expect(landing.status == 200)
        #expect(landing.header("Content-Type") == "text/html; charset=utf-8")
        #expect(landing.text.contains("1.2.3-test"))
        #expect(landing.text.contains("<a href=\"/metrics\">"))
        #expect(try c.request("GET", "/-/healthy").status == 200)
        #expect(try c.request("GET", "/-/ready").status == 200, "portod answers Version: ready before any scrape")

        let silent = try TestServer(portodAnswers: { false })
        let c2 = try silent.client()
        #expect(try c2.request("GET", "/-/ready").status == 503)
        _ = try c2.request("GET", "/metrics")
        #expect(try c2.request("GET", "/-/ready").status == 503, "a scrape does not make it ready: portod must answer now")
    }

    /// `/-/ready` asks portod at most once a second, whatever the number of probes.
    @Test func readinessAsksPortodAtMostOnceASecond() throws {
        let calls = Counter()
        let t = try TestServer(portodAnswers: { calls.increment(); return true })
        let c = try t.client()
        let start = ContinuousClock.now
        for _ in 0..<30 { #expect(try c.request("GET", "/-/ready").status == 200) }
        let seconds = start.duration(to: .now).components.seconds
        #expect(calls.value >= 1)
        #expect(calls.value <= Int(seconds) + 1, "\(calls.value) Version calls in \(seconds) s")
    }

    /// A readiness call that hangs holds no HTTP thread: probes wait for it while scrapes are
    /// served, and all of them get its answer from the one call.
    @Test func aHangingReadinessCallHoldsNoHTTPThread() throws {
        let gate = Gate()
        defer { gate.open() }
        let calls = Counter()
        let t = try TestServer(portodAnswers: { calls.increment(); gate.wait(); return false })
        let probes = try (0..<6).map { _ in try t.client() }
        for probe in probes { try probe.send("GET /-/ready HTTP/1.1\r\nHost: x\r\n\r\n") }
        try waitUntil { calls.value == 1 }
        #expect(try t.client().request("GET", "/metrics").status == 200)
        gate.open()
        for probe in probes { #expect(try probe.readResponse().status == 503) }
        #expect(calls.value == 1)
    }

    @Test func keepAliveServesSeveralRequestsOnOneConnection() throws {
        let t = try TestServer()
        let c = try t.client()
        for path in ["/metrics", "/", "/metrics", "/nope", "/-/healthy", "/metrics"] {
            let r = try c.request("GET", path)
            #expect(r.status == (path == "/nope" ? 404 : 200))
            #expect(r.header("Connection")?.lowercased() != "close")
        }
    }

    @Test func keepAliveWithCurlReusesTheConnection() throws {
        let t = try TestServer()
        let url = "http://127.0.0.1:\(t.port)/metrics"
        let r = try Command.run("/usr/bin/curl", ["-sS", "-o", "/dev/null", "-o", "/dev/null", "-w", "%{num_connects}\n", url, url])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.output == "1\n0\n", "the second transfer reused the first connection")
    }

    @Test func gzipWhenAcceptedDecodesToTheIdentityBody() throws {
        let t = try TestServer()
        let c = try t.client()
        let identity = try c.request("GET", "/metrics")
        let gzipped = try c.request("GET", "/metrics", headers: ["Accept-Encoding": "gzip, deflate, br"])
        #expect(gzipped.header("Content-Encoding") == "gzip")
        #expect(gzipped.header("Vary") == "Accept-Encoding")
        #expect(identity.header("Vary") == "Accept-Encoding")
        #expect(gzipped.header("Content-Type") == identity.header("Content-Type"))
        let decoded = try #require(Gzip.decompress(gzipped.body))
        #expect(decoded == identity.body)
        let refused = try c.request("GET", "/metrics", headers: ["Accept-Encoding": "gzip;q=0, *"])
        #expect(refused.header("Content-Encoding") == nil)
        #expect(refused.body == identity.body)
    }

    @Test func maxRequestsAnswers503BeyondTheLimit() throws {
        let gate = Gate()
        let t = try TestServer(maxRequests: 1, collect: { _ in gate.wait(); return FixedSnapshot() })
        let first = try t.client()
        try first.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        // The first scrape is now waiting in the collection; wait until it is counted.
        try waitUntil { t.coordinator.collectionCount == 1 }
        let second = try t.client().request("GET", "/metrics")
        #expect(second.status == 503)
        gate.open()
        #expect(try first.readResponse().status == 200)
        // The slot is freed when libmicrohttpd reports the request complete, which can come just
        // after the client has read the last chunk: poll (bounded) instead of racing it.
        try waitUntil { try t.client().request("GET", "/metrics").status == 200 }
    }
}

/// A thread-safe count (calls made by a fake).
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
