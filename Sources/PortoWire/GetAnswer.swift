/// A `Get` answer kept as the bytes portod sent (``PortoClient/callRaw(_:timeout:)``), its values
/// read in place: the memory.stat Get of 1,000 containers is about a megabyte of text, which
/// decoding would copy into a `String` and a message per container before any is read (the
/// process's peak memory is while it is read).
///
/// ``entries`` are the containers in portod's order, each with its name. The values are what
/// decoding the answer gives (FuzzFraming checks it against SwiftProtobuf): the lists of `get`
/// (10) occurrences concatenate; a later `name`, `variable`, `error` or `value` wins, an `error`
/// code that is no `EError` is an unknown field; a field with an unexpected wire type is skipped.
/// Names and the values handed out are validated as UTF-8; other fields are only walked over.
public struct GetAnswer: Sendable {
    public struct Entry: Sendable {
        /// `name` ("" when absent).
        public let name: String
        /// The `TContainerGetListResponse` message's bytes in ``GetAnswer/bytes``.
        public let range: Range<Int>
    }

    /// One `keyval` of a container.
    public struct Value: Sendable, Equatable {
        /// `variable`'s bytes in ``GetAnswer/bytes`` (nil when absent).
        public var variable: Range<Int>?
        /// `error`, when set.
        public var error: Porto_EError?
        /// `value`'s bytes in ``GetAnswer/bytes`` (nil when absent).
        public var value: Range<Int>?
    }

    /// The encoded TPortoResponse.
    public let bytes: [UInt8]
    public private(set) var entries: [Entry] = []

    /// Walks `bytes` (an encoded TPortoResponse; its envelope is not checked here).
    public init(_ bytes: [UInt8]) throws(PortoError) {
        self.bytes = bytes
        var top = WireReader(bytes)
        while let field = try top.next() {
            guard field.number == 10, case .bytes(let get) = field.value else { continue }
            var list = WireReader(bytes, get)
            while let item = try list.next() {
                guard item.number == 1, case .bytes(let range) = item.value else { continue }
                var name = ""
                var fields = WireReader(bytes, range)
                while let f = try fields.next() {
                    if f.number == 1, case .bytes(let r) = f.value { name = try fields.string(r) }
                }
                entries.append(Entry(name: name, range: range))
            }
        }
    }

    /// The `keyval`s of `entry`, in order.
    public func values(_ entry: Entry) throws(PortoError) -> [Value] {
        var out: [Value] = []
        try values(entry, into: &out)
        return out
    }

    /// ``values(_:)`` into `out` (emptied first, its capacity kept).
    public func values(_ entry: Entry, into out: inout [Value]) throws(PortoError) {
        out.removeAll(keepingCapacity: true)
        var fields = WireReader(bytes, entry.range)
        while let f = try fields.next() {
            guard f.number == 2, case .bytes(let r) = f.value else { continue }
            out.append(try value(r))
        }
    }

    /// The first `keyval` of `entry` whose variable is `variable` (what
    /// `keyval.first { $0.variable == variable }` gives a decoder), its value validated as UTF-8.
    public func value(of variable: [UInt8], in entry: Entry) throws(PortoError) -> Value? {
        var fields = WireReader(bytes, entry.range)
        while let f = try fields.next() {
            guard f.number == 2, case .bytes(let r) = f.value else { continue }
            let v = try value(r)
            guard bytes[v.variable ?? 0..<0].elementsEqual(variable) else { continue }
            if let range = v.value {
                let valid = bytes.withUnsafeBufferPointer { UTF8Check.isValid(UnsafeBufferPointer(rebasing: $0[range])) }
                guard valid else { throw .decode("invalid UTF-8 in a string field at offset \(range.lowerBound)") }
            }
            return v
        }
        return nil
    }

    private func value(_ range: Range<Int>) throws(PortoError) -> Value {
        var v = Value()
        var fields = WireReader(bytes, range)
        while let f = try fields.next() {
            switch (f.number, f.value) {
            case (1, .bytes(let r)): v.variable = r
            case (2, .varint(let code)):
                // As a decoder reads a proto2 enum: an unknown code is an unknown field.
                if let error = Porto_EError(rawValue: Int(Int32(truncatingIfNeeded: code))) { v.error = error }
            case (4, .bytes(let r)): v.value = r
            default: break
            }
        }
        return v
    }
}
