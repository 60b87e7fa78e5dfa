import PortoExporter
import PortoSim
import PortoWire
import SwiftProtobuf

/// One collection of porto-sim's host recorded as bytes: the requests the exporter's default
/// collectors send and portod's answers, encoded once so that benchmarks measure only the
/// exporter's side (decoding included, encoding of the answers not).
public final class RecordedHost: @unchecked Sendable {
    /// The requests of one collection, in the order they were sent.
    public let requests: [Porto_TPortoRequest]
    /// The encoded answer to the ListContainersBy request.
    public let listContainersByAnswer: [UInt8]
    /// A collection of the default collectors answered from the recording.
    public let collection: CollectorSet
    /// A writer holding one collection's samples (for rendering alone).
    public let collectedWriter: ExpositionWriter
    /// One collection rendered as OpenMetrics, then as text.
    public let openMetricsBody: [UInt8]
    public let textBody: [UInt8]
    /// A reusable destination for renderings.
    public let sink: BodySink

    /// The fixed clock of every recording: 2027-01-15 08:00:00 UTC.
    public static let epoch: UInt64 = 1_800_000_000

    /// Records one collection of a host of `containers` containers (seed 1, frozen clock).
    public static func make(containers: Int, configuration: CollectionConfiguration = CollectionConfiguration()) -> RecordedHost {
        let host = SimHost(options: SimOptions(containers: containers, seed: 1, clock: .fixed(epochSeconds: epoch)))
        let recorder = RecordingTransport(host: host)
        let recording = CollectorSet(configuration: configuration, transport: recorder)
        recording.collect(into: ExpositionWriter(format: .text), deadline: .now + .seconds(600))
        return RecordedHost(recorder: recorder, configuration: configuration)
    }

    private init(recorder: RecordingTransport, configuration: CollectionConfiguration) {
        requests = recorder.requests
        let replay = ReplayTransport(recorder.answers)
        listContainersByAnswer = recorder.answers.first { $0.request.methodName == "ListContainersBy" }?.answer ?? []
        collection = CollectorSet(configuration: configuration, transport: replay)
        collectedWriter = ExpositionWriter(format: .openMetrics)
        collection.collect(into: collectedWriter, deadline: .now + .seconds(600))
        openMetricsBody = collectedWriter.finish(.openMetrics)
        textBody = collectedWriter.finish(.text)
        sink = BodySink(capacity: openMetricsBody.count * 2)
    }

    /// Series in one scrape (sample lines of the text format).
    public var seriesCount: Int {
        textBody.split(separator: UInt8(ascii: "\n")).filter { $0.first != UInt8(ascii: "#") }.count
    }
}

/// Copies renderings into one preallocated buffer, as the HTTP layer copies them into a response
/// body: the copy is part of the cost, a new allocation per scrape is not.
public final class BodySink: @unchecked Sendable {
    private let buffer: UnsafeMutableRawBufferPointer
    public init(capacity: Int) {
        buffer = .allocate(byteCount: max(capacity, 1), alignment: 16)
    }
    deinit { buffer.deallocate() }

    /// Renders `writer` in `format` into the buffer; returns the number of bytes.
    public func copy(_ writer: ExpositionWriter, _ format: ExpositionFormat) -> Int {
        var n = 0
        writer.write(format) { chunk in
            let room = buffer.count - n
            let take = min(room, chunk.count)
            if take > 0 { UnsafeMutableRawBufferPointer(rebasing: buffer[n..<n + take]).copyMemory(from: UnsafeRawBufferPointer(rebasing: chunk[0..<take])) }
            n += chunk.count
        }
        return n
    }
}

/// Answers from porto-sim's host in-process and keeps every request and encoded answer.
final class RecordingTransport: PortoTransport, @unchecked Sendable {
    private let host: SimHost
    private(set) var requests: [Porto_TPortoRequest] = []
    private(set) var answers: [(request: Porto_TPortoRequest, answer: [UInt8])] = []

    init(host: SimHost) { self.host = host }

    func call(_ request: Porto_TPortoRequest, timeout: Duration?) throws(PortoError) -> Porto_TPortoResponse {
        guard let response = host.respond(to: request) else {
            throw PortoError.socket(.closed, message: "porto-sim dropped \(request.methodName)")
        }
        requests.append(request)
        do {
            answers.append((request, try response.serializedBytes()))
        } catch {
            throw PortoError.decode("\(error)")
        }
        return response
    }
}

/// Answers recorded requests by decoding their recorded bytes (the decoding is measured, as in
/// a real collection; the socket is not).
final class ReplayTransport: PortoTransport, @unchecked Sendable {
    private let answers: [(request: Porto_TPortoRequest, answer: [UInt8])]

    init(_ answers: [(request: Porto_TPortoRequest, answer: [UInt8])]) { self.answers = answers }

    func call(_ request: Porto_TPortoRequest, timeout: Duration?) throws(PortoError) -> Porto_TPortoResponse {
        guard let recorded = answers.first(where: { $0.request == request }) else {
            throw PortoError.socket(.closed, message: "no recorded answer to \(request.methodName)")
        }
        do {
            return try Porto_TPortoResponse(serializedBytes: recorded.answer)
        } catch {
            throw PortoError.decode("\(error)")
        }
    }

    /// The recorded bytes, as `PortoClient.callRaw` returns what it received.
    func callRaw(_ request: Porto_TPortoRequest, timeout: Duration?) throws(PortoError) -> [UInt8] {
        guard let recorded = answers.first(where: { $0.request == request }) else {
            throw PortoError.socket(.closed, message: "no recorded answer to \(request.methodName)")
        }
        return recorded.answer
    }
}
