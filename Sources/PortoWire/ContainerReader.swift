/// Reads chosen fields of one encoded `TContainer` (a range of a ListContainersBy answer) straight
/// from its wire bytes: no message is decoded and nothing is allocated per field.
///
/// A ``Layout`` (built once) says which fields of `TContainerSpec` and `TContainerStatus` are
/// wanted and their wire kind; each gets a slot. ``read(_:_:)`` walks one container's `spec` (1),
/// `status` (2) and `error` (3) once and notes, per slot, the last scalar or every occurrence of a
/// length-delimited field; the accessors then read them. The values are what decoding the
/// container with SwiftProtobuf gives (the differential fuzz target FuzzContainerReader checks it):
/// - a scalar field's last occurrence wins; one with an unexpected wire type is skipped, as a
///   decoder keeps it as an unknown field;
/// - occurrences of a message field merge: `TUintMap` entries concatenate in order, a `TVmStat`
///   key's last occurrence wins, `TContainerCgroups` entries concatenate;
/// - strings read (map keys, `state`, cgroup controllers, label pairs) are validated as UTF-8.
/// Malformed bytes in what is read throw ``PortoError/decode(_:)``. Fields that are not read are
/// only walked over (their framing checked), not validated: a container whose unread fields a
/// decoder would reject (invalid UTF-8 in `command`, say) is read, not refused.
///
/// ```swift
/// let layout = ContainerReader.Layout()
/// let usage = layout.add(.status, 26, .varint)           // cpu_usage
/// var reader = ContainerReader(layout)
/// try bytes.withUnsafeBufferPointer { buffer in
///     try reader.read(buffer, range)                     // one container
///     let v: UInt64? = reader.uint64(usage)
/// }
/// ```
/// The buffer passed to ``read(_:_:)`` must stay valid while the accessors are used.
public struct ContainerReader {
    /// The wire kind of a wanted field.
    public enum Kind: UInt8, Sendable {
        /// uint64, int32, bool, enum (wire type 0).
        case varint = 0
        /// double, fixed64 (wire type 1).
        case fixed64 = 1
        /// string, bytes, message (wire type 2): every occurrence is kept.
        case lengthDelimited = 2
    }

    /// The message of `TContainer` a field is in.
    public enum Message: Sendable {
        case spec
        case status
    }

    /// The wanted fields and their slots. Built once (for example by a collector), shared by
    /// every reader.
    public final class Layout: @unchecked Sendable {
        // Changed only while the layout is built (see add): read per field without the runtime's
        // exclusivity bookkeeping.
        @exclusivity(unchecked) fileprivate var specIndex: [Int32] = []
        @exclusivity(unchecked) fileprivate var statusIndex: [Int32] = []
        @exclusivity(unchecked) fileprivate var kinds: [Kind] = []
        /// Slot of `spec.name`, always wanted.
        public private(set) var name: Int = 0

        public init() {
            name = add(.spec, 1, .lengthDelimited)
        }

        /// The slot of field `number` of `message`, added if it is not there yet. A field is
        /// wanted with one kind only (adding it again with another kind traps). Not thread-safe:
        /// add every field before the layout is shared, and before a reader is made from it.
        @discardableResult
        public func add(_ message: Message, _ number: Int, _ kind: Kind) -> Int {
            precondition(number >= 1 && number <= 100_000, "field number \(number)")
            func slot(_ index: inout [Int32]) -> Int {
                if index.count <= number { index.append(contentsOf: repeatElement(-1, count: number + 1 - index.count)) }
                if index[number] >= 0 {
                    precondition(kinds[Int(index[number])] == kind, "field \(number) wanted as two kinds")
                    return Int(index[number])
                }
                kinds.append(kind)
                index[number] = Int32(kinds.count - 1)
                return kinds.count - 1
            }
            return message == .spec ? slot(&specIndex) : slot(&statusIndex)
        }

        public var slotCount: Int { kinds.count }
    }

