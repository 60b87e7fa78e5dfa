import Foundation
@testable import PortoSim
import PortoWire
import Testing

/// The refresher (``RefreshOptions``): answers asked for lately are rebuilt in the background when
/// the host's generation changes, so that requests find them ready.
@Suite struct SimServerRefreshTests {
    static let epoch: UInt64 = 1_800_000_000

    static func start<Host: SimResponder>(_ host: Host, _ refresh: RefreshOptions) throws -> (SimServer, String) {
        let directory = try makeTemporaryDirectory()
        let server = try SimServer.start(socketPath: directory + "/portod.socket", host: host, refresh: refresh)
        return (server, directory)
    }

    @Test func aTickIsRefreshedBeforeTheNextRequest() throws {
        let clock = SimManualClock(epochSeconds: Self.epoch)
        let host = SimHost(options: SimOptions(containers: 200, clock: .manual(clock)))
        let (server, directory) = try Self.start(host, RefreshOptions(enabled: true, serveStale: false))
        defer {
            server.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }
        let client = try RawClient(server.socketPath)
        let request = Request.listContainersBy(["***"])
        let get = SimServerHostTests.get(["web"], ["cpu_usage"])
        let first = try #require(try client.call(request))
        #expect(first.timestamp == Self.epoch)
        _ = try client.call(get)
        #expect(server.cacheStatistics == (hits: 0, misses: 2))
        let completed = try #require(try client.call(Request.getSystem)).getSystem.requestCompleted

        for tick in 1...3 {
            clock.advance(by: 1)
            let generation = host.generation
            #expect(eventually { server.refreshedGeneration == generation })
            let answer = try #require(try client.call(request))
            #expect(answer.timestamp == Self.epoch + UInt64(tick))
            #expect(try client.call(get)?.timestamp == Self.epoch + UInt64(tick))
            // Built ahead: hits, and the bytes the request itself would have built.
            #expect(server.cacheStatistics == (hits: 2 * tick, misses: 2))
            let expected = try #require(host.respond(to: request))
            #expect(answer == expected)
        }
        #expect(server.staleHits == 0)
        // The refresher's builds are not requests: GetSystem counts the client's only, the one
        // before and the 3 Gets (ListContainersBy is a spec request, not counted: docs/porto.md §5.1).
        let after = try #require(try client.call(Request.getSystem)).getSystem.requestCompleted
        #expect(after == completed + 4)
    }

    @Test func whileARefreshIsBuiltThePreviousTickIsServed() throws {
        let host = SlowHost()
        let (server, directory) = try Self.start(host, RefreshOptions(enabled: true, serveStale: true))
        defer {
            host.release()
            server.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }
        let client = try RawClient(server.socketPath)
        #expect(try client.call(Request.list("x"))?.list.name == ["x", "1"])
        host.holdRefreshes()
        host.tick()
        #expect(eventually { host.refreshWaiting })
        // Generation 2's answer is being built: generation 1's is sent meanwhile.
        #expect(try client.call(Request.list("x"))?.list.name == ["x", "1"])
        #expect(server.staleHits == 1)
        host.release()
        #expect(eventually { server.refreshedGeneration == 2 })
        #expect(try client.call(Request.list("x"))?.list.name == ["x", "2"])
        #expect(server.cacheStatistics == (hits: 2, misses: 1))
        // An event is never served stale: it is built on the request path.
        host.holdRefreshes()
        host.event()
        #expect(try client.call(Request.list("x"))?.list.name == ["x", "12"])
        #expect(server.staleHits == 1)
    }

    @Test func aSteadyClientIsRefreshedOnlyBeforeItsNextAsk() {
        let asked = ContinuousClock.now
        // Asked once, or every 200 ms: rebuilt at every change.
        #expect(Refresher.isDue(asked: asked, interval: nil, at: asked + .seconds(5)))
        #expect(Refresher.isDue(asked: asked, interval: .milliseconds(200), at: asked + .milliseconds(100)))
        // Every 15 s: left alone until the last 2.2 s before the next ask, and after it is late.
        #expect(!Refresher.isDue(asked: asked, interval: .seconds(15), at: asked + .seconds(1)))
        #expect(!Refresher.isDue(asked: asked, interval: .seconds(15), at: asked + .milliseconds(12_700)))
        #expect(Refresher.isDue(asked: asked, interval: .seconds(15), at: asked + .milliseconds(12_900)))
        #expect(Refresher.isDue(asked: asked, interval: .seconds(15), at: asked + .seconds(16)))
    }

    @Test func requestsNotAskedWithinTheWindowAreLeftAlone() throws {
        let host = SlowHost()
        let (server, directory) = try Self.start(host, RefreshOptions(enabled: true, window: .milliseconds(200)))
        defer {
            server.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }
        let client = try RawClient(server.socketPath)
        #expect(try client.call(Request.list("x"))?.list.name == ["x", "1"])
        usleep(400_000)
        let answers = server.refreshStatistics.answers
        host.tick()
        usleep(300_000)
        #expect(server.refreshStatistics.answers == answers)
        // Nothing is refreshing it: the previous tick's answer is not served, the request builds.
        #expect(try client.call(Request.list("x"))?.list.name == ["x", "2"])
        #expect(server.staleHits == 0)
        #expect(server.cacheStatistics == (hits: 0, misses: 2))
    }
}

/// A host whose generation moves when told (a tick: +1; an event: +10), whose List answer names
/// the generation, and whose background builds can be held.
final class SlowHost: SimResponder, @unchecked Sendable {
    private let condition = NSCondition()
    private var _generation: UInt64 = 1
    private var holding = false
    private var waiting = false

    var generation: UInt64 { condition.withLock { _generation } }
    var refreshWaiting: Bool { condition.withLock { waiting } }

    func tick() { condition.withLock { _generation += 1 } }
    func event() { condition.withLock { _generation += 10 } }
    func holdRefreshes() { condition.withLock { holding = true } }

    func release() {
        condition.withLock {
            holding = false
            condition.broadcast()
        }
    }

    func isPreviousTick(_ old: UInt64, of current: UInt64) -> Bool { old + 1 == current }

    func respond(to request: Porto_TPortoRequest) -> Porto_TPortoResponse? {
        var response = Porto_TPortoResponse()
        response.error = .success
        response.list.name = [request.list.mask, String(generation)]
        return response
    }

    func encodedAnswer(to request: Porto_TPortoRequest, counting: Bool) -> SimEncodedAnswer {
        condition.lock()
        let generation = _generation
        if !counting {
            let deadline = Date(timeIntervalSinceNow: 10)
            while holding && Date() < deadline {
                waiting = true
                condition.wait(until: deadline)
            }
            waiting = false
        }
        condition.unlock()
        var response = Porto_TPortoResponse()
        response.error = .success
        response.list.name = [request.list.mask, String(generation)]
        return SimEncodedAnswer(body: try? response.serializedBytes(), error: .success, generation: generation)
    }

    func inject(_ event: SimEvent) -> Bool { false }
}
