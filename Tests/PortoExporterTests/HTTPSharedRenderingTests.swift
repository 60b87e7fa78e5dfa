import Dispatch
import Foundation
import Testing
@testable import PortoExporter

/// A large snapshot that counts its renderings (calls of `chunks`, by format) and how many of
/// them are still alive.
final class CountingSnapshot: Snapshot, @unchecked Sendable {
    let lines: Int
    private let lock = NSLock()
    private var renderings: [ExpositionFormat: Int] = [:]
    private var liveSources = 0
    init(lines: Int) { self.lines = lines }
    var reachedPorto: Bool { true }
    func renderCount(_ format: ExpositionFormat) -> Int { lock.withLock { renderings[format, default: 0] } }
    var renderCount: Int { lock.withLock { renderings.values.reduce(0, +) } }
    var live: Int { lock.withLock { liveSources } }

    final class Source: ChunkSource {
        let owner: CountingSnapshot
        let format: ExpositionFormat
        var line = 0
        var ended = false
        var buffer: [UInt8] = []
        init(_ owner: CountingSnapshot, _ format: ExpositionFormat) {
            self.owner = owner
            self.format = format
            owner.lock.withLock { owner.liveSources += 1 }
        }
        deinit { owner.lock.withLock { owner.liveSources -= 1 } }
        func next() -> UnsafeRawBufferPointer? {
            buffer.removeAll(keepingCapacity: true)
            while buffer.count < 8 * 1024, line < owner.lines {
                buffer += "porto_container_cpu_usage_seconds_total{name=\"c\(line % 977)\"} \(line * 7919 % 100_003)\n".utf8
                line += 1
            }
            if buffer.count < 8 * 1024, !ended {
                ended = true
                if format == .openMetrics { buffer += "# EOF\n".utf8 }
            }
            if buffer.isEmpty { return nil }
            return buffer.withUnsafeBytes { $0 }
        }
    }

    func chunks(_ format: ExpositionFormat) -> any ChunkSource {
        lock.withLock { renderings[format, default: 0] += 1 }
        return Source(self, format)
    }

    func write(_ format: ExpositionFormat, to sink: (UnsafeRawBufferPointer) -> Void) {
        let source = Source(self, format)   // not counted: the expected bodies of the tests
        while let chunk = source.next() { sink(chunk) }
    }
}

/// Scrapes of one collection that ask for the same format and encoding share one rendering.
@Suite struct HTTPSharedRenderingTests {
    /// Reads `stream` to its end, `max` bytes a call.
    static func drain(_ stream: ResponseStream, max: Int) -> [UInt8]? {
        HTTPNegotiationTests.drain(stream, max: max)
    }

    @Test func concurrentScrapesGetIdenticalBodiesRenderedOncePerFormatAndEncoding() throws {
        let snapshot = CountingSnapshot(lines: 20_000)   // about 1 MB of text
        let gate = Gate()
        let t = try TestServer(collect: { _ in gate.wait(); return snapshot })
        // 3 scrapes of each format and encoding, and a HEAD of one of them.
        let kinds: [(format: ExpositionFormat, gzip: Bool)] = [(.text, false), (.text, true), (.openMetrics, false), (.openMetrics, true)]
        let clients = try (0..<12).map { _ in try t.client() }
        for (i, c) in clients.enumerated() {
            let kind = kinds[i % 4]
            try c.send("GET /metrics HTTP/1.1\r\nHost: x\r\n"
                + (kind.format == .openMetrics ? "Accept: application/openmetrics-text;version=1.0.0\r\n" : "")
                + (kind.gzip ? "Accept-Encoding: gzip\r\n" : "") + "\r\n")
        }
        let head = try t.client()
        try head.send("HEAD /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n")
        try waitUntil { t.server.inFlightScrapeCount == clients.count + 1 }
        gate.open()
        var bodies: [Int: [UInt8]] = [:]
        for (i, c) in clients.enumerated() {
            let kind = kinds[i % 4]
            let r = try c.readResponse()
            #expect(r.status == 200)
            #expect(r.header("Content-Type") == kind.format.contentType)
            #expect(r.header("Content-Encoding") == (kind.gzip ? "gzip" : nil))
            if let first = bodies[i % 4] {
                #expect(r.body == first, "scrape \(i): the same bytes as the first of its kind")
            } else {
                bodies[i % 4] = r.body
                let text = kind.gzip ? try #require(Gzip.decompress(r.body)) : r.body
                #expect(text == snapshot.render(kind.format))
            }
        }
        let headAnswer = try head.readResponse(method: "HEAD")
        #expect(headAnswer.header("Content-Length") == String(bodies[1]!.count), "HEAD counts the shared gzip body")
        #expect(t.coordinator.collectionCount == 1)
        // 13 scrapes, 4 renderings: one per format and encoding.
        #expect(snapshot.renderCount(.text) == 2)
        #expect(snapshot.renderCount(.openMetrics) == 2)
        try waitUntil { snapshot.live == 0 && t.server.inFlightScrapeCount == 0 }
    }

