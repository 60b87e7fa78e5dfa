import PortoWire

/// Where a property goes in a `TContainer`: spec or status, the field number, and how its value
/// is encoded.
struct SimField: Equatable {
    enum Message: Int, Comparable {
        case spec = 0, status = 1
        static func < (a: Message, b: Message) -> Bool { a.rawValue < b.rawValue }
    }

    /// How ``SimLCBEncoder`` writes the value; each kind takes the same ``SimValue`` cases as
    /// the matching `SimProperty` fill helper and ignores the others, as the fill does.
    enum Kind: Equatable {
        /// `uint64`: `.uint`, and `.time` when `acceptsTime`.
        case uint64(acceptsTime: Bool)
        /// `uint32` from `.uint`, truncated.
        case uint32
        /// `int32` from `.int`, truncated.
        case int32
        /// `int64` from `.int`.
        case int64
        case bool
        case string
        /// `double` from `.cores`.
        case double
        /// `TUintMap` from `.uintMap`.
        case uintMap
        /// `TStringMap` from `.labels`, encoded once per container (``SimLabelSet/encoded``).
        case labels
        /// `TContainerCgroups` from `.cgroups`, encoded once per container (``SimCgroupSet/encoded``).
        case cgroups
        /// Anything else: the fill runs on a scratch message that is then encoded (string-like
        /// values are encoded once per request and reused).
        case custom
    }

    let message: Message
    let number: Int
    let kind: Kind

    init(_ message: Message, _ number: Int, _ kind: Kind) {
        self.message = message
        self.number = number
        self.kind = kind
    }

    /// The number of the field `kp` sets: a message with only that field set is encoded and the
    /// key of its first (only) field read back. Porto's schema is proto2, so a set field is
    /// encoded whatever its value.
    static func number<V>(status kp: WritableKeyPath<Porto_TContainerStatus, V>, _ probe: V) -> Int {
        var message = Porto_TContainerStatus()
        message[keyPath: kp] = probe
        return firstFieldNumber((try? message.serializedBytes(partial: true)) ?? [])
    }

    static func number<V>(spec kp: WritableKeyPath<Porto_TContainerSpec, V>, _ probe: V) -> Int {
        var message = Porto_TContainerSpec()
        message[keyPath: kp] = probe
        return firstFieldNumber((try? message.serializedBytes(partial: true)) ?? [])
    }

    static func firstFieldNumber(_ bytes: [UInt8]) -> Int {
        var key: UInt64 = 0
        var shift: UInt64 = 0
        for byte in bytes {
            key |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        precondition(!bytes.isEmpty, "probe encoded nothing")
        return Int(key >> 3)
    }
}

/// Protobuf's wire format, written by hand for the few shapes a ListContainersBy answer has.
enum SimProtoWriter {
    static let varintType: UInt64 = 0
    static let fixed64Type: UInt64 = 1
    static let lengthType: UInt64 = 2

    @inline(__always)
    static func varintLength(_ value: UInt64) -> Int {
        value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
    }

    @inline(__always)
    static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(truncatingIfNeeded: v))
    }

    @inline(__always)
    static func appendKey(_ number: Int, _ wireType: UInt64, to out: inout [UInt8]) {
        appendVarint(UInt64(number) << 3 | wireType, to: &out)
    }

    static func appendBytes<C: Collection>(_ number: Int, _ bytes: C, to out: inout [UInt8]) where C.Element == UInt8 {
        appendKey(number, lengthType, to: &out)
        appendVarint(UInt64(bytes.count), to: &out)
        out.append(contentsOf: bytes)
    }

    static func appendString(_ number: Int, _ text: String, to out: inout [UInt8]) {
        appendBytes(number, text.utf8, to: &out)
    }

    /// A `TUintMap` (repeated `TUintMapEntry{key = 1, val = 2}` as field 1) as field `number`.
    static func appendUintMap(_ number: Int, _ entries: [(String, UInt64)], to out: inout [UInt8]) {
        var length = 0
        for (key, value) in entries {
            let entry = entryLength(key, value)
            length += 1 + varintLength(UInt64(entry)) + entry
        }
        appendKey(number, lengthType, to: &out)
        appendVarint(UInt64(length), to: &out)
        for (key, value) in entries {
            out.append(0x0A)  // map = 1, length-delimited
            appendVarint(UInt64(entryLength(key, value)), to: &out)
            appendString(1, key, to: &out)
            appendKey(2, varintType, to: &out)
            appendVarint(value, to: &out)
        }
    }

    @inline(__always)
    private static func entryLength(_ key: String, _ value: UInt64) -> Int {
        let k = key.utf8.count
        return 1 + varintLength(UInt64(k)) + k + 1 + varintLength(value)
    }
}

