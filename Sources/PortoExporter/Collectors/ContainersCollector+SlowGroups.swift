import PortoWire
import Glibc
import Synchronization

/// The values of the slower groups kept between collections, per container.
final class SlowValues: Sendable {
    struct Value {
        /// The container's name.
        var name: String
        /// The samples of the values read, ready to add to a writer (``KeptSamples``): made once
        /// when read, not at every collection that writes them.
        var samples: [UInt8]
        var readAt: ContinuousClock.Instant
        /// The container's start time when read: a restart makes the values stale at once.
        var startTime: UInt64?
    }

    struct State {
        /// Collections so far: which quarter of the containers is read.
        var round: UInt64 = 0
        /// The containers' values in the order of the collection that kept them (by name).
        var values: [Value] = []
    }

    let state = Mutex(State())
}

/// A container's samples of the slower groups as bytes, for each sample: the metric's index in
/// the collector's slower metrics (6 bits) and the value's kind (2 bits) in one byte, the
/// decimals of a scaled value, the value's bits as a varint, and for a family with an extra
/// label its escaped value (a varint length and the bytes). The container's name label, its
/// ownership and its `_created` times are the current collection's, applied when they are added
/// (``add(_:plan:inherited:created:labels:into:)``), as when the values were read through the
/// table every collection.
enum KeptSamples {
    /// Metrics beyond this index cannot be kept (the index has 6 bits).
    static let maxMetrics = 64

    /// The samples in `writer` (one container's, written with every controller owned and no
    /// `_created` times) as bytes; `index` gives each family's metric index.
    static func encode(_ writer: ExpositionWriter, index: [ObjectIdentifier: UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        writer.forEachSample { family, record, extra in
            guard let i = index[ObjectIdentifier(family)] else { return }
            append(i, record, family.extraLabel != nil ? extra : nil, to: &out)
        }
        return out
    }

    /// `bytes` in an array of their size: kept until the container is read again, without the
    /// quarter or so more an array grown by appending holds.
    static func exact(_ bytes: [UInt8]) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: bytes.count) { buffer, count in
            _ = buffer.initialize(from: bytes)
            count = bytes.count
        }
    }

    /// Appends one sample: metric `index`, the value of `record`, and `extra` (escaped) when the
    /// family has an extra label.
    @inline(__always)
    static func append(_ index: UInt8, _ record: ExpositionWriter.Record, _ extra: UnsafeBufferPointer<UInt8>?, to out: inout [UInt8]) {
        let kind = record.kind & ExpositionWriter.Record.kindMask
        out.append(index | kind << 6)
        if kind == ExpositionWriter.Record.scaled { out.append(record.decimals) }
        Framing.appendVarint64(record.bits, to: &out)
        if let extra {
            Framing.appendVarint64(UInt64(extra.count), to: &out)
            out.append(contentsOf: extra)
        }
    }

    /// What ``add(_:plan:inherited:created:labels:into:)`` needs of each metric, as plain values
    /// (nothing retained per sample).
    struct Plan {
        /// Unmanaged: an unowned(unsafe) reference was still retained and released for each
        /// sample it was passed on with.
        let family: Unmanaged<MetricFamily>
        let ownershipBit: UInt8
        /// `_created` from: 0 none, 1 the cgroup, 2 the start time, 3 the creation time.
        let created: UInt8
        let hasExtra: Bool

        init(_ metric: ContainerMetric) {
            family = Unmanaged.passUnretained(metric.family)
            ownershipBit = metric.ownershipBit
            created = switch metric.created {
            case .cgroup: 1
            case .netns: 2
            case .creationTime: 3
            case nil: 0
            }
            hasExtra = metric.family.extraLabel != nil
        }
    }

    /// Adds the samples `bytes` (``encode(_:index:)``) of the metrics planned in `plan` to
    /// `writer` with `labels`, leaving out those of a controller in `inherited`, with `_created`
    /// from `created` (the metrics must outlive the call).
    static func add(
        _ bytes: [UInt8], plan: UnsafeBufferPointer<Plan>, inherited: UInt8, created: LaterTimes.Times?, labels: Labels,
        into writer: ExpositionWriter
    ) {
        let times: (UInt64?, UInt64?, UInt64?) = (created?.cgroup, created?.start, created?.creation)
        bytes.withUnsafeBufferPointer { p in
            var i = 0
            while i < p.count {
                let header = p[i]
                i += 1
                let metric = plan[Int(header & 0x3F)]
                let kind = header >> 6
                var decimals: UInt8 = 0
                if kind == ExpositionWriter.Record.scaled { decimals = p[i]; i += 1 }
                let bits = varint(p, &i)
                var extra = UnsafeBufferPointer(rebasing: p[0..<0])
                if metric.hasExtra {
                    let count = Int(varint(p, &i))
                    extra = UnsafeBufferPointer(rebasing: p[i..<i + count])
                    i += count
                }
                if inherited & metric.ownershipBit != 0 { continue }
                let time: UInt64? = switch metric.created {
                case 1: times.0
                case 2: times.1
                case 3: times.2
                default: nil
                }
                let record = ExpositionWriter.Record(kind: kind, bits: bits, decimals: decimals)
                metric.family._withUnsafeGuaranteedRef { writer.add(kept: record, extra: extra, $0, labels: labels, created: time) }
            }
        }
    }

    @inline(__always)
    private static func varint(_ p: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> UInt64 {
        // The position in a local (not stored back per byte), and a one-byte value returned at once.
        var k = i
        let first = p[k]
        k += 1
        if first < 0x80 {
            i = k
            return UInt64(first)
        }
        var value = UInt64(first & 0x7F)
        var shift: UInt64 = 7
        while true {
            let byte = p[k]
            k += 1
            // The bytes are this file's own encoding (at most ten bytes): a masking shift, without
            // the checks of `<<` for a shift of 64 or more.
            value |= UInt64(byte & 0x7F) &<< shift
            if byte < 0x80 {
                i = k
                return value
            }
            shift &+= 7
        }
    }
}

