import Foundation
import Testing
@testable import PortoExporter

/// Clients that do not play by the rules: the server answers them (or drops them) and keeps
/// serving everyone else.
@Suite struct HTTPHostileClientTests {
    /// After whatever the test did, a well-behaved scrape still works.
    func stillServes(_ t: TestServer) throws {
        #expect(try t.client().request("GET", "/metrics").status == 200)
    }

    /// The status of the answer, or nil when the server closed without one.
    func statusOrClosed(_ c: HTTPTestClient) -> Int? {
        (try? c.readResponse())?.status
    }

    @Test func oversizedRequestLineIsRefused() throws {
        let t = try TestServer()
        let c = try t.client()
        try? c.send("GET /metrics?" + String(repeating: "a", count: 200_000) + " HTTP/1.1\r\nHost: x\r\n\r\n")
        let status = statusOrClosed(c)
        #expect(status == nil || [400, 414, 431].contains(status!), "\(String(describing: status))")
        try stillServes(t)
    }

    @Test func oversizedHeadersAreRefused() throws {
        let t = try TestServer()
        let c = try t.client()
        var request = "GET /metrics HTTP/1.1\r\nHost: x\r\n"
        for i in 0..<2000 { request += "X-Padding-\(i): \(String(repeating: "b", count: 100))\r\n" }
        try? c.send(request + "\r\n")
        let status = statusOrClosed(c)
        #expect(status == nil || [400, 413, 431].contains(status!), "\(String(describing: status))")
        try stillServes(t)
    }

    @Test func aSlowClientIsDisconnectedAfterTheConnectionTimeout() throws {
        let t = try TestServer(connectionTimeoutSeconds: 1)
        let slow = try HTTPTestClient(port: t.port, timeout: 15)
        try slow.send("GET /metrics HTTP/1.1\r\nHost: x\r\n")   // never finishes its headers
        #expect(slow.isClosedByPeer())
        try stillServes(t)
    }

    @Test func anIdleKeepAliveConnectionIsClosedAfterTheTimeout() throws {
        let t = try TestServer(connectionTimeoutSeconds: 1)
        let c = try HTTPTestClient(port: t.port, timeout: 15)
        #expect(try c.request("GET", "/metrics").status == 200)
        #expect(c.isClosedByPeer())
    }

    @Test func http10ClientsAreServedAndClosed() throws {
        let t = try TestServer()
        let c = try t.client()
        try c.send("GET /metrics HTTP/1.0\r\n\r\n")
        let r = try c.readResponse()
        #expect(r.status == 200)
        #expect(r.text.contains("test_value"))
        #expect(c.isClosedByPeer())
    }

    @Test(arguments: ["\u{0}\u{1}\u{2}\r\n\r\n", "GET\r\n\r\n", "GET /metrics HTTP/9.9\r\n\r\n", "GET /metrics HTTP/1.1\r\n\r\n", "get /metrics HTTP/1.1\r\nHost: x\r\n\r\n", " / HTTP/1.1\r\nHost: x\r\n\r\n"])
    func malformedRequestsDoNotHurt(raw: String) throws {
        let t = try TestServer(connectionTimeoutSeconds: 1)
        let c = try HTTPTestClient(port: t.port, timeout: 15)
        try? c.send(raw)
        let status = statusOrClosed(c)
        #expect(status != 200 || raw.hasPrefix("GET /metrics HTTP/1.1"), "\(String(describing: status))")
        try stillServes(t)
    }

    @Test(arguments: ["/%6Detrics", "/metrics%00", "/metrics%00junk", "/metrics%zz", "/metrics%2F..%2F", "/./metrics", "/metrics;x", "/METRICS", "/metrics#frag"])
    func pathTricksGetNoSurprises(path: String) throws {
        let t = try TestServer()
        let r = try t.client().request("GET", path)
        // Only the exact telemetry path (after percent-decoding, as Go's server does) is served.
        #expect(r.status == (path == "/%6Detrics" ? 200 : 404), "\(path): \(r.status)")
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
        try stillServes(t)
    }

    /// A snapshot of `lines` lines rendered on demand, counting what its answers pulled and how
    /// many of its chunk sources are still alive.
    final class MeteredSnapshot: ScrapeSnapshot, @unchecked Sendable {
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
        try stillServes(t)
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