/// Encodes a ListContainersBy answer straight to bytes, without building `TContainer` messages:
/// at 10,000 containers most of the cost of the message path was allocating SwiftProtobuf
/// storage. The bytes are exactly what SwiftProtobuf makes of ``SimHost/respond(to:)``'s
/// message (fields in number order, the same encodings); SimLCBEncoderTests compare them.
struct SimLCBEncoder {
    /// One field of a container, in the order it is written.
    private enum Slot {
        case name
        case property(SimProperty)
        case deadTime
        case errors
    }

    private let spec: [(number: Int, slot: Slot)]
    private let status: [(number: Int, slot: Slot)]
    /// The unknown-property errors, encoded once (the same on every container).
    private let errorBytes: [UInt8]
    private let wantsTime: Bool

    static let specName = SimField.number(spec: \.name, "")
    static let statusDeadTime = SimField.number(status: \.deadTime, 0)
    static let statusErrors = SimField.number(status: \.error, [Porto_TError()])

    init(properties: [SimProperty], unknown: [Porto_TError]) {
        // A field set twice keeps the last value, as on the message; fields go in number order.
        var byField: [Int: (Int, SimProperty)] = [:]
        for (order, property) in properties.enumerated() {
            guard let field = property.field else { continue }
            byField[field.message.rawValue << 32 | field.number] = (order, property)
        }
        var spec: [(number: Int, slot: Slot)] = [(Self.specName, .name)]
        var status: [(number: Int, slot: Slot)] = []
        for (_, property) in byField.values.sorted(by: { $0.0 < $1.0 }) {
            let field = property.field!
            if field.message == .spec {
                spec.append((field.number, .property(property)))
            } else {
                status.append((field.number, .property(property)))
            }
        }
        wantsTime = properties.contains { $0.name == "time" }
        if wantsTime { status.append((Self.statusDeadTime, .deadTime)) }
        if !unknown.isEmpty { status.append((Self.statusErrors, .errors)) }
        spec.sort { $0.number < $1.number }
        status.sort { $0.number < $1.number }
        self.spec = spec
        self.status = status
        var errors: [UInt8] = []
        for error in unknown {
            SimProtoWriter.appendBytes(Self.statusErrors, (try? error.serializedBytes(partial: true)) ?? [], to: &errors)
        }
        errorBytes = errors
    }

    /// Reusable buffers and the per-request memo of custom fields.
    struct Scratch {
        var spec: [UInt8] = []
        var status: [UInt8] = []
        /// Encoded custom fields of string-like values, by property and value.
        var memo: [String: [UInt8]] = [:]
    }

    /// Appends container `i` of `world` as `TListContainersResponse.containers` (field 1).
    func appendContainer(_ i: Int, world: SimWorld, scratch: inout Scratch, to out: inout [UInt8]) {
        let ctx = SimContext(world: world, i: i)
        var specBytes: [UInt8] = []
        var statusBytes: [UInt8] = []
        swap(&specBytes, &scratch.spec)
        swap(&statusBytes, &scratch.status)
        defer {
            swap(&specBytes, &scratch.spec)
            swap(&statusBytes, &scratch.status)
        }
        specBytes.removeAll(keepingCapacity: true)
        statusBytes.removeAll(keepingCapacity: true)
        for (number, slot) in spec {
            write(slot, number: number, ctx: ctx, memo: &scratch.memo, to: &specBytes)
        }
        for (number, slot) in status {
            write(slot, number: number, ctx: ctx, memo: &scratch.memo, to: &statusBytes)
        }
        var length = 1 + SimProtoWriter.varintLength(UInt64(specBytes.count)) + specBytes.count
        if !statusBytes.isEmpty {
            length += 1 + SimProtoWriter.varintLength(UInt64(statusBytes.count)) + statusBytes.count
        }
        out.append(0x0A)  // containers = 1
        SimProtoWriter.appendVarint(UInt64(length), to: &out)
        SimProtoWriter.appendBytes(1, specBytes, to: &out)  // spec = 1
        if !statusBytes.isEmpty { SimProtoWriter.appendBytes(2, statusBytes, to: &out) }  // status = 2
    }