    public let layout: Layout
    private var base: UnsafePointer<UInt8>?
    /// Per slot: the container's generation when set, the last scalar, the first and last
    /// occurrence (indices into the occurrence lists).
    @usableFromInline var generation: [UInt32]
    @usableFromInline var scalar: [UInt64]
    private var first: [Int32]
    private var last: [Int32]
    private var occurrenceStart: [Int32] = []
    private var occurrenceEnd: [Int32] = []
    private var occurrenceNext: [Int32] = []
    @usableFromInline var current: UInt32 = 0
    /// `TContainer.error` (3): whether present, and its `error` code (nil: unset or unknown).
    public private(set) var hasError = false
    public private(set) var errorCode: Int32?

    /// A reader of the fields `layout` has now (fields added to it later are not read).
    public init(_ layout: Layout) {
        self.layout = layout
        let n = layout.slotCount
        generation = Array(repeating: 0, count: n)
        scalar = Array(repeating: 0, count: n)
        first = Array(repeating: -1, count: n)
        last = Array(repeating: -1, count: n)
    }

    // MARK: - Reading a container

    /// Walks the `TContainer` in `buffer[range]`. Throws `.decode` when its framing (or that of
    /// its spec, status or error) is malformed.
    public mutating func read(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) throws(PortoError) {
        precondition(range.lowerBound >= 0 && range.upperBound <= buffer.count, "range out of bounds")
        guard let pointer = buffer.baseAddress else {
            precondition(range.isEmpty)
            base = nil
            current &+= 1
            if current == 0 { resetGenerations() }
            hasError = false
            errorCode = nil
            return
        }
        base = pointer
        current &+= 1
        if current == 0 { resetGenerations() }
        occurrenceStart.removeAll(keepingCapacity: true)
        occurrenceEnd.removeAll(keepingCapacity: true)
        occurrenceNext.removeAll(keepingCapacity: true)
        hasError = false
        errorCode = nil
        var cursor = WireCursor(pointer, range)
        while let field = try cursor.next() {
            guard field.wireType == 2 else { continue }
            switch field.number {
            case 1: try walk(pointer, field.range, layout.specIndex)
            case 2: try walk(pointer, field.range, layout.statusIndex)
            case 3:
                hasError = true
                var error = WireCursor(pointer, field.range)
                while let f = try error.next() {
                    // A later valid code wins; an unknown one is an unknown field (proto2 enum).
                    if f.number == 1, f.wireType == 0, Self.isKnownError(Int32(truncatingIfNeeded: f.value)) {
                        errorCode = Int32(truncatingIfNeeded: f.value)
                    }
                }
            default: break
            }
        }
    }

    private mutating func walk(_ pointer: UnsafePointer<UInt8>, _ range: Range<Int>, _ index: [Int32]) throws(PortoError) {
        var cursor = WireCursor(pointer, range)
        try index.withUnsafeBufferPointer { index throws(PortoError) in
            try layout.kinds.withUnsafeBufferPointer { kinds throws(PortoError) in
                while let field = try cursor.next() {
                    guard field.number < index.count else { continue }
                    let s = index[field.number]
                    guard s >= 0 else { continue }
                    let slot = Int(s)
                    guard kinds[slot].rawValue == field.wireType else { continue }  // an unknown field to a decoder
                    if field.wireType == 2 {
                        let occurrence = Int32(occurrenceStart.count)
                        occurrenceStart.append(Int32(field.range.lowerBound))
                        occurrenceEnd.append(Int32(field.range.upperBound))
                        occurrenceNext.append(-1)
                        if generation[slot] == current {
                            occurrenceNext[Int(last[slot])] = occurrence
                        } else {
                            first[slot] = occurrence
                        }
                        last[slot] = occurrence
                    } else {
                        scalar[slot] = field.value
                    }
                    generation[slot] = current
                }
            }
        }
    }

    private mutating func resetGenerations() {
        for i in generation.indices { generation[i] = 0 }
        current = 1
    }

