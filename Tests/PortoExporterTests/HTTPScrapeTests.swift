import Foundation
import Testing
@testable import PortoExporter

/// Records the deadlines collections were given.
final class DeadlineRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [(given: ContinuousClock.Instant, at: ContinuousClock.Instant)] = []
    func record(_ deadline: ContinuousClock.Instant) { lock.withLock { values.append((deadline, .now)) } }
    var all: [(given: ContinuousClock.Instant, at: ContinuousClock.Instant)] { lock.withLock { values } }
}

@Suite struct HTTPScrapeTests {
    @Test func concurrentScrapesShareOneCollection() throws {
        let gate = Gate()
        let t = try TestServer(collect: { _ in gate.wait(); return FixedSnapshot(tag: "shared") })
        let clients = try (0..<8).map { _ in try t.client() }
        for (i, c) in clients.enumerated() {
            try c.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\(i % 2 == 0 ? "Accept: application/openmetrics-text;version=1.0.0\r\n" : "")\(i % 3 == 0 ? "Accept-Encoding: gzip\r\n" : "")\r\n")
        }
        try waitUntil { t.coordinator.collectionCount == 1 }
        // Every scrape has reached the server before the collection may end.
        try waitUntil { t.server.inFlightScrapeCount == clients.count }
        gate.open()
        for (i, c) in clients.enumerated() {
            let r = try c.readResponse()
            #expect(r.status == 200)
            let body = i % 3 == 0 ? try #require(Gzip.decompress(r.body)) : r.body
            #expect(String(decoding: body, as: UTF8.self).contains("tag=\"shared\""))
            #expect(r.header("Content-Type") == (i % 2 == 0 ? ExpositionFormat.openMetrics : .text).contentType)
        }
        #expect(t.coordinator.collectionCount == 1)
        _ = try t.client().request("GET", "/metrics")
        #expect(t.coordinator.collectionCount == 2, "a scrape after the shared one ends starts a new collection")
    }

    @Test func theScrapeIsAnsweredAtItsDeadlineWhileTheCollectionHangs() throws {
        let gate = Gate()
        defer { gate.open() }
        let t = try TestServer(defaultTimeout: .seconds(30), collect: { _ in gate.wait(); return FixedSnapshot(tag: "late") })
        let r = try t.client().request("GET", "/metrics", headers: ["X-Prometheus-Scrape-Timeout-Seconds": "1"])
        #expect(r.status == 200)
        #expect(r.text.contains("tag=\"timeout\""), "answered with the timed-out snapshot, the collection still hanging")
    }

    @Test func withoutTheHeaderTheDefaultTimeoutApplies() throws {
        let gate = Gate()
        defer { gate.open() }
        let t = try TestServer(defaultTimeout: .milliseconds(500), collect: { _ in gate.wait(); return FixedSnapshot(tag: "late") })
        let r = try t.client().request("GET", "/metrics")
        #expect(r.text.contains("tag=\"timeout\""))
    }

    @Test func theCollectionIsGivenTheScrapeDeadlineLessAMargin() throws {
        let recorder = DeadlineRecorder()
        let t = try TestServer(defaultTimeout: .seconds(7), collect: { deadline in recorder.record(deadline); return FixedSnapshot() })
        let c = try t.client()
        _ = try c.request("GET", "/metrics", headers: ["X-Prometheus-Scrape-Timeout-Seconds": "3"])
        _ = try c.request("GET", "/metrics")
        _ = try c.request("GET", "/metrics", headers: ["X-Prometheus-Scrape-Timeout-Seconds": "garbage"])
        let seen = recorder.all
        try #require(seen.count == 3)
        // Upper bounds only (a slow machine makes the remaining time shorter, never longer).
        #expect(seen[0].at.duration(to: seen[0].given) <= .milliseconds(2450), "3 s less 10% less the rendering reserve")
        #expect(seen[0].at.duration(to: seen[0].given) > .zero)
        #expect(seen[1].at.duration(to: seen[1].given) <= .seconds(7))
        #expect(seen[1].at.duration(to: seen[1].given) > .seconds(3))
        #expect(seen[2].at.duration(to: seen[2].given) > .seconds(3), "a garbled header falls back to --porto.timeout")
    }

