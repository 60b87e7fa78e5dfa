/// Keeps samples for Prometheus text format 0.0.4 or OpenMetrics 1.0.0 and renders them as
/// exposition bytes when asked.
///
/// The samples are stored compactly, as numbers: each is a 32-byte record (the value, the
/// `_created` time of a counter, a reference to its label set, the extra label's value), and each
/// label set (for example a container's `name="..."`) is stored once, however many samples refer
/// to it. The text of either format is rendered from them at scrape time (``stream(_:merging:)``,
/// ``write(_:to:)``, ``finish(_:)``), so one collection serves scrapes in either format and
/// nothing the size of the exposition is kept: `format` is only the default.
///
/// Samples may be added in any order of families: each family has its own record list, and
/// rendering emits the families sorted by name, each with its HELP and TYPE lines once, skipping
/// families without samples (OpenMetrics sorts counters by their name without `_total`, the name
/// on their HELP/TYPE lines). Within a family, samples keep the order in which they were added
/// (collectors add them in a stable order: containers sorted by name, map keys sorted).
/// Timestamps are never written.
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
/// let body: [UInt8] = writer.finish()                         // or writer.stream() / write(to:)
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
/// Adding a sample appends one record: the family's slot is found by the family's serial number
/// (an array index, no hashing), a label set equal to the previous sample's is referred to, not
/// copied (the collectors pass one `Labels` value to all of a container's samples), and the
/// stored arrays are appended to without exclusivity checks. Record lists keep their capacity
/// across ``reset(format:)``, so a reused writer allocates nothing per sample; numbers are
/// written without going through `String`.
/// Adding samples is not thread-safe (one collection at a time fills a writer); rendering a
/// filled writer only reads it and may run concurrently, any number of times.
public final class ExpositionWriter: @unchecked Sendable {
    public private(set) var format: ExpositionFormat

    /// One sample, as numbers.
    struct Record {
        /// The value's bits: UInt64, Int64 bit pattern, scaled integer or Double bit pattern.
        var bits: UInt64
        /// The counter's `_created` time (when ``hasCreated``).
        var created: UInt64 = 0
        /// Index of the label set in ``labelSpans``; 0 is "no labels".
        var labels: UInt32 = 0
        /// The extra label's escaped value in ``extras`` (when ``hasExtra``).
        var extraStart: UInt32 = 0
        var extraCount: UInt32 = 0
        /// The value's kind (low bits) and the flags below.
        var kind: UInt8
        /// Decimals of a scaled value.
        var decimals: UInt8 = 0

        static let uint: UInt8 = 0, int: UInt8 = 1, scaled: UInt8 = 2, double: UInt8 = 3
        static let kindMask: UInt8 = 0x0F, hasExtra: UInt8 = 0x40, hasCreated: UInt8 = 0x80

        /// A value as kept (``kind`` without flags, ``decimals``, ``bits``).
        @inline(__always)
        init(kind: UInt8, bits: UInt64, decimals: UInt8) {
            self.kind = kind
            self.bits = bits
            self.decimals = decimals
        }

        @inline(__always)
        init(_ value: SampleValue) {
            switch value {
            case .uint(let v): bits = v; kind = Self.uint
            case .int(let v): bits = UInt64(bitPattern: v); kind = Self.int
            case .scaled(let v, let d): bits = v; kind = Self.scaled; decimals = d
            case .double(let v): bits = v.bitPattern; kind = Self.double
            }
        }
    }

    /// One family's samples: records, or for histograms the rendered lines (the same in both
    /// formats, and few).
    final class Slot {
        let family: MetricFamily
        @exclusivity(unchecked) var records: [Record] = []
        @exclusivity(unchecked) var text: [UInt8] = []
        init(family: MetricFamily) { self.family = family }
        var isEmpty: Bool { records.isEmpty && text.isEmpty }
    }