    static func isKnownError(_ raw: Int32) -> Bool { Porto_EError(rawValue: Int(raw)) != nil }

    // MARK: - Accessors

    /// Whether the field of `slot` was present (any occurrence with the expected wire type).
    @inlinable
    public func has(_ slot: Int) -> Bool { generation[slot] == current }

    /// A varint field as uint64 (nil when absent).
    @inlinable
    public func uint64(_ slot: Int) -> UInt64? { generation[slot] == current ? scalar[slot] : nil }

    /// A varint field as int32 (as a decoder truncates it).
    @inlinable
    public func int32(_ slot: Int) -> Int32? { generation[slot] == current ? Int32(truncatingIfNeeded: scalar[slot]) : nil }

    /// A varint field as bool.
    @inlinable
    public func bool(_ slot: Int) -> Bool? { generation[slot] == current ? scalar[slot] != 0 : nil }

    /// A fixed64 field as double.
    @inlinable
    public func double(_ slot: Int) -> Double? { generation[slot] == current ? Double(bitPattern: scalar[slot]) : nil }

    /// A string field's bytes (its last occurrence), validated as UTF-8; nil when absent.
    public func string(_ slot: Int) throws(PortoError) -> UnsafeBufferPointer<UInt8>? {
        guard generation[slot] == current, let base else { return nil }
        precondition(layout.kinds[slot] == .lengthDelimited, "slot \(slot) is not length-delimited")
        let o = Int(last[slot])
        let bytes = UnsafeBufferPointer(start: base + Int(occurrenceStart[o]), count: Int(occurrenceEnd[o] - occurrenceStart[o]))
        guard UTF8Check.isValid(bytes) else { throw .decode("invalid UTF-8 in a string field at offset \(occurrenceStart[o])") }
        return bytes
    }

