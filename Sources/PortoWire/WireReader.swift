/// Walks the fields of one protobuf message in the binary wire format, without decoding them: for
/// reading a large answer piece by piece (for example one `TContainer` of a ListContainersBy
/// answer at a time) instead of decoding all of it into messages at once.
///
/// ```swift
/// var reader = WireReader(body)                       // a TPortoResponse's bytes
/// while let field = try reader.next() {
///     if field.number == 232, case .bytes(let range) = field.value {   // ListContainersBy
///         var list = WireReader(body, range)
///         while let container = try list.next() { ... }                 // field 1: TContainer
///     }
/// }
/// ```
/// Malformed input (a truncated or over-long varint, a length past the end, field number 0, an
/// unknown wire type, an unbalanced group) throws ``PortoError/decode(_:)``; nothing traps.
/// Groups (wire types 3 and 4, obsolete) are skipped whole, as a decoder skips an unknown field.
public struct WireReader: Sendable {
    /// The value of one field.
    public enum Value: Sendable, Equatable {
        case varint(UInt64)
        case fixed64(UInt64)
        case fixed32(UInt32)
        /// A length-delimited field (message, string, bytes, packed): where its payload is.
        case bytes(Range<Int>)
        /// A group, skipped: where its fields are.
        case group(Range<Int>)
    }

    public struct Field: Sendable, Equatable {
        public let number: Int
        public let value: Value
    }

    /// Groups nest at most this deep (SwiftProtobuf's default recursion limit).
    public static let maxGroupDepth = 100

    public let bytes: [UInt8]
    public private(set) var offset: Int
    public let end: Int

    /// A reader of the fields in `bytes[range]` (default: all of `bytes`).
    public init(_ bytes: [UInt8], _ range: Range<Int>? = nil) {
        let range = range ?? 0..<bytes.count
        precondition(range.lowerBound >= 0 && range.upperBound <= bytes.count, "range out of bounds")
        self.bytes = bytes
        self.offset = range.lowerBound
        self.end = range.upperBound
    }

    /// The next field, or nil at the end of the message.
    public mutating func next() throws(PortoError) -> Field? {
        guard offset < end else { return nil }
        let key = try readVarint()
        let number = key >> 3
        guard number >= 1, number <= 0x1FFF_FFFF else { throw .decode("field number \(number) at offset \(offset)") }
        let value = try readValue(wireType: UInt8(key & 7), number: Int(number), depth: 0)
        return Field(number: Int(number), value: value)
    }

    /// The string of a length-delimited field, validated as UTF-8 (as a decoder does).
    /// Checked by ``UTF8Check`` and made from the bytes in place: `String(validating:as:)` on an
    /// array slice is generic, and looked its types up per call (a thousand instructions a name).
    public func string(_ range: Range<Int>) throws(PortoError) -> String {
        let s: String? = bytes.withUnsafeBufferPointer { buffer in
            let utf8 = UnsafeBufferPointer(rebasing: buffer[range])
            return UTF8Check.isValid(utf8) ? String(decoding: utf8, as: UTF8.self) : nil
        }
        guard let s else { throw .decode("invalid UTF-8 in a string field at offset \(range.lowerBound)") }
        return s
    }

    // MARK: - Internals

    private mutating func readValue(wireType: UInt8, number: Int, depth: Int) throws(PortoError) -> Value {
        switch wireType {
        case 0:
            return .varint(try readVarint())
        case 1:
            guard end - offset >= 8 else { throw .decode("truncated fixed64 field \(number)") }
            var v: UInt64 = 0
            for i in 0..<8 { v |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
            offset += 8
            return .fixed64(v)
        case 5:
            guard end - offset >= 4 else { throw .decode("truncated fixed32 field \(number)") }
            var v: UInt32 = 0
            for i in 0..<4 { v |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
            offset += 4
            return .fixed32(v)
        case 2:
            let length = try readVarint()
            guard length <= UInt64(end - offset) else {
                throw .decode("field \(number): length \(length) past the end of the message (\(end - offset) bytes left)")
            }
            let start = offset
            offset += Int(length)
            return .bytes(start..<offset)
        case 3:
            guard depth < Self.maxGroupDepth else { throw .decode("groups nested too deep") }
            let start = offset
            while true {
                guard offset < end else { throw .decode("group \(number) not closed") }
                let fieldStart = offset
                let key = try readVarint()
                let inner = key >> 3
                guard inner >= 1, inner <= 0x1FFF_FFFF else { throw .decode("field number \(inner) in group \(number)") }
                if key & 7 == 4 {
                    guard inner == UInt64(number) else { throw .decode("group \(number) closed as \(inner)") }
                    return .group(start..<fieldStart)
                }
                _ = try readValue(wireType: UInt8(key & 7), number: Int(inner), depth: depth + 1)
            }
        case 4:
            throw .decode("end of group \(number) without its start")
        default:
            throw .decode("field \(number): unknown wire type \(wireType)")
        }
    }

    private mutating func readVarint() throws(PortoError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < end else { throw .decode("truncated varint at offset \(offset)") }
            let byte = bytes[offset]
            offset += 1
            // As SwiftProtobuf: a tenth byte's bits beyond 64 are dropped, an eleventh is an error.
            value |= UInt64(byte & 0x7F) &<< shift
            if byte & 0x80 == 0 { return value }
            shift += 7
            if shift > 63 { throw .decode("varint longer than 10 bytes") }
        }
    }
}

/// The envelope of an encoded `TPortoResponse` (docs/porto.md §1.2), read without decoding the rest.
public struct ResponseEnvelope: Sendable, Equatable {
    /// `error`, nil when the field is missing (or holds a value this schema does not know, which a
    /// proto2 decoder keeps as an unknown field): the caller takes that as `LostError`.
    public var error: Porto_EError?
    public var errorMessage: String
    /// Whether the response carries an `AsyncWait` push (docs/porto.md §1.4) rather than a reply.
    public var isAsyncWait: Bool

    public init(error: Porto_EError?, errorMessage: String, isAsyncWait: Bool) {
        self.error = error
        self.errorMessage = errorMessage
        self.isAsyncWait = isAsyncWait
    }

    /// Reads the envelope of the TPortoResponse in `bytes`. Every top-level field is walked, so
    /// bytes that are not a well-formed message throw ``PortoError/decode(_:)``. As in a decoder,
    /// a field with an unexpected wire type is skipped (an unknown field).
    public init(_ bytes: [UInt8]) throws(PortoError) {
        error = nil
        errorMessage = ""
        isAsyncWait = false
        var reader = WireReader(bytes)
        while let field = try reader.next() {
            switch (field.number, field.value) {
            case (1, .varint(let v)):
                // A later occurrence wins; an unknown value leaves the field as it was.
                if let code = Porto_EError(rawValue: Int(Int32(truncatingIfNeeded: v))) { error = code }
            case (2, .bytes(let range)):
                errorMessage = try reader.string(range)
            case (19, .bytes):
                isAsyncWait = true
            default:
                break
            }
        }
    }

    /// Throws what ``PortoClient/call(_:timeout:)`` throws for this envelope: `.porto(.lostError)`
    /// without an `error` field, `.porto(code, message:)` when it is not `Success`.
    public func check(method: String) throws(PortoError) {
        guard let error else { throw .porto(.lostError, message: "\(method) response has no error field") }
        guard error == .success else { throw .porto(error, message: errorMessage) }
    }
}