    @exclusivity(unchecked) private var slots: [Slot] = []
    /// Slot index by ``MetricFamily/serial``; -1 where the family has no slot here.
    @exclusivity(unchecked) private var slotBySerial: [Int32] = []
    private var names: [String: ObjectIdentifier] = [:]
    private var sortedText: [Int] = []
    private var sortedOpenMetrics: [Int] = []

    /// Every label set's bytes, one after another; ``labelSpans`` says where each is.
    @exclusivity(unchecked) private var labelArena: [UInt8] = []
    /// (start, end) in ``labelArena`` of each label set; entry 0 is the empty set.
    @exclusivity(unchecked) private var labelSpans: [(UInt32, UInt32)] = [(0, 0)]
    /// Escaped values of the extra labels.
    @exclusivity(unchecked) private var extras: [UInt8] = []
    /// The label set of the previous sample and its index, so a container's labels are stored once.
    @exclusivity(unchecked) private var lastLabels: [UInt8] = []
    @exclusivity(unchecked) private var lastLabelIndex: UInt32 = 0
    /// Extra label values stored once for all the samples that share them
    /// (``add(_:labels:sharedExtras:at:value:)``): (start, count) in ``extras``, and by
    /// ``MetricFamily/serial`` where a family's values start here (-1: not stored yet).
    @exclusivity(unchecked) private var sharedExtraSpans: [(UInt32, UInt32)] = []
    @exclusivity(unchecked) private var sharedExtraBase: [Int32] = []

    public init(format: ExpositionFormat) {
        self.format = format
    }

    /// Clears every sample (keeping buffer capacity and known families) for another scrape.
    public func reset(format: ExpositionFormat) {
        self.format = format
        for slot in slots {
            slot.records.removeAll(keepingCapacity: true)
            slot.text.removeAll(keepingCapacity: true)
        }
        labelArena.removeAll(keepingCapacity: true)
        labelSpans.removeAll(keepingCapacity: true)
        labelSpans.append((0, 0))
        extras.removeAll(keepingCapacity: true)
        lastLabels = []
        lastLabelIndex = 0
        sharedExtraSpans.removeAll(keepingCapacity: true)
        for i in sharedExtraBase.indices { sharedExtraBase[i] = -1 }
    }

    /// How much a writer holds, for the next collection's writer to reserve up front
    /// (``reserveCapacity(_:)``): an array that grows by copying holds the old and the new copy
    /// at once, 3 MB at 10,000 containers while the ListContainersBy answer is held as well.
    public struct Capacity {
        fileprivate var records: [(family: MetricFamily, count: Int)] = []
        fileprivate var labelArena = 0, labelSpans = 0, extras = 0
        public init() {}
    }

    /// What this writer holds now.
    public var capacity: Capacity {
        var capacity = Capacity()
        capacity.records = slots.compactMap { $0.records.isEmpty ? nil : ($0.family, $0.records.count) }
        capacity.labelArena = labelArena.count
        capacity.labelSpans = labelSpans.count
        capacity.extras = extras.count
        return capacity
    }

    /// Reserves room for `capacity` (another writer's ``capacity``): nothing is added (a family's
    /// slot with no samples is not rendered).
    public func reserveCapacity(_ capacity: Capacity) {
        for (family, count) in capacity.records { slot(for: family).records.reserveCapacity(count) }
        labelArena.reserveCapacity(capacity.labelArena)
        labelSpans.reserveCapacity(capacity.labelSpans)
        extras.reserveCapacity(capacity.extras)
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
        let slot = unmanagedSlot(for: family)
        var record = Record(value)
        record.labels = labelIndex(labels)
        if let extra {
            let start = extras.count
            Labels.appendEscaped(extra, to: &extras)
            record.extraStart = UInt32(start)
            record.extraCount = UInt32(extras.count - start)
            record.kind |= Record.hasExtra
        }
        Self.append(record, created: created, family: family, to: slot)
    }

