/// Writes samples in Prometheus text format 0.0.4 or OpenMetrics 1.0.0 straight into bytes.
///
/// The samples are stored in a form both formats are rendered from (the OpenMetrics-only
/// `_created` lines are skipped for the text format), so one collection serves scrapes in either
/// format: `finish(.text)`, `finish(.openMetrics)`; `format` is only the default.
///
/// Samples may be added in any order of families: each family has its own byte buffer, and
/// ``finish()`` (or ``write(to:)``) emits the families sorted by name, each with its HELP and TYPE
/// lines once, skipping families without samples (OpenMetrics sorts counters by their name
/// without `_total`, the name on their HELP/TYPE lines). Within a family, samples keep the order in which
/// they were added (collectors add them in a stable order: containers sorted by name, map keys
/// sorted). Timestamps are never written.
///
/// ## Using it (for example for the exporter's self-metrics)
/// ```swift
/// // Once, at start-up:
/// let up = MetricFamily(name: "porto_up", help: "Whether portod answered (1) or not (0).", type: .gauge)
/// let latency = MetricFamily(name: "porto_exporter_request_duration_seconds",
///                            help: "Time taken by Porto RPCs, in seconds.", type: .histogram,
///                            labelNames: ["method"])
/// // Per scrape:
/// let writer = ExpositionWriter(format: .openMetrics)      // or reuse one with reset(format:)
/// writer.gauge(up, value: .uint(1))
/// writer.histogram(latency, labels: Labels(["method": "GetSystem"]), histogram)
/// writer.counter(requests, labels: Labels(["code": "200"]), value: .uint(n), created: nil)
/// let body: [UInt8] = writer.finish()                         // or writer.write(to:) to stream
/// ```
/// Families are identified by object: two different ``MetricFamily`` objects with the same name in
/// one writer are a programming error and trap.
///
/// ## Duplicates
/// A series is written once per call, and the writer does not look for repeated label sets (that
/// would cost a hash per sample). Duplicates are prevented where they could arise: family names
/// are unique per writer (checked), collectors emit each container, volume and map key once
/// (deduplicated on input), and ``ExpositionValidator`` checks whole outputs in tests.
///
/// ## Cost
/// Family buffers keep their capacity across ``reset(format:)``, so a reused writer allocates
/// nothing per sample; numbers are written without going through `String`.
/// Adding samples is not thread-safe (one collection at a time fills a writer); rendering a
/// filled writer (``finish(_:)``, ``write(_:to:)``) only reads it and may run concurrently.
public final class ExpositionWriter: @unchecked Sendable {
    public private(set) var format: ExpositionFormat

    private struct Slot {
        let family: MetricFamily
        var body: [UInt8]
        /// Start and end offsets (pairs) in `body` of `_created` lines, left out of the text format.
        var createdRanges: [Int]
    }

    private var slots: [Slot] = []
    private var slotIndex: [ObjectIdentifier: Int] = [:]
    private var names: [String: ObjectIdentifier] = [:]
    private var sortedText: [Int] = []
    private var sortedOpenMetrics: [Int] = []

    public init(format: ExpositionFormat) {
        self.format = format
    }

    /// Clears every sample (keeping buffer capacity and known families) for another scrape.
    public func reset(format: ExpositionFormat) {
        self.format = format
        for i in slots.indices {
            slots[i].body.removeAll(keepingCapacity: true)
            slots[i].createdRanges.removeAll(keepingCapacity: true)
        }
    }

    // MARK: - Adding samples

    /// Adds a gauge sample.
    @inline(__always)
    public func gauge(_ family: MetricFamily, labels: Labels = .none, extra: String? = nil, value: SampleValue) {
        assert(family.type == .gauge, "\(family.name) is not a gauge")
        add(family, labels: labels, extra: extra, value: value, created: nil)
    }

    /// Adds a counter sample; `created` (unix seconds) is written as `_created` in OpenMetrics.
    @inline(__always)
    public func counter(_ family: MetricFamily, labels: Labels = .none, extra: String? = nil, value: SampleValue, created: UInt64? = nil) {
        assert(family.type == .counter, "\(family.name) is not a counter")
        add(family, labels: labels, extra: extra, value: value, created: created)
    }