extension ContainersCollector {
    /// The groups read at a slower cadence: process_count and thread_count (a freezer walk per
    /// container, 34 ms of a scrape at 171 containers), the io properties (21 ms; io_write reads
    /// memory.stat again) and the pressure ones (9 ms) cost portod 65 of the 130 ms of a scrape
    /// (docs/porto.md §7.1). Read every collection they alone would keep a scrape above a third
    /// of that; a quarter of them per collection keeps every scrape alike.
    static let slowGroups: Set<CollectorGroup> = [.process, .io, .pressure]

    /// Each container's slower groups are read every `slowSlices`-th collection: the values are
    /// up to `slowSlices` - 1 collections old, which `porto_exporter_values_age_seconds` shows.
    static let slowSlices: UInt64 = 4

    /// Which of the ``slowSlices`` collections reads the container: a hash of its name (FNV-1a),
    /// so that the set read changes only with the containers.
    static func slice(of name: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        var name = name
        name.withUTF8 { utf8 in
            for byte in utf8 {
                hash ^= UInt64(byte)
                hash &*= 0x0000_0100_0000_01b3
            }
        }
        return hash % slowSlices
    }

    /// Reads the slower groups of this collection's quarter of the containers, and of those never
    /// read or restarted since (so the first collection reads all), with one `Get`; then writes
    /// every container's last values and the age of the oldest per group. A Get portod refuses
    /// keeps the older values.
    func writeSlowGroups(_ context: CollectContext, pass: ContainerPass, known: KnownProperties, into writer: ExpositionWriter) throws(PortoError) {
        let variables = Array(Set(slowMetrics.map(\.property))).sorted().filter { known.knows($0) }
        let now = context.now()
        let (round, cached) = slowValues.state.withLock { state -> (UInt64, [SlowValues.Value]) in
            state.round &+= 1
            return (state.round, state.values)
        }
        // The kept values of the pass's containers: both are sorted by name, so one walk finds
        // them (no hashing per container).
        let passed = pass.entries
        var matched = [Int](repeating: -1, count: passed.count)
        var j = 0
        // By index: a for-in over the entries copies each (its name and labels retained).
        for i in passed.indices {
            let name = passed[i].name
            var order = -1
            while j < cached.count {
                order = Self.compare(cached[j].name, name)
                if order >= 0 { break }
                j += 1
            }
            if j < cached.count, order == 0 {
                matched[i] = j
                j += 1
            }
        }
        var read: [Int] = []
        for i in passed.indices {
            if matched[i] >= 0, cached[matched[i]].startTime == passed[i].startTime,
               Self.slice(of: passed[i].name) != round % Self.slowSlices { continue }
            read.append(i)
        }
        // The values read, by position in `read`.
        var values = [SlowValues.Value?](repeating: nil, count: read.count)
        if !read.isEmpty, !variables.isEmpty {
            do throws(PortoError) {
                // Read in place (``GetAnswer``): no message and no String per value decoded (the
                // first collection reads every container; decoded whole, that answer took 52 MB
                // at 10,000 containers).
                let bytes = try context.callRaw(Self.getRequest(read.map { passed[$0].name }, variables))
                var index: [String: Int] = [:]
                index.reserveCapacity(read.count)
                for (k, i) in read.enumerated() { index[passed[i].name] = k }
                var keeper = SampleKeeper(slowMetrics)
                var entries: [(key: Range<Int>, value: UInt64)] = []
                do throws(PortoError) {
                    let answer = try GetAnswer(bytes)
                    for entry in answer.entries {
                        guard let k = index[entry.name] else { continue }
                        let i = read[k]
                        switch try keeper.direct(answer, entry) {
                        case .gone: continue
                        case .samples(let samples):
                            values[k] = SlowValues.Value(name: passed[i].name, samples: samples, readAt: now, startTime: passed[i].startTime)
                            continue
                        case .other: break
                        }
                        let bytes: [UInt8]
                        switch try Self.laterBytes(answer, entry, &entries) {
                        case .gone: continue
                        case .bytes(let b): bytes = b
                        case .other:
                            let one: Porto_TGetResponse.TContainerGetListResponse
                            do {
                                one = try Porto_TGetResponse.TContainerGetListResponse(serializedBytes: Array(answer.bytes[entry.range]))
                            } catch {
                                throw .decode("Get answer: \(error)")
                            }
                            var list = Porto_TGetResponse()
                            list.list = [one]
                            guard let container = LegacyContainerReader.containers(from: list).first else { continue }
                            bytes = Self.encoded(container.status)
                        }
                        values[k] = SlowValues.Value(name: passed[i].name, samples: keeper.samples(entry.name, bytes), readAt: now,
                                                     startTime: passed[i].startTime)
                    }
                } catch {
                    context.answerUndecodable(error, method: "Get")
                    throw error
                }
            } catch {
                guard case .porto = error else { throw error }
            }
        }
        var kept: [SlowValues.Value] = []
        kept.reserveCapacity(passed.count)
        var oldest: ContinuousClock.Instant?
        let plan = slowMetrics.map(KeptSamples.Plan.init)
        plan.withUnsafeBufferPointer { plan in
            var k = 0
            for i in passed.indices {
                var fresh: SlowValues.Value?
                if k < read.count, read[k] == i {
                    fresh = values[k].take()  // moved: each is used once
                    k += 1
                }
                let value: SlowValues.Value
                if let fresh { value = fresh } else if matched[i] >= 0 { value = cached[matched[i]] } else { continue }
                KeptSamples.add(value.samples, plan: plan, inherited: passed[i].inherited, created: passed[i].created,
                                labels: passed[i].labels, into: writer)
                if oldest.map({ value.readAt < $0 }) ?? true { oldest = value.readAt }
                kept.append(value)
            }
        }
        slowValues.state.withLock { $0.values = kept }
        guard let oldest else { return }
        let age = now - oldest
        let (seconds, attoseconds) = age.components
        let value: SampleValue = seconds < 0 ? .uint(0) : .scaled(UInt64(seconds) * 1_000 + UInt64(attoseconds / 1_000_000_000_000_000), decimals: 3)
        for group in Self.slowGroups.sorted() where slowMetrics.contains(where: { $0.group == group }) {
            writer.gauge(ExporterMetrics.valuesAge, extra: group.rawValue, value: value)
        }
    }

