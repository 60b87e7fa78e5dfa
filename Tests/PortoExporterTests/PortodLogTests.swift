import Foundation
import Logging
import PortoSim
import PortoWire
import Synchronization
import Testing
@testable import PortoExporter

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let instant = Mutex(ContinuousClock.now)
    var now: @Sendable () -> ContinuousClock.Instant { { [self] in instant.withLock { $0 } } }
    func advance(_ d: Duration) { instant.withLock { $0 += d } }
}

/// A FakeTransport that says which socket it reaches and which connection it is on.
final class NamedTransport: PortoTransport {
    let fake: FakeTransport
    private let generation = Mutex(1)
    init(answer: @escaping @Sendable (Porto_TPortoRequest) throws(PortoError) -> Porto_TPortoResponse) {
        fake = FakeTransport(answer: answer)
    }
    func call(_ request: Porto_TPortoRequest, timeout: Duration?) throws(PortoError) -> Porto_TPortoResponse {
        try fake.call(request, timeout: timeout)
    }
    var portodSocket: String? { "/run/test.socket" }
    var connectionGeneration: Int? { generation.withLock { $0 } }
    func reconnect() { generation.withLock { $0 += 1 } }
}

/// What the collection logs (PortodLog), read through a capturing log handler: every failed
/// request at warn with what broke, the same failure at most once a minute with a count,
/// recoveries at info, fallbacks and unknown properties once per connection, nothing when all is well.
@Suite struct PortodLogTests {
    final class Setup: @unchecked Sendable {
        let lines = LineCollector()
        let clock: ManualClock
        let collection: CollectorSet
        private var taken = 0

        init(groups: Set<CollectorGroup> = CollectorGroup.defaults, clock: ManualClock = ManualClock(), transport: any PortoTransport) {
            let lines = self.lines
            var logger = Logger(label: "test") { _ in LineLogHandler(label: "test", format: .logfmt, sink: LogSink { lines.append($0) }) }
            logger.logLevel = .debug
            self.clock = clock
            collection = CollectorSet(configuration: CollectionConfiguration(groups: groups), transport: transport,
                                    logger: logger, now: clock.now)
        }

        @discardableResult
        func collect() -> CollectionReport {
            collection.collect(into: ExpositionWriter(format: .text), deadline: clock.now() + .seconds(10))
        }

        /// The lines logged since the last call, without their timestamps and newlines.
        func take() -> [String] {
            let all = lines.all
            defer { taken = all.count }
            return all.dropFirst(taken).map { line in
                String(line.split(separator: " ", maxSplits: 1).last ?? "").trimmingCharacters(in: .newlines)
            }
        }
    }

    static func failingGetSystem(_ request: Porto_TPortoRequest) throws(PortoError) -> Porto_TPortoResponse {
        if request.hasGetSystem { throw PortoError.porto(.unknown, message: "injected failure") }
        return try CollectionTests.lcbHost(request)
    }