    /// One client does not read its answer, another leaves in the middle of it: the others get
    /// theirs in full from the one rendering; when the stalled client goes, the snapshot and its
    /// answer are freed.
    @Test func aStalledOrDisconnectingReaderDoesNotHoldBackTheOthers() throws {
        final class Made: @unchecked Sendable {
            let lock = NSLock()
            weak var snapshot: CountingSnapshot?
            var renderCount: Int? { lock.withLock { snapshot?.renderCount } }
            var alive: Bool { lock.withLock { snapshot != nil } }
        }
        let made = Made()
        let gate = Gate()
        // About 11 MB of text: more than the sockets buffer.
        let t = try TestServer(collect: { _ in
            gate.wait()
            let snapshot = CountingSnapshot(lines: 200_000)
            made.lock.withLock { made.snapshot = snapshot }
            return snapshot
        })
        let request = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
        var stalled: HTTPTestClient? = try t.client()
        try stalled!.send(request)
        var leaving: HTTPTestClient? = try t.client()
        try leaving!.send(request)
        let readers = try (0..<3).map { _ in try t.client() }
        for c in readers { try c.send(request) }
        try waitUntil { t.server.inFlightScrapeCount == 5 }
        gate.open()
        let expected = CountingSnapshot(lines: 200_000).render(.text)
        for (i, c) in readers.enumerated() {
            let r = try c.readResponse()
            #expect(r.status == 200)
            #expect(r.body == expected, "reader \(i)")
            if i == 0 { leaving = nil }   // gone in the middle of its answer
        }
        #expect(made.renderCount == 1)
        #expect(made.alive, "the stalled reader's answer is still open")
        stalled = nil
        try waitUntil(timeout: 30) { !made.alive && t.server.inFlightScrapeCount == 0 }
        _ = (stalled, leaving)
        #expect(try t.client().request("GET", "/metrics").body == expected)
    }

    /// Readers that keep pace hold a couple of chunks between them; a lagging reader holds the
    /// rest of the body, and its leaving frees it.
    @Test func chunksAreDroppedOnceEveryReaderHasSentThem() throws {
        let snapshot = CountingSnapshot(lines: 100_000)
        let a = ResponseStream(snapshot, format: .text, gzip: true)
        let b = ResponseStream(alongside: a)
        var lagging: ResponseStream? = ResponseStream(alongside: a)
        let rendering = a.rendering
        var first: [UInt8] = []
        var second: [UInt8] = []
        var most = 0
        var block = [UInt8](repeating: 0, count: 4096)
        var done = (false, false)
        // Lagging reads 1 block, then the others alternate to the end.
        _ = block.withUnsafeMutableBytes { lagging!.read(into: $0.baseAddress!, max: 4096) }
        while !(done.0 && done.1) {
            for (stream, flag) in [(a, 0), (b, 1)] {
                let n = try #require(block.withUnsafeMutableBytes { stream.read(into: $0.baseAddress!, max: 4096) })
                if flag == 0 { first += block[0..<n]; if n == 0 { done.0 = true } } else { second += block[0..<n]; if n == 0 { done.1 = true } }
            }
            most = max(most, rendering.counts.heldBytes)
        }
        #expect(first == second)
        #expect(Gzip.decompress(first) == snapshot.render(.text))
        let counts = rendering.counts
        #expect(counts.made > 10)
        #expect(counts.heldBytes > first.count - 2 * Rendering.gzipChunkSize, "the lagging reader holds what it has not sent")
        lagging = nil
        #expect(rendering.counts.heldBytes == 0)
        #expect(snapshot.renderCount == 1)
        #expect(snapshot.live == 0, "renderer released when the answer is complete")

        // Without a lagging reader, two readers in step hold at most two chunks.
        let snapshot2 = CountingSnapshot(lines: 100_000)
        let c = ResponseStream(snapshot2, format: .openMetrics, gzip: false)
        let d = ResponseStream(alongside: c)
        var peak = 0
        while true {
            let n = try #require(block.withUnsafeMutableBytes { c.read(into: $0.baseAddress!, max: 4096) })
            _ = try #require(block.withUnsafeMutableBytes { d.read(into: $0.baseAddress!, max: 4096) })
            peak = max(peak, c.rendering.counts.heldBytes)
            if n == 0 { break }
        }
        #expect(peak <= 2 * (8 * 1024 + 128), "held at most \(peak) bytes")
        _ = most
    }