    /// Adds a sample of a gauge or counter family without an extra label (`created` is for a
    /// counter): ``add(_:labels:extra:value:created:)`` inlined into the container table's walk,
    /// most of a collection's samples.
    @inline(__always)
    func add(_ family: MetricFamily, labels: Labels, value: SampleValue, created: UInt64?) {
        // The container table has gauges and counters only: checked in debug builds.
        assert(family.type != .histogram && family.extraLabel == nil, "\(family.name) needs an extra label or is a histogram")
        let slot = unmanagedSlot(for: family)
        var record = Record(value)
        record.labels = labelIndex(labels)
        Self.append(record, created: created, family: family, to: slot)
    }

    /// Adds a sample whose extra label value is given as UTF-8 bytes (a map key read in place
    /// from portod's answer: no `String` made for it).
    @inline(__always)
    public func add(_ family: MetricFamily, labels: Labels, extraUTF8 extra: UnsafeBufferPointer<UInt8>, value: SampleValue, created: UInt64?) {
        precondition(family.type != .histogram, "use histogram(_:labels:_:) for \(family.name)")
        assert(family.extraLabel != nil, "\(family.name): extra label mismatch")
        let slot = unmanagedSlot(for: family)
        var record = Record(value)
        record.labels = labelIndex(labels)
        let start = extras.count
        Labels.appendEscaped(extra, to: &extras)
        record.extraStart = UInt32(start)
        record.extraCount = UInt32(extras.count - start)
        record.kind |= Record.hasExtra
        Self.append(record, created: created, family: family, to: slot)
    }

    /// Adds a gauge sample whose extra label value is `values[index]`, one of a few values that
    /// every sample of `family` takes (the container states): they are stored once per
    /// collection, where the samples refer to them, not once per sample. `values` (UTF-8, not
    /// escaped) must be the same for every call with `family`.
    @inline(__always)
    func add(_ family: MetricFamily, labels: Labels, sharedExtras values: [[UInt8]], at index: Int, value: SampleValue) {
        assert(family.type == .gauge && family.extraLabel != nil, "\(family.name) is not a gauge with an extra label")
        let slot = unmanagedSlot(for: family)
        var record = Record(value)
        record.labels = labelIndex(labels)
        let serial = family.serial
        if serial >= sharedExtraBase.count || sharedExtraBase[serial] < 0 { storeSharedExtras(values, serial: serial) }
        let (start, count) = sharedExtraSpans[Int(sharedExtraBase[serial]) + index]
        record.extraStart = start
        record.extraCount = count
        record.kind |= Record.hasExtra
        slot._withUnsafeGuaranteedRef { $0.records.append(record) }
    }

    private func storeSharedExtras(_ values: [[UInt8]], serial: Int) {
        if serial >= sharedExtraBase.count {
            sharedExtraBase.append(contentsOf: repeatElement(-1, count: serial + 1 - sharedExtraBase.count))
        }
        sharedExtraBase[serial] = Int32(sharedExtraSpans.count)
        for value in values {
            let start = extras.count
            value.withUnsafeBufferPointer { Labels.appendEscaped($0, to: &extras) }
            sharedExtraSpans.append((UInt32(start), UInt32(extras.count - start)))
        }
    }