    /// The byte order of two names (the order of ``ContainerPass/entries``): <0, 0 or >0.
    static func compare(_ a: String, _ b: String) -> Int {
        // The bytes in place, without the copies (and their reference counting) that withUTF8
        // needs; a string without contiguous UTF-8 is made native first.
        if let order = a.utf8.withContiguousStorageIfAvailable({ x in b.utf8.withContiguousStorageIfAvailable { y in compare(x, y) } }),
           let order {
            return order
        }
        var a = a, b = b
        return a.withUTF8 { x in b.withUTF8 { y in compare(x, y) } }
    }

    private static func compare(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Int {
        let n = min(x.count, y.count)
        if n > 0, let p = x.baseAddress, let q = y.baseAddress {
            let c = memcmp(p, q, n)
            if c != 0 { return Int(c) }
        }
        return x.count - y.count
    }

    /// Turns the values read of a container (``encoded(_:)`` bytes) into ``KeptSamples``: they
    /// go through the table once, into a writer of their own, with every controller owned.
    ///
    /// Most containers' values are read straight from the `Get` answer into samples
    /// (``direct(_:_:)``), by the same functions the table's samples are made with; what that
    /// reading leaves (``LaterBytes``) goes through the table.
    struct SampleKeeper {
        let collector: ContainersCollector
        let writer = ExpositionWriter(format: .text)
        var scratch: Scratch
        var index: [ObjectIdentifier: UInt8] = [:]
        /// Whether the values are read straight from the answer (``direct(_:_:)``): every slower
        /// metric is a status number or map that ``laterBytes(_:_:_:)`` reads the same way.
        let readsDirectly: Bool
        let metrics: [ContainerMetric]
        var entries: [(key: Range<Int>, value: UInt64)] = []
        var keys: [(key: UnsafeBufferPointer<UInt8>, value: UInt64)] = []
        var escaped: [UInt8] = []
        /// ``direct(_:_:)``'s buffers, kept from one container to the next (grown once, not per container).
        var keyvals: [GetAnswer.Value] = []
        var encoded: [UInt8] = []

        init(_ metrics: [ContainerMetric]) {
            precondition(metrics.count <= KeptSamples.maxMetrics, "too many slower metrics to keep")
            collector = ContainersCollector(metrics: metrics, selection: ContainerSelection(), labels: LabelSelection(), laterTimes: LaterTimes([:]))
            scratch = Scratch(collector.plan)
            for (i, metric) in metrics.enumerated() { index[ObjectIdentifier(metric.family)] = UInt8(i) }
            self.metrics = metrics
            var properties: [(name: [UInt8], field: ContainerField, metrics: [Int])] = []
            var direct = true
            for (i, metric) in metrics.enumerated() {
                switch metric.field {
                case .status(let number, _) where metric.family.extraLabel == nil,
                     .map(let number, _):
                    let field = LegacyContainerReader.fieldsByProperty[metric.property]
                    if case .status(let n, _)? = field, n == number {} else if case .map(let n, _)? = field, n == number {} else { direct = false }
                    if LegacyContainerReader.isSpecial(metric.property) { direct = false }
                default:
                    direct = false
                }
                let name = Array(metric.property.utf8)
                if let p = properties.firstIndex(where: { $0.name == name }) {
                    if properties[p].field.wire.number != metric.field.wire.number { direct = false }
                    properties[p].metrics.append(i)
                } else {
                    properties.append((name, metric.field, [i]))
                }
            }
            readsDirectly = direct
            for property in properties {
                let start = nameBytes.count
                nameBytes.append(contentsOf: property.name)
                let isMap = if case .map = property.field { true } else { false }
                let first = metricIndices.count
                metricIndices.append(contentsOf: property.metrics)
                propertySpans.append((start, property.name.count, isMap, first, property.metrics.count))
            }
        }

        /// ``properties`` flattened for ``direct(_:_:)``, so that nothing is retained per value:
        /// the names' bytes one after another, and per property (name start, name length, whether
        /// a map, first index in `metricIndices`, count).
        private(set) var nameBytes: [UInt8] = []
        private(set) var metricIndices: [Int] = []
        private(set) var propertySpans: [(start: Int, count: Int, isMap: Bool, first: Int, metrics: Int)] = []

        /// What ``direct(_:_:)`` makes of a container.
        enum Direct {
            case gone
            case samples([UInt8])
            /// A value read its own way: ``laterBytes(_:_:_:)`` and the table.
            case other
        }

        /// The samples of `entry` of `answer`, read as ``laterBytes(_:_:_:)`` reads the values
        /// and as the table writes them: each of our properties once, a value with an error or
        /// not understood leaving its samples out; anything else is `.other`.
        mutating func direct(_ answer: GetAnswer, _ entry: GetAnswer.Entry) throws(PortoError) -> Direct {
            guard readsDirectly else { return .other }
            var values: [GetAnswer.Value] = [], out: [UInt8] = []
            swap(&values, &keyvals)
            swap(&out, &encoded)
            defer {
                swap(&values, &keyvals)
                swap(&out, &encoded)
            }
            try answer.values(entry, into: &values)
            if values.contains(where: { $0.error == .containerDoesNotExist }) { return .gone }
            out.removeAll(keepingCapacity: true)
            var seen: UInt64 = 0
            // The metrics are borrowed through Unmanaged below: `table` holds them for the whole reading.
            let spans = propertySpans, names = nameBytes, indices = metricIndices, table = metrics
            let result: Bool = try answer.bytes.withUnsafeBufferPointer { bytes throws(PortoError) -> Bool in
                try spans.withUnsafeBufferPointer { spans throws(PortoError) -> Bool in
                    try names.withUnsafeBufferPointer { names throws(PortoError) -> Bool in
                        try indices.withUnsafeBufferPointer { indices throws(PortoError) -> Bool in
                            for keyval in values {
                                if let error = keyval.error, error != .success { continue }
                                guard let valueRange = keyval.value else { continue }
                                let name = UnsafeBufferPointer(rebasing: bytes[keyval.variable ?? 0..<0])
                                var p = 0
                                while p < spans.count {
                                    let span = spans[p]
                                    if span.count == name.count, ContainersCollector.equal(UnsafeBufferPointer(rebasing: names[span.start..<span.start + span.count]), name) { break }
                                    p += 1
                                }
                                guard p < spans.count else {
                                    guard UTF8Check.isValid(name) else { throw .decode("invalid UTF-8 in a string field at offset \(keyval.variable?.lowerBound ?? 0)") }
                                    return false
                                }
                                if seen & (1 << UInt64(p)) != 0 { return false }
                                let utf8 = UnsafeBufferPointer(rebasing: bytes[valueRange])
                                guard UTF8Check.isValid(utf8) else { throw .decode("invalid UTF-8 in a string field at offset \(valueRange.lowerBound)") }
                                let span = spans[p]
                                let ours = UnsafeBufferPointer(rebasing: indices[span.first..<span.first + span.metrics])
                                if !span.isMap {
                                    guard let v = LegacyValueParser.uint(utf8) else { continue }
                                    seen |= 1 << UInt64(p)
                                    for i in ours {
                                        let conversion = Unmanaged.passUnretained(table[i])._withUnsafeGuaranteedRef { $0.conversion }
                                        KeptSamples.append(UInt8(i), ExpositionWriter.Record(conversion.value(v)), nil, to: &out)
                                    }
                                    continue
                                }
                                entries.removeAll(keepingCapacity: true)
                                guard let parsed = LegacyValueParser.asciiUIntMap(utf8, into: &entries) else { return false }
                                guard parsed else { continue }
                                seen |= 1 << UInt64(p)
                                keys.removeAll(keepingCapacity: true)
                                for e in entries { keys.append((UnsafeBufferPointer(rebasing: utf8[e.key]), e.value)) }
                                for i in ours {
                                    Unmanaged.passUnretained(table[i])._withUnsafeGuaranteedRef { metric in
                                        ContainersCollector.mapSamples(keys, metric) { value, extra in
                                            // A key to escape is rare: the others are kept as they are.
                                            if let extra, Labels.needsEscaping(extra) {
                                                escaped.removeAll(keepingCapacity: true)
                                                Labels.appendEscaped(extra, to: &escaped)
                                                escaped.withUnsafeBufferPointer { KeptSamples.append(UInt8(i), ExpositionWriter.Record(value), $0, to: &out) }
                                            } else {
                                                KeptSamples.append(UInt8(i), ExpositionWriter.Record(value), extra, to: &out)
                                            }
                                        }
                                    }
                                }
                            }
                            return true
                        }
                    }
                }
            }
            return result ? .samples(KeptSamples.exact(out)) : .other
        }

        mutating func samples(_ name: String, _ bytes: [UInt8]) -> [UInt8] {
            writer.reset(format: .text)
            var previous: String?
            do {
                try bytes.withUnsafeBufferPointer { buffer throws(PortoError) in
                    try scratch.reader.read(buffer, 0..<buffer.count)
                    try collector.write(name, &scratch, ownsNet: true, previous: &previous, inherited: 0, labels: Labels.none, into: writer)
                }
            } catch {
                // Bytes serialised here always read back.
                assertionFailure("container \(name): \(error)")
            }
            return KeptSamples.exact(KeptSamples.encode(writer, index: index))
        }
    }

    /// What ``laterBytes(_:_:)`` makes of a container of a `Get` answer.
    enum LaterBytes {
        /// ContainerDoesNotExist: destroyed since the pass, left out.
        case gone
        /// Its values as ``StatusBytes``.
        case bytes([UInt8])
        /// A value this reading leaves to ``LegacyContainerReader`` (a property other than a
        /// uint64 or a `TUintMap` of the status, a variable asked twice, text that is not ASCII).
        case other
    }

    /// One container of the slower groups' `Get` answer as ``StatusBytes``: the fields
    /// ``LegacyContainerReader`` would set (a value with an error or not understood leaves its
    /// field unset), without a `TContainer` built and serialised per container (that was half
    /// of a scrape's CPU at 1,000 containers). `entries` is scratch space.
    static func laterBytes(_ entry: Porto_TGetResponse.TContainerGetListResponse, _ entries: inout [(key: Range<Int>, value: UInt64)]) -> LaterBytes {
        var response = Porto_TPortoResponse()
        response.get.list = [entry]
        guard let bytes: [UInt8] = try? response.serializedBytes(partial: true), let answer = try? GetAnswer(bytes),
              let first = answer.entries.first, let result = try? laterBytes(answer, first, &entries) else { return .other }
        return result
    }

    /// ``laterBytes(_:_:)`` of `entry` of `answer`, read in place. Throws `.decode` for a
    /// variable or value read that is not UTF-8 (which decoding the answer refuses).
    static func laterBytes(_ answer: GetAnswer, _ entry: GetAnswer.Entry, _ entries: inout [(key: Range<Int>, value: UInt64)]) throws(PortoError) -> LaterBytes {
        let values = try answer.values(entry)
        if values.contains(where: { $0.error == .containerDoesNotExist }) { return .gone }
        return try answer.bytes.withUnsafeBufferPointer { bytes throws(PortoError) -> LaterBytes in
            var out = StatusBytes()
            var written: [Int] = []
            for keyval in values {
                if let error = keyval.error, error != .success { continue }
                guard let valueRange = keyval.value else { continue }
                let name = UnsafeBufferPointer(rebasing: bytes[keyval.variable ?? 0..<0])
                guard UTF8Check.isValid(name) else { throw .decode("invalid UTF-8 in a string field at offset \(keyval.variable?.lowerBound ?? 0)") }
                let variable = String(decoding: name, as: UTF8.self)
                guard let field = LegacyContainerReader.fieldsByProperty[variable],
                      !LegacyContainerReader.specialProperties.contains(variable) else {
                    if LegacyContainerReader.isSpecial(variable) { return .other }
                    continue  // not one of ours
                }
                let utf8 = UnsafeBufferPointer(rebasing: bytes[valueRange])
                guard UTF8Check.isValid(utf8) else { throw .decode("invalid UTF-8 in a string field at offset \(valueRange.lowerBound)") }
                switch field {
                case .status(let number, _):
                    guard !written.contains(number) else { return .other }
                    guard let v = LegacyValueParser.uint(utf8) else { continue }
                    out.uint(number, v)
                    written.append(number)
                case .map(let number, _):
                    guard !written.contains(number) else { return .other }
                    entries.removeAll(keepingCapacity: true)
                    guard let parsed = LegacyValueParser.asciiUIntMap(utf8, into: &entries) else { return .other }
                    guard parsed else { continue }
                    out.uintMap(number, utf8, entries)
                    written.append(number)
                default:
                    return .other
                }
            }
            return .bytes(out.container)
        }
    }
}