    /// While an unread stream is kept (as the coordinator keeps one per format and encoding until
    /// every scrape of the collection has its stream), a reader that starts late gets the whole
    /// answer from the same rendering; after it, a reader gets a rendering of its own.
    @Test func lateReadersGetTheWholeAnswer() throws {
        let snapshot = CountingSnapshot(lines: 30_000)
        let expected = snapshot.render(.openMetrics)
        var unread: ResponseStream? = ResponseStream(snapshot, format: .openMetrics, gzip: false)
        let early = ResponseStream(alongside: unread!)
        #expect(Self.drain(early, max: 1000) == expected)
        let late = ResponseStream(alongside: unread!)
        unread = nil
        #expect(Self.drain(late, max: 7777) == expected)
        #expect(snapshot.renderCount == 1)
        let after = ResponseStream(snapshot, format: .openMetrics, gzip: false)
        #expect(Self.drain(after, max: 4096) == expected)
        #expect(snapshot.renderCount == 2)
    }

    /// Readers on several threads at once, each asking for a different block size: one of them
    /// renders each chunk while the others wait for it or send what they have.
    @Test func readersOnManyThreadsShareOneRendering() throws {
        for gzip in [false, true] {
            let snapshot = CountingSnapshot(lines: 60_000)
            let leader = ResponseStream(snapshot, format: .text, gzip: gzip)
            let streams = [leader] + (1..<8).map { _ in ResponseStream(alongside: leader) }
            let results = Results(count: streams.count)
            DispatchQueue.concurrentPerform(iterations: streams.count) { i in
                results.set(i, Self.drain(streams[i], max: [1, 100, 4096, 32 * 1024, 65536, 13, 999, 1 << 20][i]))
            }
            let bodies = results.all
            let first = try #require(bodies[0])
            for body in bodies { #expect(body == first) }
            #expect((gzip ? Gzip.decompress(first) : first) == snapshot.render(.text))
            #expect(snapshot.renderCount == 1)
        }
    }

    final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [[UInt8]?]
        init(count: Int) { values = Array(repeating: nil, count: count) }
        func set(_ i: Int, _ value: [UInt8]?) { lock.withLock { values[i] = value } }
        var all: [[UInt8]?] { lock.withLock { values } }
    }

    /// When the last answer of a snapshot is released, the snapshot is freed at once (not
    /// after a delay).
    @Test func theLastAnswerFreesTheSnapshot() throws {
        weak var freed: CountingSnapshot?
        var streams: [ResponseStream] = []
        do {
            let snapshot = CountingSnapshot(lines: 10_000)
            freed = snapshot
            let first = ResponseStream(snapshot, format: .text, gzip: true)
            streams = [first, ResponseStream(alongside: first), ResponseStream(alongside: first)]
        }
        _ = Self.drain(streams[0], max: 4096)
        _ = Self.drain(streams[1], max: 100)
        streams.removeFirst(2)
        #expect(freed != nil, "one answer still open")
        streams.removeAll()
        #expect(freed == nil, "freed as the last answer was released")
    }

    /// Once the server has no scrape left (answered and released by libmicrohttpd), the snapshot
    /// is gone and the free memory is handed back to the kernel.
    @Test func theServerHandsMemoryBackOnceNoScrapeIsLeft() throws {
        final class Made: @unchecked Sendable {
            let lock = NSLock()
            weak var snapshot: CountingSnapshot?
            var alive: Bool { lock.withLock { snapshot != nil } }
        }
        let made = Made()
        let t = try TestServer(collect: { _ in
            let snapshot = CountingSnapshot(lines: 10_000)
            made.lock.withLock { made.snapshot = snapshot }
            return snapshot
        })
        let trimsBefore = MallocArenas.trimCount
        #expect(try t.client().request("GET", "/metrics", headers: ["Accept-Encoding": "gzip"]).status == 200)
        try waitUntil { !made.alive && t.server.inFlightScrapeCount == 0 }
        try waitUntil { MallocArenas.trimCount > trimsBefore }
    }
}