    /// A collection runs until the later of its scrape's deadline and `--porto.timeout`: a short
    /// scrape does not cut short the collection that a longer one joins.
    @Test func theCollectionIsGivenAtLeastThePortoTimeout() throws {
        let recorder = DeadlineRecorder()
        let t = try TestServer(defaultTimeout: .seconds(7), collectionTimeout: .seconds(7),
                               collect: { deadline in recorder.record(deadline); return FixedSnapshot() })
        let c = try t.client()
        _ = try c.request("GET", "/metrics", headers: ["X-Prometheus-Scrape-Timeout-Seconds": "3"])
        _ = try c.request("GET", "/metrics", headers: ["X-Prometheus-Scrape-Timeout-Seconds": "20"])
        let seen = recorder.all
        try #require(seen.count == 2)
        #expect(seen[0].at.duration(to: seen[0].given) > .seconds(3), "--porto.timeout's, not the 3 s scrape's deadline")
        #expect(seen[0].at.duration(to: seen[0].given) <= .milliseconds(6500 - 250), "7 s less the header margin and the reserve")
        #expect(seen[1].at.duration(to: seen[1].given) > .seconds(7), "the scrape's deadline when it is later")
    }

    @Test(arguments: [("10", 9500), ("1", 900), ("0.2", 180), ("-5", 7000), ("inf", 7000), ("nan", 7000), ("", 7000)])
    func deadlineMargin(header: String, expectedMilliseconds: Int) throws {
        let t = try TestServer(defaultTimeout: .seconds(7))
        let before = ContinuousClock.now
        let deadline = t.server.scrapeDeadline(header)
        let after = ContinuousClock.now
        #expect(before.duration(to: deadline) >= .milliseconds(expectedMilliseconds))
        #expect(after.duration(to: deadline) <= .milliseconds(expectedMilliseconds))
    }

    @Test func gracefulShutdownFinishesTheScrapeInFlight() throws {
        let gate = Gate()
        let t = try TestServer(collect: { _ in gate.wait(); return FixedSnapshot(tag: "finished") })
        let port = t.port
        let inFlight = try t.client()
        try inFlight.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        try waitUntil { t.coordinator.collectionCount == 1 }
        let stopped = Gate()
        let server = t.server
        Thread.detachNewThread {
            server.shutdown(timeout: .seconds(20))
            stopped.open()
        }
        // New connections are refused once the listening socket is closed.
        try waitUntil { (try? HTTPTestClient(port: port)) == nil }
        gate.open()
        let r = try inFlight.readResponse()
        #expect(r.status == 200)
        #expect(r.text.contains("tag=\"finished\""))
        stopped.wait()
    }

    /// A scrape answered by its collection lets go of its completion (and the HTTP exchange it
    /// holds) at once, not when its deadline timer would have fired: at hundreds of answers a
    /// second, timers left to run out held megabytes for the length of the scrape timeout.
    @Test func anAnsweredScrapeReleasesItsCompletionBeforeItsDeadline() throws {
        final class Token: @unchecked Sendable {}
        let coordinator = ScrapeCoordinator(collectionTimeout: .zero, collect: { _ in FixedSnapshot() }, timedOut: { FixedSnapshot(tag: "timeout") })
        let answered = DispatchSemaphore(value: 0)
        weak var held: Token?
        do {
            let token = Token()
            held = token
            coordinator.scrape(deadline: .now + .seconds(600), format: .text, gzip: false) { stream in
                withExtendedLifetime(token) {}
                #expect(HTTPNegotiationTests.drain(stream, max: 4096) == FixedSnapshot().render(.text))
                answered.signal()
            }
        }
        #expect(answered.wait(timeout: .now() + 10) == .success)
        try waitUntil(timeout: 10) { held == nil }
    }
}
