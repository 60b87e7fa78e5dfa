import Foundation
import Testing
@testable import PortoExporter

@Suite struct HTTPNegotiationTests {
    static let openMetrics = "application/openmetrics-text; version=1.0.0; charset=utf-8"
    static let text = "text/plain; version=0.0.4; charset=utf-8"

    /// Accept headers as scrapers send them, and the Content-Type that must come back.
    static let acceptMatrix: [(String?, String)] = [
        // Prometheus 2.x before scrape_protocols (2.5 - 2.48).
        ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", openMetrics),
        // Prometheus 2.49+ default scrape_protocols.
        ("application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2", openMetrics),
        // Prometheus 3.x default (UTF-8 names allowed).
        ("application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1", openMetrics),
        // Prometheus 3.x with native histograms: protobuf first, which this exporter does not speak.
        ("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1", openMetrics),
        // scrape_protocols: [PrometheusText0.0.4]
        ("text/plain;version=0.0.4;q=0.2,*/*;q=0.1", text),
        (nil, text),
        ("", text),
        ("*/*", text),                                                       // curl
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", text), // a browser
        (";;;,,,/=q=,", text),
        ("\u{1}\u{2}garbage", text),
        ("application/openmetrics-text;version=2.0.0", text),
        ("application/openmetrics-text;q=0", text),
        ("application/openmetrics-text;q=abc", text),
        ("text/plain;q=0.9, application/openmetrics-text;q=0.5", text),
        ("APPLICATION/OpenMetrics-Text; Version=\"1.0.0\"", openMetrics),
        ("application/openmetrics-text", openMetrics),
        ("application/*", text),
    ]

    @Test(arguments: acceptMatrix)
    func negotiatesTheFormat(accept: String?, contentType: String) {
        #expect(ContentNegotiation.format(accept: accept).contentType == contentType)
    }

    @Test(arguments: acceptMatrix)
    func servesTheNegotiatedFormatOverHTTP(accept: String?, contentType: String) throws {
        let t = try TestServer()
        let r = try t.client().request("GET", "/metrics", headers: accept.map { ["Accept": $0] } ?? [:])
        #expect(r.status == 200)
        #expect(r.header("Content-Type") == contentType)
        #expect(r.text.hasSuffix("# EOF\n") == (contentType == Self.openMetrics))
    }

    @Test(arguments: [
        ("gzip", true), ("GZIP", true), ("x-gzip", true), ("gzip, deflate, br", true), ("br;q=1.0, gzip;q=0.8, *;q=0.1", true),
        ("gzip;q=0.001", true), ("*", true), ("gzip;q=0", false), ("gzip;q=0, *", false), ("*;q=0", false),
        ("identity", false), ("deflate, br", false), ("", false), ("gzip;q=1.5", false), ("gzip;q=", false), (";;,,", false),
    ])
    func gzipOnlyWhenAllowed(acceptEncoding: String, gzip: Bool) {
        #expect(ContentNegotiation.acceptsGzip(acceptEncoding) == gzip)
    }

    @Test func noAcceptEncodingMeansIdentity() {
        #expect(ContentNegotiation.acceptsGzip(nil) == false)
    }

    @Test func largeAnswersAreStreamedChunkedAndHEADSaysTheirLength() throws {
        let snapshot = ChunkedSnapshot()
        let t = try TestServer(collect: { _ in snapshot })
        let c = try t.client()
        let expected = snapshot.render(.openMetrics)
        let accept = ["Accept": "application/openmetrics-text;version=1.0.0"]
        let gzipped = ["Accept": "application/openmetrics-text;version=1.0.0", "Accept-Encoding": "gzip"]
        let get = try c.request("GET", "/metrics", headers: accept)
        #expect(get.status == 200)
        #expect(get.header("Transfer-Encoding")?.lowercased() == "chunked")
        #expect(get.header("Content-Length") == nil)
        #expect(get.body == expected)
        let gzip = try c.request("GET", "/metrics", headers: gzipped)
        #expect(gzip.header("Content-Encoding") == "gzip")
        #expect(gzip.header("Transfer-Encoding")?.lowercased() == "chunked")
        #expect(Gzip.decompress(gzip.body) == expected)
        let head = try c.request("HEAD", "/metrics", headers: accept)
        #expect(head.status == 200)
        #expect(head.header("Content-Length") == String(expected.count))
        let gzipHead = try c.request("HEAD", "/metrics", headers: gzipped)
        #expect(gzipHead.header("Content-Encoding") == "gzip")
        #expect(gzipHead.header("Content-Length") == String(gzip.body.count))
        #expect(try c.request("GET", "/metrics").text == String(decoding: snapshot.render(.text), as: UTF8.self), "the connection is still usable")
    }