    /// A string field as a `String` (allocates; for names and labels, not per sample).
    public func stringValue(_ slot: Int) throws(PortoError) -> String? {
        guard let bytes = try string(slot) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The entries of a `TUintMap` field, every occurrence in order, appended to `entries` as
    /// (key bytes, value): keys are validated as UTF-8. Returns false when the field is absent.
    @discardableResult
    public func uintMap(_ slot: Int, into entries: inout [(key: UnsafeBufferPointer<UInt8>, value: UInt64)]) throws(PortoError) -> Bool {
        guard generation[slot] == current, let base else { return false }
        precondition(layout.kinds[slot] == .lengthDelimited, "slot \(slot) is not length-delimited")
        var o = Int(first[slot])
        while o >= 0 {
            var map = WireCursor(base, Int(occurrenceStart[o])..<Int(occurrenceEnd[o]))
            while let field = try map.next() {
                guard field.number == 1, field.wireType == 2 else { continue }
                var key: Range<Int> = 0..<0
                var value: UInt64 = 0
                var entry = WireCursor(base, field.range)
                while let f = try entry.next() {
                    if f.number == 1, f.wireType == 2 { key = f.range } else if f.number == 2, f.wireType == 0 { value = f.value }
                }
                let bytes = UnsafeBufferPointer(start: base + key.lowerBound, count: key.count)
                guard UTF8Check.isValid(bytes) else { throw .decode("invalid UTF-8 in a map key at offset \(key.lowerBound)") }
                entries.append((bytes, value))
            }
            o = Int(occurrenceNext[o])
        }
        return true
    }

    /// The varint fields 1..<`values.count` of a message field (for example `TVmStat`), every
    /// occurrence merged (a later value wins). Bit `n` of the result is set when field `n` is
    /// present; nil when the message field itself is absent.
    public func scalars(_ slot: Int, into values: inout [UInt64]) throws(PortoError) -> UInt64? {
        guard generation[slot] == current, let base else { return nil }
        precondition(layout.kinds[slot] == .lengthDelimited, "slot \(slot) is not length-delimited")
        precondition(values.count <= 64)
        var present: UInt64 = 0
        var o = Int(first[slot])
        while o >= 0 {
            var message = WireCursor(base, Int(occurrenceStart[o])..<Int(occurrenceEnd[o]))
            while let f = try message.next() {
                guard f.wireType == 0, f.number < values.count else { continue }
                values[f.number] = f.value
                present |= 1 << UInt64(f.number)
            }
            o = Int(occurrenceNext[o])
        }
        return present
    }

    /// The entries of a `TContainerCgroups` field (`cgroup` (1): `controller` (1), `inherited`
    /// (3)), every occurrence in order; controllers are validated as UTF-8.
    @discardableResult
    public func cgroups(_ slot: Int, into entries: inout [(controller: UnsafeBufferPointer<UInt8>, inherited: Bool)]) throws(PortoError) -> Bool {
        try forEachCgroup(slot) { (_, controller, _, inherited) throws(PortoError) in
            guard UTF8Check.isValid(controller) else {
                throw .decode("invalid UTF-8 in a cgroup controller at offset \(controller.baseAddress! - base!)")
            }
            entries.append((controller, inherited))
        }
    }

    /// Like ``cgroups(_:into:)``, with each entry's `path` (2) too.
    @discardableResult
    public func cgroupPaths(
        _ slot: Int, into entries: inout [(controller: UnsafeBufferPointer<UInt8>, path: UnsafeBufferPointer<UInt8>, inherited: Bool)]
    ) throws(PortoError) -> Bool {
        try forEachCgroup(slot) { (entry, controller, path, inherited) throws(PortoError) in
            guard UTF8Check.isValid(controller), UTF8Check.isValid(path) else {
                throw .decode("invalid UTF-8 in a cgroup at offset \(entry.lowerBound)")
            }
            entries.append((controller, path, inherited))
        }
    }

    /// Walks every `cgroup` (1) entry of a `TContainerCgroups` field, every occurrence in order,
    /// handing `body` the entry's range, its `controller` (1), `path` (2) and `inherited` (3)
    /// (unvalidated). Returns false when the field is absent.
    private func forEachCgroup(
        _ slot: Int,
        _ body: (Range<Int>, UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt8>, Bool) throws(PortoError) -> Void
    ) throws(PortoError) -> Bool {
        guard generation[slot] == current, let base else { return false }
        precondition(layout.kinds[slot] == .lengthDelimited, "slot \(slot) is not length-delimited")
        var o = Int(first[slot])
        while o >= 0 {
            var list = WireCursor(base, Int(occurrenceStart[o])..<Int(occurrenceEnd[o]))
            while let field = try list.next() {
                guard field.number == 1, field.wireType == 2 else { continue }
                var controller: Range<Int> = 0..<0
                var path: Range<Int> = 0..<0
                var inherited = false
                var cgroup = WireCursor(base, field.range)
                while let f = try cgroup.next() {
                    if f.number == 1, f.wireType == 2 { controller = f.range } else if f.number == 2, f.wireType == 2 { path = f.range } else if f.number == 3, f.wireType == 0 { inherited = f.value != 0 }
                }
                try body(field.range,
                         UnsafeBufferPointer(start: base + controller.lowerBound, count: controller.count),
                         UnsafeBufferPointer(start: base + path.lowerBound, count: path.count),
                         inherited)
            }
            o = Int(occurrenceNext[o])
        }
        return true
    }

    /// The (key, val) pairs of a `TStringMap` field as strings (allocates: for labels, which are
    /// few and opt-in), every occurrence in order. nil when the field is absent.
    public func stringMap(_ slot: Int) throws(PortoError) -> [(String, String)]? {
        guard generation[slot] == current, let base else { return nil }
        precondition(layout.kinds[slot] == .lengthDelimited, "slot \(slot) is not length-delimited")
        var out: [(String, String)] = []
        var o = Int(first[slot])
        while o >= 0 {
            var map = WireCursor(base, Int(occurrenceStart[o])..<Int(occurrenceEnd[o]))
            while let field = try map.next() {
                guard field.number == 1, field.wireType == 2 else { continue }
                var key: Range<Int> = 0..<0
                var val: Range<Int> = 0..<0
                var entry = WireCursor(base, field.range)
                while let f = try entry.next() {
                    if f.number == 1, f.wireType == 2 { key = f.range } else if f.number == 2, f.wireType == 2 { val = f.range }
                }
                let k = UnsafeBufferPointer(start: base + key.lowerBound, count: key.count)
                let v = UnsafeBufferPointer(start: base + val.lowerBound, count: val.count)
                guard UTF8Check.isValid(k), UTF8Check.isValid(v) else { throw .decode("invalid UTF-8 in a string map at offset \(key.lowerBound)") }
                out.append((String(decoding: k, as: UTF8.self), String(decoding: v, as: UTF8.self)))
            }
            o = Int(occurrenceNext[o])
        }
        return out
    }
}

/// ``WireReader`` over a pointer: the same walk (and the same errors) without an array to retain
/// or bounds checks per byte; for the hot path. The pointer must be valid over `range`.
struct WireCursor {
    struct Field {
        var number: Int
        var wireType: UInt8
        /// The varint, or fixed64/fixed32 bits.
        var value: UInt64
        /// A length-delimited field's payload.
        var range: Range<Int>
    }

