import Foundation
import Testing
@testable import PortoExporter

/// Clients that do not play by the rules, against the real server on 127.0.0.1:0: whatever a
/// client sends or withholds, it gets an answer (or a clean close), never a 5xx other than the 503
/// of `--web.max-requests`, and the server goes on serving the next client.
@Suite struct HTTPHostileClientTests {
    /// A normal scrape on a new connection: the proof that the server still serves.
    func healthyScrape(_ t: TestServer, headers: [String: String] = [:]) throws -> HTTPTestClient.Response {
        try t.client().request("GET", "/metrics", headers: headers)
    }

    // MARK: - Oversized requests

    /// What libmicrohttpd answers to a request that does not fit its per-connection memory
    /// (32 KiB by default): 414 for the request line, 431 for the headers, or it closes.
    static let tooBigAnswers: Set<Int> = [400, 413, 414, 431]

    @Test(arguments: [
        ("request line", "GET /metrics?" + String(repeating: "a", count: 200_000) + " HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("one huge header", "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "b", count: 200_000) + "\r\n\r\n"),
        ("many headers", "GET /metrics HTTP/1.1\r\nHost: x\r\n" + String(repeating: "X-H: v\r\n", count: 20_000) + "\r\n"),
        ("huge Accept", "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: " + String(repeating: "text/plain;q=0.1,", count: 5_000) + "\r\n\r\n"),
        ("huge method", String(repeating: "G", count: 100_000) + " /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
    ])
    func oversizedRequestsAreRefusedAndTheServerGoesOn(name: String, request: String) throws {
        let s = try TestServer()
        let outcome = RawExchange.send(request, port: s.port)
        switch outcome {
        case .status(let status):
            #expect(Self.tooBigAnswers.contains(status), "\(name): \(status)")
        case .closed:
            break
        }
        #expect(try healthyScrape(s).status == 200, "\(name): still serving")
    }

    // MARK: - Slow clients

    @Test func aSlowClientIsDisconnectedByTheConnectionTimeout() throws {
        let s = try TestServer(connectionTimeoutSeconds: 1)
        let slow = try HTTPTestClient(port: s.port, timeout: 20)
        try slow.send("GET /metrics HTTP/1.1\r\nHost: x\r\n")   // and never the blank line
        #expect(try healthyScrape(s).status == 200, "others are served meanwhile")
        #expect(slow.isClosedByPeer(), "the timeout (1 s) closed the connection well within the client's 20 s wait")
        let idle = try HTTPTestClient(port: s.port, timeout: 20)   // connects and says nothing
        #expect(idle.isClosedByPeer())
    }