    /// Adds a sample of a gauge or counter family. `extra` is the value of the family's
    /// ``MetricFamily/extraLabel`` (required exactly when the family has one).
    public func add(_ family: MetricFamily, labels: Labels, extra: String?, value: SampleValue, created: UInt64?) {
        precondition(family.type != .histogram, "use histogram(_:labels:_:) for \(family.name)")
        assert((extra == nil) == (family.extraLabel == nil), "\(family.name): extra label mismatch")
        let i = slot(for: family)
        Self.writeSeries(name: family.sampleName, family: family, labels: labels, extra: extra, value: value, into: &slots[i].body)
        if family.type == .counter, let created {
            let start = slots[i].body.count
            Self.writeSeries(name: family.secondName, family: family, labels: labels, extra: extra, value: .uint(created), into: &slots[i].body)
            slots[i].createdRanges.append(start)
            slots[i].createdRanges.append(slots[i].body.count)
        }
    }

    /// Adds the samples of one histogram series: `_bucket{le}` for each bound and `+Inf`, then
    /// `_sum` and `_count` when the sum is known.
    public func histogram(_ family: MetricFamily, labels: Labels = .none, _ histogram: Histogram) {
        precondition(family.type == .histogram, "\(family.name) is not a histogram")
        let i = slot(for: family)
        var le: [UInt8] = []
        for (bound, count) in zip(histogram.upperBounds, histogram.cumulativeCounts) {
            le.removeAll(keepingCapacity: true)
            NumberWriter.write(bound, to: &le)
            Self.writeBucket(family: family, labels: labels, le: le, count: count, into: &slots[i].body)
        }
        Self.writeBucket(family: family, labels: labels, le: Self.plusInf, count: histogram.count, into: &slots[i].body)
        if let sum = histogram.sum {
            Self.writeSeries(name: family.secondName, family: family, labels: labels, extra: nil, value: .double(sum), into: &slots[i].body)
            Self.writeSeries(name: family.countName, family: family, labels: labels, extra: nil, value: .uint(histogram.count), into: &slots[i].body)
        }
    }

    // MARK: - Output

    /// Number of bytes ``finish(_:)`` would return in `format` (default: the writer's format).
    public func byteCount(_ format: ExpositionFormat? = nil) -> Int {
        let format = format ?? self.format
        var n = 0
        for slot in slots where !slot.body.isEmpty {
            n += header(of: slot.family, format).count + slot.body.count
            if format == .text {
                var k = 0
                while k < slot.createdRanges.count { n -= slot.createdRanges[k + 1] - slot.createdRanges[k]; k += 2 }
            }
        }
        if format == .openMetrics { n += ExpositionWriter.eof.count }
        return n
    }

    /// Number of bytes ``finish()`` would return.
    public var byteCount: Int { byteCount(nil) }