    @Test func aFailureIsLoggedAtOnceThenAtMostOnceAMinuteWithACountAndTheRecoveryAtInfo() {
        let failing = AtomicFlag(true)
        let s = Setup(transport: NamedTransport { request throws(PortoError) in
            failing.value ? try Self.failingGetSystem(request) : try CollectionTests.lcbHost(request)
        })
        s.collect()
        #expect(s.take() == [
            #"level=warn msg="portod request failed" collector=daemon error=Unknown kind=porto message="injected failure" method=GetSystem socket=/run/test.socket"#,
        ])
        for _ in 0..<5 {
            s.clock.advance(.seconds(10))
            s.collect()
        }
        #expect(s.take() == [], "the same failure within a minute of its line")
        s.clock.advance(.seconds(10))
        s.collect()
        #expect(s.take() == [
            #"level=warn msg="portod request still failing" collector=daemon error=Unknown failed_scrapes=7 kind=porto message="injected failure" method=GetSystem repeated=6 socket=/run/test.socket"#,
        ])
        failing.value = false
        s.clock.advance(.seconds(10))
        s.collect()
        #expect(s.take() == [
            #"level=info msg="portod request succeeds again after 7 failed scrapes" collector=daemon failed_scrapes=7 method=GetSystem socket=/run/test.socket"#,
        ])
        s.collect()
        #expect(s.take() == [])
        failing.value = true
        s.collect()
        #expect(s.take().count == 1, "a new run of failures is logged at once")
    }

    @Test func portodUnreachableThenReachableAgain() {
        let down = AtomicFlag(true)
        let s = Setup(transport: NamedTransport { request throws(PortoError) in
            if down.value { throw PortoError.socket(.unreachable, message: "connect /run/test.socket: No such file or directory (errno 2)") }
            return try CollectionTests.lcbHost(request)
        })
        s.collect()
        let first = s.take()
        #expect(first.count == 5, "one line per failed request: \(first)")
        var methods: Set<String> = []
        for line in first {
            #expect(line.hasPrefix(#"level=warn msg="portod request failed" collector="#))
            #expect(line.contains(#" error=unreachable kind=socket message="connect /run/test.socket: No such file or directory (errno 2)" method="#), "\(line)")
            #expect(line.hasSuffix(" socket=/run/test.socket"))
            if let range = line.range(of: "method=") { methods.insert(String(line[range.upperBound...].prefix { $0 != " " })) }
        }
        // The containers collector's first request on a connection is ListProperties.
        #expect(methods == ["GetSystem", "ListProperties", "GetVolume", "ListLayers", "ListStorages"])
        s.clock.advance(.seconds(15))
        s.collect()
        #expect(s.take() == [])
        down.value = false
        s.clock.advance(.seconds(15))
        s.collect()
        #expect(s.take() == [#"level=info msg="portod reachable again after 2 failed scrapes" failed_scrapes=2 socket=/run/test.socket"#])
        s.collect()
        #expect(s.take() == [])
    }

    @Test func aTimeoutSaysHowLongItWaited() {
        let clock = ManualClock()
        let s = Setup(groups: [.daemon], clock: clock, transport: NamedTransport { _ throws(PortoError) in
            clock.advance(.milliseconds(1500))
            throw PortoError.timeout("GetSystem: no answer within 1.5 seconds (deadline passed while reading)")
        })
        s.collect()
        #expect(s.take() == [
            #"level=warn msg="portod request failed" collector=daemon kind=timeout message="GetSystem: no answer within 1.5 seconds (deadline passed while reading)" method=GetSystem socket=/run/test.socket waited=1.500s"#,
        ])
    }

    @Test func fallbacksAreLoggedOncePerConnection() {
        let transport = SimTransport(SimHost(options: SimOptions(containers: 5, seed: 1, noGetSystem: true)))
        let named = NamedTransport { request throws(PortoError) in try transport.call(request, timeout: nil) }
        let s = Setup(transport: named)
        s.collect()
        let lines = s.take()
        #expect(lines.allSatisfy { $0.hasPrefix("level=info ") }, "an older portod is not a failure: \(lines)")
        #expect(Set(lines) == [
            #"level=info msg="portod has no GetSystem (older than 4.6): reading daemon counters from porto_stat" socket=/run/test.socket"#,
            #"level=info msg="portod has no ListContainersBy (older than 5.0): reading containers with Get" socket=/run/test.socket"#,
            #"level=info msg="portod has no GetVolume (older than 4.15): reading volumes with ListVolumes" socket=/run/test.socket"#,
        ])
        s.collect()
        s.collect()
        #expect(s.take() == [], "once per connection")
        named.reconnect()
        s.collect()
        #expect(s.take().count == 3, "a new connection: told again")
    }

    @Test func unknownPropertiesAreLoggedOncePerConnection() {
        let named = NamedTransport { request throws(PortoError) in
            guard request.hasListContainersBy else { return try CollectionTests.lcbHost(request) }
            return .ok { r in
                var unknown = Porto_TError()
                unknown.error = .invalidProperty
                unknown.msg = "Unknown property io_pressure"
                var other = unknown
                other.msg = "Unknown property cpu_pressure"
                r.listContainersBy.containers = ["/", "a", "b"].map { name in
                    Make.container(name) { $0.status.error = [unknown, other] }
                }
            }
        }
        let s = Setup(transport: named)
        s.collect()
        #expect(s.take() == [
            #"level=info msg="portod does not know these properties: their samples are left out" properties=cpu_pressure,io_pressure socket=/run/test.socket"#,
        ])
        s.collect()
        #expect(s.take() == [])
    }

    @Test func requestCountersCountEveryRequestAndEachFailureByReason() {
        let s = Setup(groups: [.daemon, .layers], transport: NamedTransport { request throws(PortoError) in
            if request.hasGetSystem { throw PortoError.porto(.busy, message: "busy") }
            throw PortoError.socket(.closed, message: "closed")
        })
        s.collect()
        let writer = ExpositionWriter(format: .text)
        s.collection.collect(into: writer, deadline: s.clock.now() + .seconds(10))
        let text = String(decoding: writer.finish(), as: UTF8.self)
        #expect(text.contains("""
            porto_exporter_portod_request_failures_total{method="GetSystem",reason="Busy"} 2
            porto_exporter_portod_request_failures_total{method="ListLayers",reason="socket"} 2
            """))
        #expect(text.contains("""
            porto_exporter_portod_requests_total{method="GetSystem"} 2
            porto_exporter_portod_requests_total{method="ListLayers"} 2
            """))
        // A timed-out collection's answer carries them too.
        let timedOut = ExpositionWriter(format: .text)
        s.collection.writeTimedOut(into: timedOut)
        #expect(String(decoding: timedOut.finish(), as: UTF8.self).contains("porto_exporter_portod_requests_total{method=\"GetSystem\"} 2\n"))
    }

    @Test func anInvalidMethodFallenBackFromIsARequestButNotAFailure() {
        let transport = SimTransport(SimHost(options: SimOptions(containers: 3, seed: 1, noGetSystem: true)))
        let s = Setup(transport: NamedTransport { request throws(PortoError) in try transport.call(request, timeout: nil) })
        let writer = ExpositionWriter(format: .text)
        s.collection.collect(into: writer, deadline: s.clock.now() + .seconds(10))
        let text = String(decoding: writer.finish(), as: UTF8.self)
        #expect(text.contains("porto_exporter_portod_requests_total{method=\"GetSystem\"} 1\n"))
        #expect(text.contains("porto_exporter_portod_requests_total{method=\"ListContainersBy\"} 1\n"))
        #expect(!text.contains("porto_exporter_portod_request_failures_total"))
    }

    @Test func valuesNotUnderstoodAreLoggedOncePerConnection() {
        let named = NamedTransport { request throws(PortoError) in
            if request.hasListContainersBy { throw PortoError.porto(.invalidMethod, message: "invalid RPC method") }
            guard request.hasGet else { return try CollectionTests.lcbHost(request) }
            return .ok { r in
                r.get = PortoWireGetResponse.make([
                    ("/", [("cpu_usage_system", "5"), ("cpu_usage", "lots"), ("state", "meta")]),
                    ("a", [("cpu_usage_system", "12 ms"), ("cpu_usage", ""), ("state", "running")]),
                ])
            }
        }
        let s = Setup(groups: [.cpu, .state], transport: named)
        s.collect()
        let lines = s.take()
        #expect(lines.contains(
            #"level=warn msg="portod values not understood: those samples are left out" properties=cpu_usage,cpu_usage_system socket=/run/test.socket"#),
            "\(lines)")
        s.collect()
        #expect(s.take() == [])
    }

    @Test func nothingIsLoggedWhenAllIsWell() {
        let s = Setup(transport: NamedTransport(answer: CollectionTests.lcbHost))
        for _ in 0..<3 {
            s.collect()
            s.clock.advance(.seconds(61))
        }
        #expect(s.lines.all == [])
    }
}

/// A Bool shared with a transport's closure.
final class AtomicFlag: Sendable {
    private let stored: Mutex<Bool>
    init(_ value: Bool) { stored = Mutex(value) }
    var value: Bool {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}