    @Test func slowlorisConnectionsAreFreedByTheTimeout() throws {
        // The server accepts max(64, 4 × max-requests) connections; hold more than that, idle.
        let s = try TestServer(maxRequests: 4, connectionTimeoutSeconds: 1)
        var held: [HTTPTestClient] = []
        for _ in 0..<80 {
            guard let c = try? HTTPTestClient(port: s.port, timeout: 20) else { break }
            try? c.send("GET /metrics HTTP/1.1\r\n")
            held.append(c)
        }
        #expect(held.count > 64)
        // Within a bounded wait (the timeout is 1 s), a fresh scrape is answered again.
        try waitUntil(timeout: 20) { (try? healthyScrape(s).status) == 200 }
        for c in held { #expect(c.isClosedByPeer()) }
    }

    // MARK: - More scrapes than --web.max-requests

    @Test func scrapesBeyondMaxRequestsGet503ThenTheServerRecovers() throws {
        let gate = Gate()
        let s = try TestServer(maxRequests: 2, collect: { _ in gate.wait(); return FixedSnapshot() })
        let clients = try (0..<8).map { _ in try RawConnection(port: s.port) }
        for c in clients { c.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n") }
        // Six are refused at once; two wait in the (blocked) collection.
        try waitUntil(timeout: 60) { clients.filter { $0.hasData }.count == 6 }
        gate.open()
        var statuses: [Int] = []
        for c in clients { statuses.append(try c.readStatus()) }
        #expect(statuses.filter { $0 == 503 }.count == 6, "\(statuses)")
        #expect(statuses.filter { $0 == 200 }.count == 2, "\(statuses)")
        // Recovered: every slot is free again (a slot is freed when libmicrohttpd has sent the
        // whole answer, which may be just after the client has read its status line).
        try waitUntil(timeout: 30) { s.server.inFlightScrapeCount == 0 }
        let after = try (0..<2).map { _ in try RawConnection(port: s.port) }
        for c in after { c.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n") }
        for c in after { #expect(try c.readStatus() == 200) }
    }

    // MARK: - Methods, versions and paths

    @Test(arguments: [
        ("get /metrics HTTP/1.1", 405),          // methods are case-sensitive (RFC 9110 §9.1)
        ("TRACE /metrics HTTP/1.1", 405),
        ("CONNECT localhost:9658 HTTP/1.1", 404), // an authority is not a path we serve
        ("OPTIONS * HTTP/1.1", 404),
        ("M-SEARCH /metrics HTTP/1.1", 405),
        ("PROPFIND / HTTP/1.1", 405),
        ("DELETE /-/healthy HTTP/1.1", 405),
    ])
    func unknownMethodsAnswerWithoutHarm(line: String, expected: Int) throws {
        let s = try TestServer()
        #expect(RawExchange.send(line + "\r\nHost: x\r\nContent-Length: 0\r\n\r\n", port: s.port) == .status(expected), "\(line)")
        #expect(try healthyScrape(s).status == 200)
    }

    /// Paths are matched exactly, after libmicrohttpd's percent-decoding and without dot-segment
    /// normalisation: there is no file tree behind the server, so `..` can reach nothing, and a
    /// path that decodes to exactly a served one is that resource (RFC 3986 §6.2.2.2). The query
    /// string is ignored. Anything else is 404.
    @Test(arguments: [
        ("/metrics", 200),
        ("/metrics?", 200),
        ("/metrics?x=1&y=%00", 200),
        ("/metrics?../../etc/passwd", 200),
        ("/%6detrics", 200),                  // percent-decodes to /metrics
        ("/%6Detrics", 200),
        ("/METRICS", 404),
        ("/./metrics", 404),
        ("/metrics%zz", 404),
        ("/metrics%2F..%2F", 404),
        ("/metrics/..", 404),
        ("/metrics/../metrics", 404),
        ("/metrics/%2e%2e/metrics", 404),
        ("/%2e%2e/metrics", 404),
        ("/../metrics", 404),
        ("/metrics%2f", 404),
        ("/metrics/", 404),
        ("/metrics#fragment", 404),
        ("/metrics;jsessionid=1", 404),
        ("http://localhost/metrics", 404),   // absolute-form is not routed
        ("/-/healthy/../../metrics", 404),
        ("/%", 404),
        ("/%zz", 404),
        ("/" + String(repeating: "%2e%2e/", count: 500), 404),
        ("/\u{7f}metrics", 404),
    ])
    func pathTricks(path: String, expected: Int) throws {
        let s = try TestServer()
        #expect(RawExchange.send("GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n", port: s.port) == .status(expected), "\(path)")
        #expect(try healthyScrape(s).status == 200)
    }

    /// `%00` would decode to a NUL byte, and libmicrohttpd hands the path over as a C string:
    /// decoded, `/metrics%00.html` would be cut to `/metrics`. The server keeps `%00` encoded, so
    /// no NUL trick reaches a served path.
    @Test(arguments: ["/metrics%00", "/metrics%00junk", "/metrics%00.html", "/%00/metrics", "/nope%00/metrics", "/-/healthy%00x", "/%00"])
    func aNulInThePathIsNotAnEnd(path: String) throws {
        let s = try TestServer()
        #expect(RawExchange.send("GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n", port: s.port) == .status(404), "\(path)")
        #expect(try healthyScrape(s).status == 200)
    }

    @Test func http10ClientsAreServedAndClosed() throws {
        let s = try TestServer()
        let c = try RawConnection(port: s.port)
        c.send("GET /metrics HTTP/1.0\r\n\r\n")   // no Host: fine in HTTP/1.0
        let r = try c.readResponse()
        #expect(r.status == 200)
        #expect(r.body.contains("test_value"))
        #expect(c.readsEOF(), "no keep-alive unless an HTTP/1.0 client asks for it")
        #expect(RawExchange.send("HEAD /metrics HTTP/1.0\r\n\r\n", port: s.port) == .status(200))
    }

    @Test(arguments: [
        ("GET /metrics HTTP/1.1\r\n\r\n", [200, 400]),             // no Host: libmicrohttpd 0.9.75 lets it pass
        ("GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n", [505]),
        ("GET /metrics HTTP/9.9\r\nHost: x\r\n\r\n", [505]),
        ("GET /metrics FOO/1.1\r\nHost: x\r\n\r\n", [400, 505]),
        ("GET /metrics\r\n\r\n", [400, 505]),                        // HTTP/0.9 style
        ("\r\n\r\n\r\n", [400]),
        ("GET  /metrics  HTTP/1.1\r\nHost: x\r\n\r\n", [400, 404]),
        ("GET /metrics HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n", [400]),
        ("GET /metrics HTTP/1.1\r\nHost: x\r\n: empty-name\r\n\r\n", [200, 400]),
        ("GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", [400, 413]),
        ("GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", [400, 413]),
        ("GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", [400]),
        ("\u{16}\u{03}\u{01}\u{00}\u{05}hello", [400]),              // a TLS record on a plain port
        ("\u{0}\u{1}\u{2}\r\n\r\n", [400]),
        ("GET\r\n\r\n", [400, 505]),
        ("GET /metrics HTTP/9.9\r\n\r\n", [400, 505]),
        (" / HTTP/1.1\r\nHost: x\r\n\r\n", [400, 404, 405]),
    ])
    func malformedRequestsGetA4xxOrAClose(request: String, allowed: [Int]) throws {
        let s = try TestServer()
        let outcome = RawExchange.send(request, port: s.port)
        if case .status(let status) = outcome {
            #expect(allowed.contains(status), "\(request.prefix(80).debugDescription): \(status)")
        }
        #expect(try healthyScrape(s).status == 200)
    }

    // MARK: - Negotiation headers

    static let textType = "text/plain; version=0.0.4; charset=utf-8"
    static let openMetricsType = "application/openmetrics-text; version=1.0.0; charset=utf-8"

    @Test(arguments: [
        ",,,,,,", ";;;;", "/", "*/", "/*", "application/openmetrics-text;q=NaN",
        "application/openmetrics-text;q=1e309", "application/openmetrics-text;q=-1",
        "application/openmetrics-text;version=\"", "application/openmetrics-text;version=1.0.0;q",
        "text/plain;version=0.0.4;q=0.5;;;;q=0.9;;", "\u{00e9}\u{00e9}/\u{00e9}", "a/b, c/d, */*;q=0",
        String(repeating: "application/openmetrics-text;version=1.0.0,", count: 200),
        String(repeating: "x", count: 8_000),
    ])
    func malformedAcceptStillGetsAnExactContentType(accept: String) throws {
        let s = try TestServer()
        let r = try healthyScrape(s, headers: ["Accept": accept, "Accept-Encoding": accept])
        #expect(r.status == 200)
        let type = try #require(r.header("Content-Type"))
        #expect(type == Self.textType || type == Self.openMetricsType, "\(type)")
        #expect(r.header("Content-Encoding") == nil || r.header("Content-Encoding") == "gzip")
    }

    @Test(arguments: [
        "gzip;q=", "gzip;q=2", "gzip;q=0.0000001", "gzip;;;", ";gzip", "gzip q=1", "*;q=NaN", "identity;q=0, *;q=0",
        "gZiP", String(repeating: "gzip,", count: 2_000), "\u{00ff}\u{00fe}",
    ])
    func malformedAcceptEncodingGivesABodyThatDecodes(encoding: String) throws {
        let s = try TestServer()
        let r = try healthyScrape(s, headers: ["Accept-Encoding": encoding])
        #expect(r.status == 200)
        let body = r.header("Content-Encoding") == "gzip" ? try #require(Gzip.decompress(r.body)) : r.body
        #expect(String(decoding: body, as: UTF8.self).contains("test_value"))
    }

    // MARK: - Authorization

    @Test func malformedAuthorizationIs401NeverA5xx() throws {
        let dir = try TempDirectory()
        let hash = try #require(BasicAuth.bcryptHash("s3cret", cost: 4))
        let config = try dir.write("web.yml", "basic_auth_users:\n  prom: \(hash)\n")
        let s = try TestServer(webConfigPath: config)
        func b64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }
        let headers = [
            "Basic", "Basic ", "Basic  ", "basic " + b64(Array("prom:s3cret".utf8)) + "x", "Basic !!!!", "Basic ====",
            "Basic " + b64(Array("prom".utf8)), "Basic " + b64(Array(":".utf8)), "Basic " + b64(Array(":s3cret".utf8)),
            "Basic " + b64(Array("prom:".utf8)), "Basic " + b64([0xff, 0xfe, 0x3a, 0x00]),
            "Basic " + b64(Array("prom:s3cret".utf8)) + " trailing", "Basic " + b64(Array("prom:s3cre".utf8)),
            "Bearer abc", "Digest username=\"prom\"", "Basic " + String(repeating: "A", count: 20_000),
            "Basic " + b64(Array(("prom:" + String(repeating: "p", count: 10_000)).utf8)),
            "Basic " + b64(Array((String(repeating: "u", count: 10_000) + ":x").utf8)),
            "\u{00e9}\u{00e9}", "Basic\tcHJvbTpzM2NyZXQ=",
        ]
        for header in headers {
            let r = try HTTPTestClient(port: s.port).request("GET", "/metrics", headers: ["Authorization": header])
            #expect(r.status == 401, "\(header.prefix(60).debugDescription): \(r.status)")
        }
        // A header that libmicrohttpd refuses before the handler sees it, then the good one.
        let huge = RawExchange.send("GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Basic \(String(repeating: "A", count: 100_000))\r\n\r\n", port: s.port)
        if case .status(let status) = huge { #expect(Self.tooBigAnswers.contains(status)) }
        let good = try healthyScrape(s, headers: ["Authorization": basicAuthorization("prom", "s3cret")])
        #expect(good.status == 200)
    }

    @Test func pathTricksCannotBypassAuthentication() throws {
        let dir = try TempDirectory()
        let hash = try #require(BasicAuth.bcryptHash("s3cret", cost: 4))
        let config = try dir.write("web.yml", "basic_auth_users:\n  prom: \(hash)\n")
        let s = try TestServer(webConfigPath: config)
        for path in ["/metrics", "/%6detrics", "/metrics?x", "/metrics/../metrics", "/-/healthy", "/", "/nope", "*"] {
            for method in ["GET", "HEAD", "POST", "get"] {
                let outcome = RawExchange.send("\(method) \(path) HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", port: s.port)
                #expect(outcome == .status(401), "\(method) \(path): \(outcome)")
            }
        }
    }

    // MARK: - TLS

    @Test func badClientCertificatesAreRefusedAndTheServerGoesOn() throws {
        let pki = try TestPKI()
        // A second CA and a client certificate from it: well-formed, but not trusted.
        try pki.makeCA("other-ca", subject: "/CN=other CA")
        try pki.makeCertificate("mallory", signedBy: "other-ca", subject: "/CN=client")
        let s = try TestServer(webConfigPath: try pki.webConfig(TestPKI.requireClientCert))
        let url = "https://127.0.0.1:\(s.port)/metrics"
        func curl(_ arguments: [String]) throws -> String {
            let r = try Command.run("/usr/bin/curl", ["-sS", "--max-time", "20", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", pki.path("ca.crt")] + arguments + [url])
            return r.output
        }
        let good = ["--cert", pki.path("client.crt"), "--key", pki.path("client.key")]
        let bad: [(String, [String])] = [
            ("no certificate", []),
            ("self-signed", ["--cert", pki.path("stranger.crt"), "--key", pki.path("stranger.key")]),
            ("signed by another CA", ["--cert", pki.path("mallory.crt"), "--key", pki.path("mallory.key")]),
            ("a CA's own certificate", ["--cert", pki.path("other-ca.crt"), "--key", pki.path("other-ca.key")]),
        ]
        for (name, arguments) in bad {
            let code = try curl(arguments)
            #expect(code == "000" || code == "403", "\(name): \(code)")
            #expect(try curl(good) == "200", "served after \(name)")
        }
        // Garbage and a handshake cut short on the TLS port.
        #expect(RawExchange.send("\u{16}\u{03}\u{01}\u{02}\u{00}\u{01}\u{00}\u{01}\u{fc}\u{03}\u{03}", port: s.port) == .closed)
        #expect(RawExchange.send(String(repeating: "\u{00}", count: 10_000), port: s.port) == .closed)
        #expect(try curl(good) == "200")
    }

    // MARK: - Idle, leaving and stalled clients

    @Test func anIdleKeepAliveConnectionIsClosedAfterTheTimeout() throws {
        let t = try TestServer(connectionTimeoutSeconds: 1)
        let c = try HTTPTestClient(port: t.port, timeout: 15)
        #expect(try c.request("GET", "/metrics").status == 200)
        #expect(c.isClosedByPeer())
    }

    @Test func aClientThatLeavesMidScrapeDoesNotHurt() throws {
        let gate = Gate()
        let t = try TestServer(collect: { _ in gate.wait(); return FixedSnapshot() })
        do {
            let c = try t.client()
            try c.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            try waitUntil { t.server.inFlightScrapeCount == 1 }
        }   // closed while its scrape is suspended
        gate.open()
        try waitUntil { t.server.inFlightScrapeCount == 0 }
        #expect(try healthyScrape(t).status == 200)
    }

    /// A snapshot of `lines` lines rendered on demand, counting what its answers pulled and how
    /// many of its chunk sources are still alive.
    final class MeteredSnapshot: Snapshot, @unchecked Sendable {
        let lines: Int
        private let lock = NSLock()
        private var pulledBytes = 0
        private var liveSources = 0
        init(lines: Int) { self.lines = lines }
        var reachedPorto: Bool { true }
        var pulled: Int { lock.withLock { pulledBytes } }
        var live: Int { lock.withLock { liveSources } }

        final class Source: ChunkSource {
            let owner: MeteredSnapshot
            var line = 0
            var buffer: [UInt8] = []
            init(_ owner: MeteredSnapshot) {
                self.owner = owner
                owner.lock.withLock { owner.liveSources += 1 }
            }
            deinit { owner.lock.withLock { owner.liveSources -= 1 } }
            func next() -> UnsafeRawBufferPointer? {
                buffer.removeAll(keepingCapacity: true)
                while buffer.count < 16 * 1024, line < owner.lines {
                    buffer += "porto_test_value{name=\"container-\(line)\"} \(line)\n".utf8
                    line += 1
                }
                if buffer.isEmpty { return nil }
                owner.lock.withLock { owner.pulledBytes += buffer.count }
                return buffer.withUnsafeBytes { $0 }
            }
        }

        func chunks(_ format: ExpositionFormat) -> any ChunkSource { Source(self) }
        func write(_ format: ExpositionFormat, to sink: (UnsafeRawBufferPointer) -> Void) {
            let source = chunks(format)
            while let chunk = source.next() { sink(chunk) }
        }
    }

    /// A client that asks for a large scrape and does not read it: the server renders only as
    /// far as the socket buffers take (not the whole answer), keeps serving others meanwhile, and
    /// frees the answer when that client goes away.
    @Test func aStalledReaderOfAStreamedAnswerPinsOnlyWhatTheSocketHolds() throws {
        let snapshot = MeteredSnapshot(lines: 1_000_000)   // about 40 MB of text
        let t = try TestServer(collect: { _ in snapshot })
        do {
            let stalled = try t.client()
            try stalled.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            try waitUntil { snapshot.pulled > 0 }
            // Rendering stops once the socket buffers are full.
            var last = -1
            try waitUntil(timeout: 30) {
                let now = snapshot.pulled
                defer { last = now }
                Thread.sleep(forTimeInterval: 0.3)
                return now == last && now == snapshot.pulled
            }
            #expect(snapshot.pulled < 20 << 20, "rendered \(snapshot.pulled) bytes for a reader that reads nothing")
            #expect(snapshot.live == 1)
            // Another scrape is served in full meanwhile.
            let other = try t.client().request("GET", "/metrics")
            #expect(other.status == 200)
            #expect(other.text.hasSuffix("container-999999\"} 999999\n"))
        }   // the stalled client closes its connection
        try waitUntil(timeout: 30) { snapshot.live == 0 && t.server.inFlightScrapeCount == 0 }
        #expect(try healthyScrape(t).status == 200)
    }

    @Test func requestBodiesAreDiscarded() throws {
        let t = try TestServer()
        let c = try t.client()
        let body = String(repeating: "z", count: 100_000)
        try c.send("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body)
        #expect(try c.readResponse().status == 405)
        #expect(try c.request("GET", "/metrics").status == 200, "the connection is still usable")
    }
}
