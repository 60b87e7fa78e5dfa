import PortoSim
import PortoWire
import Testing
@testable import PortoExporter

/// The ListContainersBy answer read one container at a time (``ListContainersByAnswer``) writes
/// exactly what the decoded answer writes, checks the envelope, and fails cleanly on bad bytes.
@Suite struct ContainerStreamTests {
    static let allGroups = Set(CollectorGroup.allCases)

    static func collector() -> ContainersCollector {
        ContainersCollector(groups: allGroups, selection: ContainerSelection(), labels: LabelSelection(patterns: ["*"]))
    }

    static func answer(containers: Int, reversed: Bool = false) throws -> (bytes: [UInt8], decoded: [Porto_TContainer]) {
        let host = SimHost(options: SimOptions(containers: containers, seed: 11, clock: .fixed(epochSeconds: 1_700_000_000)))
        var response = try #require(host.respond(to: collector().listContainersByRequest))
        if reversed { response.listContainersBy.containers.reverse() }
        return (try response.serializedBytes(), response.listContainersBy.containers)
    }

    @Test(arguments: [false, true])
    func oneContainerAtATimeWritesWhatTheDecodedAnswerWrites(reversed: Bool) throws {
        let collector = Self.collector()
        let (bytes, decoded) = try Self.answer(containers: 400, reversed: reversed)
        // Large enough that the pass gives pages of the answer back as it goes (ReadBytes), from
        // its own copy: the caller's bytes stay as they were.
        #expect(bytes.count > 2 * ReadBytes.batch)
        let checksum = bytes.reduce(UInt64(0)) { $0 &* 31 &+ UInt64($1) }
        let streamed = ExpositionWriter(format: .openMetrics)
        try collector.write(answer: bytes, into: streamed)
        #expect(bytes.reduce(UInt64(0)) { $0 &* 31 &+ UInt64($1) } == checksum)
        let whole = ExpositionWriter(format: .openMetrics)
        collector.write(decoded.sorted { $0.spec.name.utf8.lexicographicallyPrecedes($1.spec.name.utf8) }, into: whole)
        let a = String(decoding: streamed.finish(.openMetrics), as: UTF8.self)
        let b = String(decoding: whole.finish(.openMetrics), as: UTF8.self)
        #expect(a == b)
        // Every kind of value is there (net ownership, labels, maps, state).
        for needle in ["porto_container_net_rx_bytes_total{", "porto_container_labels{", "porto_container_io_read_bytes_total{",
                       "porto_container_state{", "porto_container_info{"] {
            #expect(a.contains(needle), "\(needle) missing")
        }
    }

    @Test func containersAreWrittenByNameAndARepeatedNameOnceAsPortodFirstSentIt() throws {
        var response = Porto_TPortoResponse()
        response.error = .success
        response.listContainersBy.containers = ["b", "a/x", "/", "a", "a"].enumerated().map { i, name in
            Make.container(name) { $0.status.cpuUsage = UInt64(i + 1) * 1_000_000_000 }
        }
        let collector = ContainersCollector(groups: [.cpu], selection: ContainerSelection(), labels: LabelSelection())
        let writer = ExpositionWriter(format: .text)
        try collector.write(answer: try response.serializedBytes(), into: writer)
        let usage = String(decoding: writer.finish(), as: UTF8.self).split(separator: "\n")
            .filter { $0.hasPrefix("porto_container_cpu_usage_seconds_total{") }
        #expect(usage == [
            #"porto_container_cpu_usage_seconds_total{name="/"} 3"#,
            #"porto_container_cpu_usage_seconds_total{name="a"} 4"#,
            #"porto_container_cpu_usage_seconds_total{name="a/x"} 2"#,
            #"porto_container_cpu_usage_seconds_total{name="b"} 1"#,
        ])
    }

    @Test func envelopeErrorsAreTypedOnTheRawPath() throws {
        for (fill, expected) in [
            ({ (r: inout Porto_TPortoResponse) in r.error = .permission; r.errorMsg = "denied" } as (inout Porto_TPortoResponse) -> Void,
             PortoError.porto(.permission, message: "denied")),
            ({ (r: inout Porto_TPortoResponse) in r.listContainersBy.containers = [Make.container("/")] },
             PortoError.porto(.lostError, message: "ListContainersBy response has no error field")),
        ] {
            var response = Porto_TPortoResponse()
            fill(&response)
            let transport = RawTransport(listContainersBy: try response.serializedBytes())
            let collection = CollectorSet(configuration: CollectionConfiguration(groups: [.memory]), transport: transport)
            let writer = ExpositionWriter(format: .text)
            let report = collection.collect(into: writer, deadline: .now + .seconds(5))
            #expect(report.results.first { $0.collector == "containers" }?.error == expected)
            #expect(report.up, "portod answered")
            #expect(!String(decoding: writer.finish(), as: UTF8.self).contains("porto_container_memory"))
        }
    }

    @Test func malformedAnswerIsADecodeFailureNotATrap() throws {
        let (bytes, _) = try Self.answer(containers: 20)
        // Cut inside the last container: the envelope (first) is intact, a container is not.
        for cut in [bytes.count - 1, bytes.count - 40, bytes.count / 2] {
            let transport = RawTransport(listContainersBy: Array(bytes[..<cut]))
            let collection = CollectorSet(configuration: CollectionConfiguration(groups: Self.allGroups), transport: transport)
            let report = collection.collect(into: ExpositionWriter(format: .text), deadline: .now + .seconds(5))
            let error = report.results.first { $0.collector == "containers" }?.error
            guard case .decode = error else {
                Issue.record("cut at \(cut): expected a decode error, got \(String(describing: error))")
                continue
            }
        }
    }
}

/// Answers ListContainersBy with fixed bytes through `callRaw`, everything else with an empty
/// success.
final class RawTransport: PortoTransport, @unchecked Sendable {
    let listContainersBy: [UInt8]
    init(listContainersBy: [UInt8]) { self.listContainersBy = listContainersBy }

    func call(_ request: Porto_TPortoRequest, timeout: Duration?) throws(PortoError) -> Porto_TPortoResponse {
        if request.hasListContainersBy {
            do { return try Porto_TPortoResponse(serializedBytes: listContainersBy) } catch { throw .decode("\(error)") }
        }
        return .ok { _ in }
    }

    func callRaw(_ request: Porto_TPortoRequest, timeout: Duration?) throws(PortoError) -> [UInt8] {
        if request.hasListContainersBy { return listContainersBy }
        do { return try Porto_TPortoResponse.ok { _ in }.serializedBytes() } catch { throw .decode("\(error)") }
    }
}