    /// The whole exposition in `format` (default: the writer's format). The samples are kept,
    /// so one collection can be rendered in both formats.
    public func finish(_ format: ExpositionFormat? = nil) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(byteCount(format))
        write(format) { out.append(contentsOf: $0) }
        return out
    }

    /// Streams the exposition in chunks (a family's header, then its samples), families sorted by
    /// name, then `# EOF` for OpenMetrics; nothing is concatenated.
    public func write(_ format: ExpositionFormat? = nil, to sink: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        try Self.write(format ?? self.format, merging: [self], to: sink)
    }

    /// Streams several writers' samples as one exposition, families sorted by name across all of
    /// them (for example a collection's samples and the HTTP layer's self-metrics, filled
    /// separately). A family written into two of them is written once, with both bodies; two
    /// different families with one name trap.
    public static func write(
        _ format: ExpositionFormat, merging writers: [ExpositionWriter], to sink: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        var order: [(writer: ExpositionWriter, slot: Int)] = []
        for writer in writers {
            for i in writer.sortedSlots(format) where !writer.slots[i].body.isEmpty { order.append((writer, i)) }
        }
        if writers.count > 1 {
            order.sort { a, b in
                a.writer.slots[a.slot].family.sortName(format).utf8.lexicographicallyPrecedes(b.writer.slots[b.slot].family.sortName(format).utf8)
            }
        }
        var previous: MetricFamily?
        for (writer, i) in order {
            let slot = writer.slots[i]
            if let previous, previous.name == slot.family.name {
                precondition(previous === slot.family, "two metric families named \(slot.family.name)")
            } else {
                try writer.header(of: slot.family, format).withUnsafeBytes(sink)
            }
            previous = slot.family
            if format == .text, !slot.createdRanges.isEmpty {
                try slot.body.withUnsafeBytes { all in
                    var start = 0
                    var k = 0
                    while k < slot.createdRanges.count {
                        try sink(UnsafeRawBufferPointer(rebasing: all[start..<slot.createdRanges[k]]))
                        start = slot.createdRanges[k + 1]
                        k += 2
                    }
                    try sink(UnsafeRawBufferPointer(rebasing: all[start..<all.count]))
                }
            } else {
                try slot.body.withUnsafeBytes(sink)
            }
        }
        if format == .openMetrics { try ExpositionWriter.eof.withUnsafeBytes(sink) }
    }

    /// Names of the families that currently have samples, in output order.
    public var familyNames: [String] {
        sortedSlots(format).filter { !slots[$0].body.isEmpty }.map { slots[$0].family.name }
    }

    // MARK: - Internals

    private static let eof: [UInt8] = Array("# EOF\n".utf8)
    private static let plusInf: [UInt8] = Array("+Inf".utf8)

    private func header(of family: MetricFamily, _ format: ExpositionFormat) -> [UInt8] {
        format == .openMetrics ? family.openMetricsHeader : family.textHeader
    }

    private func slot(for family: MetricFamily) -> Int {
        let id = ObjectIdentifier(family)
        if let i = slotIndex[id] { return i }
        if let other = names[family.name], other != id {
            preconditionFailure("two metric families named \(family.name)")
        }
        names[family.name] = id
        slots.append(Slot(family: family, body: [], createdRanges: []))
        slotIndex[id] = slots.count - 1
        sortedText = slots.indices.sorted { slots[$0].family.name.utf8.lexicographicallyPrecedes(slots[$1].family.name.utf8) }
        sortedOpenMetrics = slots.indices.sorted {
            slots[$0].family.openMetricsName.utf8.lexicographicallyPrecedes(slots[$1].family.openMetricsName.utf8)
        }
        return slots.count - 1
    }

    /// Slot indices sorted by family name. Kept up to date when a family is added, so that
    /// rendering only reads: one filled writer can be rendered by several threads at once.
    private func sortedSlots(_ format: ExpositionFormat) -> [Int] {
        format == .openMetrics ? sortedOpenMetrics : sortedText
    }

    @inline(__always)
    private static func writeSeries(name: [UInt8], family: MetricFamily, labels: Labels, extra: String?, value: SampleValue, into body: inout [UInt8]) {
        body.append(contentsOf: name)
        if !labels.isEmpty || extra != nil {
            body.append(UInt8(ascii: "{"))
            body.append(contentsOf: labels.bytes)
            if let extra {
                if !labels.isEmpty { body.append(UInt8(ascii: ",")) }
                body.append(contentsOf: family.extraLabelOpening)
                Labels.appendEscaped(extra, to: &body)
                body.append(UInt8(ascii: "\""))
            }
            body.append(UInt8(ascii: "}"))
        }
        body.append(UInt8(ascii: " "))
        NumberWriter.write(value, to: &body)
        body.append(UInt8(ascii: "\n"))
    }

    private static func writeBucket(family: MetricFamily, labels: Labels, le: [UInt8], count: UInt64, into body: inout [UInt8]) {
        body.append(contentsOf: family.sampleName)
        body.append(UInt8(ascii: "{"))
        body.append(contentsOf: labels.bytes)
        if !labels.isEmpty { body.append(UInt8(ascii: ",")) }
        body.append(contentsOf: "le=\"".utf8)
        body.append(contentsOf: le)
        body.append(contentsOf: "\"} ".utf8)
        NumberWriter.write(count, to: &body)
        body.append(UInt8(ascii: "\n"))
    }
}