    let base: UnsafePointer<UInt8>
    var offset: Int
    let end: Int

    @inline(__always)
    init(_ base: UnsafePointer<UInt8>, _ range: Range<Int>) {
        self.base = base
        self.offset = range.lowerBound
        self.end = range.upperBound
    }

    @inline(__always)
    mutating func next() throws(PortoError) -> Field? {
        guard offset < end else { return nil }
        let key = try readVarint()
        let number = key >> 3
        guard number >= 1, number <= 0x1FFF_FFFF else { throw Self.badNumber(number, offset) }
        switch key & 7 {
        case 0:
            return Field(number: Int(number), wireType: 0, value: try readVarint(), range: 0..<0)
        case 2:
            let length = try readVarint()
            guard length <= UInt64(end - offset) else { throw Self.pastTheEnd(number, length, end - offset) }
            let start = offset
            offset += Int(length)
            return Field(number: Int(number), wireType: 2, value: 0, range: start..<offset)
        case 1:
            guard end - offset >= 8 else { throw Self.truncated("fixed64", number) }
            let v = UnsafeRawPointer(base + offset).loadUnaligned(as: UInt64.self)
            offset += 8
            return Field(number: Int(number), wireType: 1, value: UInt64(littleEndian: v), range: 0..<0)
        case 5:
            guard end - offset >= 4 else { throw Self.truncated("fixed32", number) }
            let v = UnsafeRawPointer(base + offset).loadUnaligned(as: UInt32.self)
            offset += 4
            return Field(number: Int(number), wireType: 5, value: UInt64(UInt32(littleEndian: v)), range: 0..<0)
        default:
            return try rareField(number, wireType: UInt8(key & 7))
        }
    }

    // Errors and groups off the hot path, so that `next()` stays small enough to inline.
    @inline(never)
    private mutating func rareField(_ number: UInt64, wireType: UInt8) throws(PortoError) -> Field? {
        switch wireType {
        case 3:
            try skipGroup(Int(number), depth: 0)
            return Field(number: Int(number), wireType: 3, value: 0, range: 0..<0)
        case 4:
            throw .decode("end of group \(number) without its start")
        default:
            throw .decode("field \(number): unknown wire type \(wireType)")
        }
    }

    @inline(never)
    private static func badNumber(_ number: UInt64, _ offset: Int) -> PortoError { .decode("field number \(number) at offset \(offset)") }

    @inline(never)
    private static func pastTheEnd(_ number: UInt64, _ length: UInt64, _ left: Int) -> PortoError {
        .decode("field \(number): length \(length) past the end of the message (\(left) bytes left)")
    }

