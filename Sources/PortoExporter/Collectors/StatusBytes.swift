import PortoWire

/// The bytes of a `TContainer` holding only status fields (uint64s and `TUintMap`s), written
/// straight from values read after the ListContainersBy pass (memory.stat, the slower groups'
/// `Get`) for ``ContainersCollector/writeLater(_:_:into:)``: what ``ContainerReader`` reads of
/// them is what it reads of the same `TContainer` serialised by SwiftProtobuf (StatusBytesTests),
/// without building and serialising a message per container (that was a third of a scrape).
struct StatusBytes {
    private(set) var status: [UInt8] = []
    private var entry: [UInt8] = []

    /// A uint64 field.
    mutating func uint(_ number: Int, _ value: UInt64) {
        Framing.appendVarint64(UInt64(number) << 3, to: &status)
        Framing.appendVarint64(value, to: &status)
    }

    /// A `TUintMap` field (`map` (1) entries of `key` (1) and `val` (2)), its keys in `text`.
    mutating func uintMap(_ number: Int, _ text: UnsafeBufferPointer<UInt8>, _ entries: [(key: Range<Int>, value: UInt64)]) {
        var length = 0
        for e in entries {
            let size = Self.entrySize(e.key.count, e.value)
            length += 1 + Self.varintSize(UInt64(size)) + size
        }
        Framing.appendVarint64(UInt64(number) << 3 | 2, to: &status)
        Framing.appendVarint64(UInt64(length), to: &status)
        for e in entries {
            status.append(0x0A)
            Framing.appendVarint64(UInt64(Self.entrySize(e.key.count, e.value)), to: &status)
            status.append(0x0A)
            Framing.appendVarint64(UInt64(e.key.count), to: &status)
            status.append(contentsOf: UnsafeBufferPointer(rebasing: text[e.key]))
            status.append(0x10)
            Framing.appendVarint64(e.value, to: &status)
        }
    }

    /// The `TContainer`: its `status` (2) holding the fields.
    var container: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(status.count + 6)
        out.append(0x12)
        Framing.appendVarint64(UInt64(status.count), to: &out)
        out.append(contentsOf: status)
        return out
    }

    private static func entrySize(_ keyCount: Int, _ value: UInt64) -> Int {
        1 + varintSize(UInt64(keyCount)) + keyCount + 1 + varintSize(value)
    }

    private static func varintSize(_ v: UInt64) -> Int {
        var n = 1
        var v = v >> 7
        while v != 0 { n += 1; v >>= 7 }
        return n
    }
}