    @Test func curlDecodesTheStreamedGzipAnswer() throws {
        let snapshot = ChunkedSnapshot()
        let t = try TestServer(collect: { _ in snapshot })
        let r = try Command.run("/usr/bin/curl", ["-sS", "--compressed", "-D", "/dev/stderr", "http://127.0.0.1:\(t.port)/metrics"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.lowercased().contains("content-encoding: gzip"))
        #expect(r.stdout == snapshot.render(.text))
    }

    @Test func gzipRoundTripsLargeBodies() throws {
        let body = Array((0..<200_000).map { "line \($0) porto_container_cpu_usage_seconds_total{name=\"c\($0 % 1000)\"} \($0)\n" }.joined().utf8)
        let compressed = try #require(Gzip.compress(body))
        #expect(compressed.count < body.count / 5)
        #expect(compressed.prefix(2) == [0x1f, 0x8b])
        #expect(Gzip.decompress(compressed) == body)
        #expect(Gzip.decompress([0x1f, 0x8b, 1, 2, 3]) == nil)
        #expect(Gzip.compress([]).flatMap(Gzip.decompress) == [])
    }

    /// A large snapshot in many small chunks, as a collection of thousands of containers gives.
    struct ChunkedSnapshot: Snapshot {
        var reachedPorto: Bool { true }
        var lines = 50_000
        func write(_ format: ExpositionFormat, to sink: (UnsafeRawBufferPointer) -> Void) {
            for i in 0..<lines {
                Array("porto_container_cpu_usage_seconds_total{name=\"c\(i % 977)\"} \(i * 7919 % 100_003)\n".utf8).withUnsafeBytes(sink)
            }
            if format == .openMetrics { Array("# EOF\n".utf8).withUnsafeBytes(sink) }
        }
    }

    /// Reads a whole answer as libmicrohttpd would, `max` bytes at a time.
    static func drain(_ stream: ResponseStream, max: Int) -> [UInt8]? {
        var out: [UInt8] = []
        var block = [UInt8](repeating: 0, count: max)
        while true {
            guard let n = block.withUnsafeMutableBytes({ stream.read(into: $0.baseAddress!, max: max) }) else { return nil }
            if n == 0 { return out }
            out += block[0..<n]
        }
    }

    /// Shared and sole streams alike.
    @Test(arguments: [1, 13, 4096, 32 * 1024, 1 << 20])
    func streamedAnswersEqualTheRenderedOnes(max: Int) throws {
        let snapshot = ChunkedSnapshot(lines: max < 100 ? 2_000 : 50_000)
        for format in ExpositionFormat.allCases {
            let rendered = snapshot.render(format)
            for sole in [false, true] {
                let identity = try #require(Self.drain(ResponseStream(snapshot, format: format, gzip: false, sole: sole), max: max))
                #expect(identity == rendered)
                let gzip = ResponseStream(snapshot, format: format, gzip: true, sole: sole)
                #expect(gzip.isGzip)
                let compressed = try #require(Self.drain(gzip, max: max))
                #expect(compressed.count < rendered.count / 4)
                #expect(compressed.prefix(2) == [0x1f, 0x8b])
                #expect(Gzip.decompress(compressed) == rendered)
                #expect(ResponseStream(snapshot, format: format, gzip: true, sole: sole).drainCount() == compressed.count)
            }
        }
    }

    /// The samples of one writer.
    struct WriterSnapshot: Snapshot {
        let writer: ExpositionWriter
        var reachedPorto: Bool { true }
        func write(_ format: ExpositionFormat, to sink: (UnsafeRawBufferPointer) -> Void) { writer.write(format, to: sink) }
        func chunks(_ format: ExpositionFormat) -> any ChunkSource { writer.stream(format) }
    }

    /// A sole stream renders an exposition straight into the buffer it is read into: buffers of
    /// any size, and lines longer than the room kept for the last line (which then go through
    /// memory of their own).
    @Test(arguments: [1, 100, 4097, 5000, 65536])
    func soleStreamsOfAnExpositionEqualItsRendering(max: Int) throws {
        let writer = ExpositionWriter(format: .text)
        for i in 0..<300 {
            let value: SampleValue = i % 7 == 0 ? .double(0.5) : .uint(UInt64(i))
            let created: UInt64? = i % 5 == 0 ? UInt64(1_700_000_000 + i) : nil
            writer.counter(ExpositionTests.cpu, labels: Labels(["name": String(repeating: "n", count: (i * 997) % 6000)]),
                           extra: "d\(i)", value: value, created: created)
        }
        let snapshot = WriterSnapshot(writer: writer)
        for format in ExpositionFormat.allCases {
            let rendered = writer.finish(format)
            #expect(try #require(Self.drain(ResponseStream(snapshot, format: format, gzip: false, sole: true), max: max)) == rendered)
            let compressed = try #require(Self.drain(ResponseStream(snapshot, format: format, gzip: true, sole: true), max: max))
            #expect(Gzip.decompress(compressed) == rendered)
        }
    }
}