    @inline(never)
    private static func truncated(_ what: String, _ number: UInt64) -> PortoError { .decode("truncated \(what) field \(number)") }

    /// Skips a group's fields up to its end (as ``WireReader`` does: nested at most
    /// ``WireReader/maxGroupDepth`` deep, closed by the same number).
    private mutating func skipGroup(_ number: Int, depth: Int) throws(PortoError) {
        guard depth < WireReader.maxGroupDepth else { throw .decode("groups nested too deep") }
        while true {
            guard offset < end else { throw .decode("group \(number) not closed") }
            let key = try readVarint()
            let inner = key >> 3
            guard inner >= 1, inner <= 0x1FFF_FFFF else { throw .decode("field number \(inner) in group \(number)") }
            switch key & 7 {
            case 0: _ = try readVarint()
            case 1:
                guard end - offset >= 8 else { throw .decode("truncated fixed64 field \(inner)") }
                offset += 8
            case 5:
                guard end - offset >= 4 else { throw .decode("truncated fixed32 field \(inner)") }
                offset += 4
            case 2:
                let length = try readVarint()
                guard length <= UInt64(end - offset) else { throw .decode("field \(inner): length \(length) past the end of the message") }
                offset += Int(length)
            case 3: try skipGroup(Int(inner), depth: depth + 1)
            case 4:
                guard inner == UInt64(number) else { throw .decode("group \(number) closed as \(inner)") }
                return
            default: throw .decode("field \(inner): unknown wire type \(key & 7)")
            }
        }
    }

    @inline(__always)
    private mutating func readVarint() throws(PortoError) -> UInt64 {
        if offset < end {
            let byte = base[offset]
            if byte < 0x80 { offset += 1; return UInt64(byte) }
        }
        return try readLongVarint()
    }

    @inline(never)
    private mutating func readLongVarint() throws(PortoError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < end else { throw .decode("truncated varint at offset \(offset)") }
            let byte = base[offset]
            offset += 1
            // As SwiftProtobuf: a tenth byte's bits beyond 64 are dropped, an eleventh is an error.
            value |= UInt64(byte & 0x7F) &<< shift
            if byte & 0x80 == 0 { return value }
            shift += 7
            if shift > 63 { throw .decode("varint longer than 10 bytes") }
        }
    }
}

/// UTF-8 validation over bytes in place, as `String(validating:as:)` decides it.
public enum UTF8Check {
    public static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        let n = bytes.count
        // ASCII (names, paths, numbers) eight bytes at a time.
        if let base = bytes.baseAddress {
            let raw = UnsafeRawPointer(base)
            while i + 8 <= n, raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 { i += 8 }
        }
        while i < n {
            let b0 = bytes[i]
            if b0 < 0x80 { i += 1; continue }
            if b0 < 0xC2 { return false }
            if b0 < 0xE0 {
                guard i + 1 < n, bytes[i + 1] & 0xC0 == 0x80 else { return false }
                i += 2
            } else if b0 < 0xF0 {
                guard i + 2 < n else { return false }
                let b1 = bytes[i + 1], b2 = bytes[i + 2]
                guard b1 & 0xC0 == 0x80, b2 & 0xC0 == 0x80 else { return false }
                if b0 == 0xE0, b1 < 0xA0 { return false }  // overlong
                if b0 == 0xED, b1 >= 0xA0 { return false }  // surrogate
                i += 3
            } else if b0 < 0xF5 {
                guard i + 3 < n else { return false }
                let b1 = bytes[i + 1], b2 = bytes[i + 2], b3 = bytes[i + 3]
                guard b1 & 0xC0 == 0x80, b2 & 0xC0 == 0x80, b3 & 0xC0 == 0x80 else { return false }
                if b0 == 0xF0, b1 < 0x90 { return false }  // overlong
                if b0 == 0xF4, b1 >= 0x90 { return false }  // above U+10FFFF
                i += 4
            } else {
                return false
            }
        }
        return true
    }
}