    private func write(_ slot: Slot, number: Int, ctx: SimContext, memo: inout [String: [UInt8]], to out: inout [UInt8]) {
        switch slot {
        case .name:
            SimProtoWriter.appendString(number, ctx.c.name, to: &out)
        case .deadTime:
            if ctx.c.state == .dead, let death = ctx.c.deathTime {
                SimProtoWriter.appendKey(number, SimProtoWriter.varintType, to: &out)
                SimProtoWriter.appendVarint(ctx.now - death, to: &out)
            }
        case .errors:
            out.append(contentsOf: errorBytes)
        case .property(let property):
            guard let value = property.lcbValue(ctx) else { return }
            Self.write(value, property: property, field: property.field!, memo: &memo, to: &out)
        }
    }

    private static func write(_ value: SimValue, property: SimProperty, field: SimField, memo: inout [String: [UInt8]], to out: inout [UInt8]) {
        let n = field.number
        switch (field.kind, value) {
        case (.uint64, .uint(let x)), (.uint64(acceptsTime: true), .time(let x)):
            SimProtoWriter.appendKey(n, SimProtoWriter.varintType, to: &out)
            SimProtoWriter.appendVarint(x, to: &out)
        case (.uint32, .uint(let x)):
            SimProtoWriter.appendKey(n, SimProtoWriter.varintType, to: &out)
            SimProtoWriter.appendVarint(UInt64(UInt32(truncatingIfNeeded: x)), to: &out)
        case (.int32, .int(let x)):
            SimProtoWriter.appendKey(n, SimProtoWriter.varintType, to: &out)
            SimProtoWriter.appendVarint(UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: x))), to: &out)
        case (.int64, .int(let x)):
            SimProtoWriter.appendKey(n, SimProtoWriter.varintType, to: &out)
            SimProtoWriter.appendVarint(UInt64(bitPattern: x), to: &out)
        case (.bool, .bool(let x)):
            SimProtoWriter.appendKey(n, SimProtoWriter.varintType, to: &out)
            out.append(x ? 1 : 0)
        case (.string, .string(let x)):
            SimProtoWriter.appendString(n, x, to: &out)
        case (.double, .cores(let x)):
            SimProtoWriter.appendKey(n, SimProtoWriter.fixed64Type, to: &out)
            withUnsafeBytes(of: x.bitPattern.littleEndian) { out.append(contentsOf: $0) }
        case (.uintMap, .uintMap(let entries)):
            SimProtoWriter.appendUintMap(n, entries, to: &out)
        case (.labels, .labels(let set)):
            SimProtoWriter.appendBytes(n, set.encoded, to: &out)
        case (.cgroups, .cgroups(let set)):
            SimProtoWriter.appendBytes(n, set.encoded, to: &out)
        case (.custom, _):
            let key: String?
            switch value {
            case .string(let x): key = property.name + "\u{0}" + x
            case .bool, .controllers: key = property.name + "\u{0}" + value.legacy
            default: key = nil
            }
            if let key, let bytes = memo[key] {
                out.append(contentsOf: bytes)
                return
            }
            var b = SimLCBBuilder()
            property.fill!(&b, value)
            let bytes: [UInt8] = field.message == .spec
                ? (try? b.spec.serializedBytes(partial: true)) ?? []
                : (try? b.status.serializedBytes(partial: true)) ?? []
            if let key { memo[key] = bytes }
            out.append(contentsOf: bytes)
        default:
            break  // a value the fill ignores
        }
    }
}
