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
    struct ChunkedSnapshot: ScrapeSnapshot {
        var reachedPorto: Bool { true }
        func write(_ format: ExpositionFormat, to sink: (UnsafeRawBufferPointer) -> Void) {
            for i in 0..<50_000 {
                Array("porto_container_cpu_usage_seconds_total{name=\"c\(i % 977)\"} \(i * 7919 % 100_003)\n".utf8).withUnsafeBytes(sink)
            }
            if format == .openMetrics { Array("# EOF\n".utf8).withUnsafeBytes(sink) }
        }
        func byteCount(_ format: ExpositionFormat) -> Int? { 1000 }   // wrong on purpose: the buffer must grow
    }

    @Test func streamedBodiesEqualTheRenderedOnes() throws {
        let shared = SharedScrape(ChunkedSnapshot())
        for format in ExpositionFormat.allCases {
            let identity = shared.body(format, gzip: false)
            #expect(identity.bytes == ChunkedSnapshot().render(format))
            let gzipped = shared.body(format, gzip: true)
            #expect(gzipped.count < identity.count / 4)
            #expect(Gzip.decompress(gzipped.bytes) == identity.bytes)
            #expect(shared.body(format, gzip: true) === gzipped, "rendered once per variant")
        }
    }
}
