import PortoSim
import PortoWire
import Synchronization
import Testing
@testable import PortoExporter

/// A transport that answers in-process from porto-sim's model (no socket): portod's answer, or
/// a closed connection when portod would close it (docs/porto.md §1.2).
final class SimTransport: PortoTransport, @unchecked Sendable {
    let host: SimHost
    init(_ host: SimHost) { self.host = host }

    func call(_ request: Porto_TPortoRequest, timeout: Duration?) throws(PortoError) -> Porto_TPortoResponse {
        guard let response = host.respond(to: request) else {
            throw PortoError.socket(.closed, message: "portod closed the connection")
        }
        if response.error != .success { throw PortoError.porto(response.error, message: response.errorMsg) }
        return response
    }
}

/// Whole scrapes of porto-sim (fixed seed, frozen clock) compared byte for byte with the golden
/// files in Fixtures/. `UPDATE_GOLDEN=1 swift test --filter SimGoldenTests` rewrites them on purpose.
@Suite struct SimGoldenTests {
    static let epoch: UInt64 = 1_780_000_000
    static let everything = CollectionConfiguration(
        groups: Set(CollectorGroup.allCases), labels: LabelSelection(patterns: ["*"]))

    static func host(legacy: Bool = false, containers: Int = 50) -> SimHost {
        SimHost(options: SimOptions(containers: containers, seed: 1, legacy: legacy, clock: .fixed(epochSeconds: epoch)))
    }

    static func fixedNow() -> @Sendable () -> ContinuousClock.Instant {
        let instant = ContinuousClock.now
        return { instant }
    }

    static func scrape(_ transport: any PortoTransport, _ config: CollectionConfiguration = everything, format: ExpositionFormat) -> (String, CollectionReport) {
        let writer = ExpositionWriter(format: format)
        let report = CollectorSet(configuration: config, transport: transport, now: fixedNow(), wallClock: { epoch })
            .collect(into: writer, deadline: .now + .seconds(3600))
        return (String(decoding: writer.finish(), as: UTF8.self), report)
    }

    /// Compares with (or, with UPDATE_GOLDEN=1, rewrites) Fixtures/`name`.
    static func golden(_ name: String, _ text: String) throws {
        let path = "\(TestPaths.fixtures)/\(name)"
        if TestPaths.updating { Files.write(path, text) }
        let expected = try #require(Files.read(path), "missing \(name): run UPDATE_GOLDEN=1 swift test --filter SimGoldenTests")
        if expected != text {
            let a = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let b = text.split(separator: "\n", omittingEmptySubsequences: false)
            let first = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }
            Issue.record("\(name) differs at line \((first?.offset ?? min(a.count, b.count)) + 1): expected \(first.map { String($0.element.0) } ?? "<end>"), got \(first.map { String($0.element.1) } ?? "<end>"). UPDATE_GOLDEN=1 rewrites it on purpose.")
        }
    }

    @Test(arguments: [ExpositionFormat.text, .openMetrics])
    func goldenScrape(format: ExpositionFormat) throws {
        let (text, report) = Self.scrape(SimTransport(Self.host()), format: format)
        #expect(report.up)
        #expect(report.success, "\(report.results.filter { $0.error != nil }.map { "\($0.collector): \($0.error!)" })")
        let checked = ExpositionValidator.check(text, format: format)
        #expect(checked.problems.isEmpty, "\(checked.problems.prefix(5))")
        try Self.golden(format == .text ? "golden-scrape.txt" : "golden-scrape.om.txt", text)
    }

    @Test func goldenFailingPortod() throws {
        let transport = FakeTransport { _ throws(PortoError) in
            throw PortoError.socket(.unreachable, message: "connect to /run/portod.socket: No such file or directory (errno 2)")
        }
        let (text, report) = Self.scrape(transport, CollectionConfiguration(), format: .text)
        #expect(!report.up)
        #expect(ExpositionValidator.check(text, format: .text).problems.isEmpty)
        try Self.golden("golden-failure.txt", text)
    }

    /// The Get fallback (portod < 5.0) and ListContainersBy give the same samples.
    @Test func legacyAndListContainersByGiveTheSameSamples() throws {
        let config = Self.everything
        let (modern, modernReport) = Self.scrape(SimTransport(Self.host()), config, format: .openMetrics)
        let legacyTransport = FakeTransportRecorder(SimTransport(Self.host(legacy: true)))
        let (legacy, legacyReport) = Self.scrape(legacyTransport, config, format: .openMetrics)
        #expect(modernReport.success && legacyReport.success)
        #expect(legacyTransport.methods.contains("Get"))
        #expect(!modern.isEmpty)
        let a = ExpositionValidator.check(modern, format: .openMetrics).samples
        let b = ExpositionValidator.check(legacy, format: .openMetrics).samples
        // The working set comes from memory.stat, which the Get path does not read.
        let containerA = a.filter { $0.name.hasPrefix("porto_container_") && $0.name != MemoryStatMetrics.workingSet.name }
        let containerB = b.filter { $0.name.hasPrefix("porto_container_") }
        #expect(containerA.count > 500)
        let missing = Set(containerA).subtracting(containerB)
        let extra = Set(containerB).subtracting(containerA)
        #expect(missing.isEmpty, "only from ListContainersBy: \(missing.map(\.description).sorted().prefix(10))")
        #expect(extra.isEmpty, "only from Get: \(extra.map(\.description).sorted().prefix(10))")
        #expect(containerA == containerB, "same samples in the same order")
    }

    /// Nested containers that inherit a controller do not report their ancestor's numbers.
    @Test func nestedContainersDoNotRepeatTheirParentsValues() throws {
        let (text, _) = Self.scrape(SimTransport(Self.host()), CollectionConfiguration(groups: [.memory]), format: .text)
        let samples = ExpositionValidator.check(text, format: .text).samples
        let memory = samples.filter { $0.name == "porto_container_memory_usage_bytes" }
        let names = Set(memory.compactMap { $0.labels.first?.value })
        let info = samples.filter { $0.name == "porto_container_info" }
        let nested = info.filter { Int($0.labels[2].value)! >= 2 }.map { $0.labels[0].value }
        #expect(!nested.isEmpty)
        let host = Self.host()
        var request = Porto_TPortoRequest()
        var filter = Porto_TListContainersFilter()
        filter.name = "***"
        request.listContainersBy.filters = [filter]
        request.listContainersBy.fieldOptions.properties = ["cgroups"]
        let containers = try #require(host.respond(to: request)).listContainersBy.containers
        for c in containers where c.spec.name != "/" {
            let inheritsMemory = c.status.cgroups.cgroup.contains { $0.controller == "memory" && $0.inherited }
            #expect(names.contains(c.spec.name) != inheritsMemory || !names.contains(c.spec.name), "\(c.spec.name)")
            if inheritsMemory { #expect(!names.contains(c.spec.name), "\(c.spec.name) inherits memory but is exported") }
        }
    }
}

/// Wraps a transport and records the methods called.
final class FakeTransportRecorder: PortoTransport {
    let inner: any PortoTransport
    private let called = Mutex<[String]>([])
    init(_ inner: any PortoTransport) { self.inner = inner }
    var methods: [String] { called.withLock { $0 } }
    func call(_ request: Porto_TPortoRequest, timeout: Duration?) throws(PortoError) -> Porto_TPortoResponse {
        called.withLock { $0.append(request.methodName) }
        return try inner.call(request, timeout: timeout)
    }
}