    /// Adds a gauge sample labelled `labels` and then `first` and `second` (label names) with
    /// the values `firstValue` and `secondValue` (UTF-8, escaped here): what `labels` with both
    /// appended gives, without a `Labels` made per sample (the controller owners, several per
    /// container).
    @inline(__always)
    func gauge(
        _ family: MetricFamily, labels: Labels, _ first: StaticString, _ firstValue: UnsafeBufferPointer<UInt8>,
        _ second: StaticString, _ secondValue: UnsafeBufferPointer<UInt8>, value: SampleValue
    ) {
        assert(family.type == .gauge && family.extraLabel == nil, "\(family.name) is not a gauge without an extra label")
        let slot = unmanagedSlot(for: family)
        var record = Record(value)
        let start = UInt32(labelArena.count)
        // The label set is assembled aside and appended at once: appending it piece by piece to
        // the arena cost more than the rest of the sample. At most twice a value's bytes escaped.
        let capacity = labels.bytes.count + first.utf8CodeUnitCount + second.utf8CodeUnitCount
            + 2 * (firstValue.count + secondValue.count) + 8
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buffer in
            let base = buffer.baseAddress!
            var p = base
            labels.bytes.withUnsafeBufferPointer { Self.put($0, at: &p) }
            Self.putLabel(first, firstValue, comma: !labels.isEmpty, at: &p)
            Self.putLabel(second, secondValue, comma: true, at: &p)
            labelArena.append(contentsOf: UnsafeBufferPointer(start: base, count: p - base))
        }
        labelSpans.append((start, UInt32(labelArena.count)))
        // The previous sample's label set stays where it is: the next sample of the container
        // still refers to it.
        record.labels = UInt32(labelSpans.count - 1)
        slot._withUnsafeGuaranteedRef { $0.records.append(record) }
    }

    @inline(__always)
    private static func put(_ bytes: UnsafeBufferPointer<UInt8>, at p: inout UnsafeMutablePointer<UInt8>) {
        if let base = bytes.baseAddress { p.initialize(from: base, count: bytes.count) }
        p += bytes.count
    }

    /// `,name="value"` (the comma when asked; the value escaped) at `p`.
    @inline(__always)
    private static func putLabel(_ name: StaticString, _ value: UnsafeBufferPointer<UInt8>, comma: Bool, at p: inout UnsafeMutablePointer<UInt8>) {
        if comma {
            p.initialize(to: UInt8(ascii: ","))
            p += 1
        }
        name.withUTF8Buffer { put($0, at: &p) }
        p.initialize(to: UInt8(ascii: "="))
        (p + 1).initialize(to: UInt8(ascii: "\""))
        p += 2
        p += Labels.writeEscaped(value, at: p)
        p.initialize(to: UInt8(ascii: "\""))
        p += 1
    }

    /// Adds the samples of one histogram series: `_bucket{le}` for each bound and `+Inf`, then
    /// `_sum` and `_count` when the sum is known.
    public func histogram(_ family: MetricFamily, labels: Labels = .none, _ histogram: Histogram) {
        precondition(family.type == .histogram, "\(family.name) is not a histogram")
        let slot = slot(for: family)
        var le: [UInt8] = []
        for (bound, count) in zip(histogram.upperBounds, histogram.cumulativeCounts) {
            le.removeAll(keepingCapacity: true)
            NumberWriter.write(bound, to: &le)
            Self.writeBucket(family: family, labels: labels, le: le, count: count, into: &slot.text)
        }
        Self.writeBucket(family: family, labels: labels, le: Self.plusInf, count: histogram.count, into: &slot.text)
        if let sum = histogram.sum {
            Self.writeHistogramLine(name: family.secondName, labels: labels, value: .double(sum), into: &slot.text)
            Self.writeHistogramLine(name: family.countName, labels: labels, value: .uint(histogram.count), into: &slot.text)
        }
    }

    // MARK: - Kept samples

    /// Calls `body` with every sample stored (not histogram lines), family by family, each
    /// family's in the order added, with its extra label's escaped value (empty without one): for
    /// keeping samples to add again to another writer (``add(kept:extra:_:labels:created:)``).
    func forEachSample(_ body: (MetricFamily, Record, UnsafeBufferPointer<UInt8>) -> Void) {
        extras.withUnsafeBufferPointer { extras in
            for slot in slots {
                for record in slot.records {
                    let extra = record.kind & Record.hasExtra != 0
                        ? UnsafeBufferPointer(rebasing: extras[Int(record.extraStart)..<Int(record.extraStart + record.extraCount)])
                        : UnsafeBufferPointer(rebasing: extras[0..<0])
                    body(slot.family, record, extra)
                }
            }
        }
    }

    /// Adds a sample of `family` whose value is `value` (a ``Record``'s kind, decimals and bits)
    /// and whose extra label's value is `extra`, escaped already (ignored when the family has no
    /// extra label): a sample kept from another writer (``forEachSample(_:)``).
    @inline(__always)
    func add(kept value: Record, extra: UnsafeBufferPointer<UInt8>, _ family: MetricFamily, labels: Labels, created: UInt64?) {
        let slot = unmanagedSlot(for: family)
        var record = value
        record.kind &= Record.kindMask
        record.created = 0
        record.labels = labelIndex(labels)
        if family.extraLabel != nil {
            record.extraStart = UInt32(extras.count)
            extras.append(contentsOf: extra)
            record.extraCount = UInt32(extra.count)
            record.kind |= Record.hasExtra
        } else {
            record.extraStart = 0
            record.extraCount = 0
        }
        Self.append(record, created: created, family: family, to: slot)
    }

    /// Appends `record` to `slot`, with `created` as its `_created` time when the family is a
    /// counter.
    @inline(__always)
    private static func append(_ record: Record, created: UInt64?, family: MetricFamily, to slot: Unmanaged<Slot>) {
        var record = record
        if let created, family.type == .counter {
            record.created = created
            record.kind |= Record.hasCreated
        }
        slot._withUnsafeGuaranteedRef { $0.records.append(record) }
    }

    // MARK: - Output

    /// Number of bytes ``finish(_:)`` would return in `format` (default: the writer's format).
    /// Renders to count: as costly as a rendering, without keeping it.
    public func byteCount(_ format: ExpositionFormat? = nil) -> Int {
        let stream = stream(format)
        var n = 0
        while let chunk = stream.next() { n += chunk.count }
        return n
    }

    /// Number of bytes ``finish()`` would return.
    public var byteCount: Int { byteCount(nil) }

    /// The whole exposition in `format` (default: the writer's format). The samples are kept,
    /// so one collection can be rendered in both formats.
    public func finish(_ format: ExpositionFormat? = nil) -> [UInt8] {
        var out: [UInt8] = []
        write(format) { out.append(contentsOf: $0) }
        return out
    }

    /// Streams the exposition in chunks of whole lines (families sorted by name, then `# EOF`
    /// for OpenMetrics).
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
        let stream = ExpositionStream(format: format, writers: writers)
        while let chunk = stream.next() { try sink(chunk) }
    }

    /// A pull-style rendering of this writer in `format` (default: the writer's format).
    public func stream(_ format: ExpositionFormat? = nil) -> ExpositionStream {
        ExpositionStream(format: format ?? self.format, writers: [self])
    }

    /// A pull-style rendering of several writers merged (see ``write(_:merging:to:)``).
    public static func stream(_ format: ExpositionFormat, merging writers: [ExpositionWriter]) -> ExpositionStream {
        ExpositionStream(format: format, writers: writers)
    }

    /// Names of the families that currently have samples, in output order.
    public var familyNames: [String] {
        sortedSlots(format).filter { !slots[$0].isEmpty }.map { slots[$0].family.name }
    }

    /// Number of samples stored (histogram lines not included), and bytes held by the stored
    /// samples, label sets and extra label values (for benchmarks).
    public var storedSize: (records: Int, bytes: Int) {
        var records = 0
        var bytes = labelArena.capacity + labelSpans.capacity * 8 + extras.capacity
        for slot in slots {
            records += slot.records.count
            bytes += slot.records.capacity * MemoryLayout<Record>.stride + slot.text.capacity
        }
        return (records, bytes)
    }

    /// Label sets stored (tests).
    var labelSetCount: Int { labelSpans.count - 1 }

    // MARK: - Internals

    static let eof: [UInt8] = Array("# EOF\n".utf8)
    private static let plusInf: [UInt8] = Array("+Inf".utf8)

    @inline(__always)
    private func slot(for family: MetricFamily) -> Slot {
        let serial = family.serial
        if serial < slotBySerial.count {
            let i = slotBySerial[serial]
            if i >= 0 { return slots[Int(i)] }
        }
        return newSlot(for: family)
    }

    /// ``slot(for:)`` without a reference counted per sample, for the adders: `slots` holds every
    /// slot for the writer's life.
    @inline(__always)
    private func unmanagedSlot(for family: MetricFamily) -> Unmanaged<Slot> {
        let serial = family.serial
        if serial < slotBySerial.count {
            let i = slotBySerial[serial]
            if i >= 0 { return slots.withUnsafeBufferPointer { Unmanaged.passUnretained($0[Int(i)]) } }
        }
        return Unmanaged.passUnretained(newSlot(for: family))
    }

    private func newSlot(for family: MetricFamily) -> Slot {
        let id = ObjectIdentifier(family)
        if let other = names[family.name], other != id {
            preconditionFailure("two metric families named \(family.name)")
        }
        names[family.name] = id
        let slot = Slot(family: family)
        slots.append(slot)
        if family.serial >= slotBySerial.count {
            slotBySerial.append(contentsOf: repeatElement(-1, count: family.serial + 1 - slotBySerial.count))
        }
        slotBySerial[family.serial] = Int32(slots.count - 1)
        // A writer is new for every collection, so every family is new once per collection:
        // insert it in place (a binary search), never re-sort (re-sorting on each new family was
        // 84% of a scrape's instructions at 100 containers).
        Self.insert(slots.count - 1, into: &sortedText, slots: slots) { $0.name.utf8 }
        Self.insert(slots.count - 1, into: &sortedOpenMetrics, slots: slots) { $0.openMetricsName.utf8 }
        return slot
    }

    /// Inserts slot `index` into `order` (slot indices sorted by `key` of their family).
    private static func insert(_ index: Int, into order: inout [Int], slots: [Slot], key: (MetricFamily) -> String.UTF8View) {
        var name = key(slots[index].family)
        var low = 0
        var high = order.count
        while low < high {
            let mid = (low + high) / 2
            var other = key(slots[order[mid]].family)
            if Self.precedes(&other, &name) { low = mid + 1 } else { high = mid }
        }
        order.insert(index, at: low)
    }

    /// Byte order of two names (on their UTF-8 bytes in place, not a generic sequence comparison).
    private static func precedes(_ a: inout String.UTF8View, _ b: inout String.UTF8View) -> Bool {
        let result = a.withContiguousStorageIfAvailable { x in
            b.withContiguousStorageIfAvailable { y -> Bool in
                var i = 0
                let n = min(x.count, y.count)
                while i < n {
                    if x[i] != y[i] { return x[i] < y[i] }
                    i += 1
                }
                return x.count < y.count
            }
        }
        return (result ?? nil) ?? a.lexicographicallyPrecedes(b)
    }

    /// The index of `labels` in ``labelSpans``, storing them unless they equal the previous
    /// sample's (`==` on arrays sharing one buffer does not even compare the bytes).
    @inline(__always)
    private func labelIndex(_ labels: Labels) -> UInt32 {
        if labels.isEmpty { return 0 }
        if lastLabelIndex != 0, labels.bytes == lastLabels { return lastLabelIndex }
        let start = UInt32(labelArena.count)
        labelArena.append(contentsOf: labels.bytes)
        labelSpans.append((start, UInt32(labelArena.count)))
        lastLabels = labels.bytes
        lastLabelIndex = UInt32(labelSpans.count - 1)
        return lastLabelIndex
    }

    /// Slot indices sorted by family name. Kept up to date when a family is added, so that
    /// rendering only reads: one filled writer can be rendered by several threads at once.
    fileprivate func sortedSlots(_ format: ExpositionFormat) -> [Int] {
        format == .openMetrics ? sortedOpenMetrics : sortedText
    }

    fileprivate func slot(at index: Int) -> Slot { slots[index] }

    /// Renders the records of `slot` from `first` on into `out`, each line written in place, and
    /// stops after the line that brings `out` to `limit` bytes. Returns the index of the first
    /// record not rendered.
    fileprivate func render(_ slot: Slot, from first: Int, _ format: ExpositionFormat, into out: ChunkBytes, until limit: Int) -> Int {
        let family = slot.family
        let withCreated = format == .openMetrics && family.type == .counter
        return labelArena.withUnsafeBufferPointer { arena in
            extras.withUnsafeBufferPointer { extras in
                labelSpans.withUnsafeBufferPointer { spans in
                    slot.records.withUnsafeBufferPointer { records in
                        family.sampleName.withUnsafeBufferPointer { name in
                            family.secondName.withUnsafeBufferPointer { second in
                                family.extraLabelOpening.withUnsafeBufferPointer { opening in
                                    var k = first
                                    while k < records.count, out.count < limit {
                                        let record = records[k]
                                        k += 1
                                        let (start, end) = spans[Int(record.labels)]
                                        let labels = UnsafeBufferPointer(rebasing: arena[Int(start)..<Int(end)])
                                        let extra: UnsafeBufferPointer<UInt8>? = record.kind & Record.hasExtra != 0
                                            ? UnsafeBufferPointer(rebasing: extras[Int(record.extraStart)..<Int(record.extraStart + record.extraCount)])
                                            : nil
                                        let created = withCreated && record.kind & Record.hasCreated != 0
                                        // `{labels,extra="value"}`, or nothing without labels.
                                        let braces = !labels.isEmpty || extra != nil
                                        // (Sums of buffer lengths: they cannot overflow.)
                                        var labelBytes = 0
                                        if braces {
                                            labelBytes = 2 &+ labels.count
                                            if let extra { labelBytes &+= 2 &+ opening.count &+ extra.count }
                                        }
                                        var bound = name.count &+ labelBytes &+ 2 &+ NumberWriter.maxLength
                                        if created { bound &+= second.count &+ labelBytes &+ 2 &+ NumberWriter.maxLength }
                                        out.reserve(bound)
                                        var p = out.base + out.count
                                        @inline(__always) func put(_ bytes: UnsafeBufferPointer<UInt8>) {
                                            if let base = bytes.baseAddress { UnsafeMutableRawPointer(p).copyMemory(from: base, byteCount: bytes.count) }
                                            p += bytes.count
                                        }
                                        @inline(__always) func put(_ byte: UInt8) {
                                            p.pointee = byte
                                            p += 1
                                        }
                                        @inline(__always) func putLabels() {
                                            guard braces else { return }
                                            put(UInt8(ascii: "{"))
                                            put(labels)
                                            if let extra {
                                                if !labels.isEmpty { put(UInt8(ascii: ",")) }
                                                put(opening)
                                                put(extra)
                                                put(UInt8(ascii: "\""))
                                            }
                                            put(UInt8(ascii: "}"))
                                        }
                                        put(name)
                                        putLabels()
                                        put(UInt8(ascii: " "))
                                        p += Self.writeValue(record, at: p)
                                        put(UInt8(ascii: "\n"))
                                        if created {
                                            put(second)
                                            putLabels()
                                            put(UInt8(ascii: " "))
                                            p += NumberWriter.write(record.created, at: p)
                                            put(UInt8(ascii: "\n"))
                                        }
                                        out.count = p - out.base
                                    }
                                    return k
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The value of a record at `p`; returns the bytes written (at most ``NumberWriter/maxLength``).
    @inline(__always)
    private static func writeValue(_ record: Record, at p: UnsafeMutablePointer<UInt8>) -> Int {
        switch record.kind & Record.kindMask {
        case Record.uint: return NumberWriter.write(record.bits, at: p)
        case Record.int:
            let v = Int64(bitPattern: record.bits)
            if v < 0 {
                p[0] = UInt8(ascii: "-")
                return 1 + NumberWriter.write(v.magnitude, at: p + 1)
            }
            return NumberWriter.write(v.magnitude, at: p)
        case Record.scaled: return NumberWriter.writeScaled(record.bits, decimals: Int(record.decimals), at: p)
        default: return NumberWriter.write(Double(bitPattern: record.bits), at: p)
        }
    }

    private static func writeHistogramLine(name: [UInt8], labels: Labels, value: SampleValue, into body: inout [UInt8]) {
        body.append(contentsOf: name)
        if !labels.isEmpty {
            body.append(UInt8(ascii: "{"))
            body.append(contentsOf: labels.bytes)
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

/// A rendering of one or more ``ExpositionWriter``s in one format, pulled chunk by chunk: each
/// ``next()`` renders about ``chunkSize`` bytes of whole lines into a buffer the stream reuses, so
/// a scrape holds one chunk of text at a time, never the whole exposition. The writers must not
/// be changed while a stream reads them; several streams may read one writer at once. A stream
/// itself is used by one thread at a time.
public final class ExpositionStream: @unchecked Sendable {
    /// Bytes rendered per ``next()`` (a chunk ends after the line that reaches it).
    public static let defaultChunkSize = 32 * 1024

    private let format: ExpositionFormat
    private let chunkSize: Int
    private let writers: [ExpositionWriter]
    /// (writer, slot) in output order.
    private var order: [(writer: Int, slot: Int)] = []
    private var position = 0
    private var record = 0
    private var headerWritten = false
    private var previous: MetricFamily?
    private var ended = false
    /// What ``next()`` renders into, reused.
    private var buffer: ChunkBytes?

    init(format: ExpositionFormat, writers: [ExpositionWriter], chunkSize: Int = ExpositionStream.defaultChunkSize) {
        self.format = format
        self.writers = writers
        self.chunkSize = max(chunkSize, 1)
        for (w, writer) in writers.enumerated() {
            for i in writer.sortedSlots(format) where !writer.slot(at: i).isEmpty { order.append((w, i)) }
        }
        if writers.count > 1 {
            order.sort { a, b in
                writers[a.writer].slot(at: a.slot).family.sortName(format).utf8
                    .lexicographicallyPrecedes(writers[b.writer].slot(at: b.slot).family.sortName(format).utf8)
            }
        }
    }

    /// The next chunk, valid until the next call; nil when the exposition is complete.
    public func next() -> UnsafeRawBufferPointer? {
        let buffer = self.buffer ?? ChunkBytes(capacity: chunkSize + 4096)
        self.buffer = buffer
        buffer.count = 0
        render(into: buffer, until: chunkSize)
        return buffer.count == 0 ? nil : buffer.bytes   // the buffer is not touched until the next call
    }

    /// The next chunk in memory of its own, for the caller to keep; nil when the exposition is
    /// complete.
    func nextChunk() -> ChunkBytes? {
        let chunk = ChunkBytes(capacity: chunkSize + 4096)
        render(into: chunk, until: chunkSize)
        return chunk.count == 0 ? nil : chunk
    }

    /// Renders the next lines into `buffer` until it holds `limit` bytes (the last line may pass
    /// it) or the exposition ends: nothing once it has ended.
    func render(into buffer: ChunkBytes, until limit: Int) {
        while buffer.count < limit, position < order.count {
            let (w, i) = order[position]
            let writer = writers[w]
            let slot = writer.slot(at: i)
            if !headerWritten {
                if let previous, previous.name == slot.family.name {
                    precondition(previous === slot.family, "two metric families named \(slot.family.name)")
                } else {
                    buffer.append(format == .openMetrics ? slot.family.openMetricsHeader : slot.family.textHeader)
                }
                previous = slot.family
                headerWritten = true
                buffer.append(slot.text)
            }
            let count = slot.records.count
            if record < count {
                record = writer.render(slot, from: record, format, into: buffer, until: limit)
            }
            if record >= count {
                position += 1
                record = 0
                headerWritten = false
            }
        }
        if position >= order.count, !ended, buffer.count < limit {
            ended = true
            if format == .openMetrics { buffer.append(ExpositionWriter.eof) }
        }
    }
}
