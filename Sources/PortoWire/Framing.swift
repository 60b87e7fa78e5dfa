/// Porto's framing: every message, in either direction, is a base-128 varint32 length followed by
/// exactly that many bytes of serialized protobuf (docs/porto.md §1.2). There is no other header.
///
/// These are pure functions over bytes, shared by the client (``PortoClient``) and the simulated
/// portod, so that both ends agree on every edge of the format.
public enum Framing {
    /// The largest frame either side accepts: portod's default `daemon.max_msg_len`, 32 MiB.
    public static let maxFrameLength = 32 << 20

    /// The most bytes a varint32 can take.
    public static let maxVarintLength = 5

    /// Why a length prefix was refused.
    public enum FrameError: Error, Equatable, Sendable, CustomStringConvertible {
        /// The prefix does not end within five bytes, or its fifth byte sets bits above 2^32.
        case malformedVarint
        /// The prefix announces more than ``Framing/maxFrameLength`` bytes; the body is not read.
        case frameTooLarge(length: UInt64, limit: Int)

        public var description: String {
            switch self {
            case .malformedVarint:
                return "malformed varint32 length prefix"
            case .frameTooLarge(let length, let limit):
                return "frame of \(length) bytes exceeds the \(limit)-byte limit"
            }
        }
    }

    /// The result of looking at the start of a buffer for a length prefix.
    public enum Prefix: Equatable, Sendable {
        /// More bytes are needed before the prefix can be decoded.
        case incomplete
        /// A complete prefix: the body is `length` bytes long and starts `prefixLength` bytes in.
        case complete(length: Int, prefixLength: Int)
    }

    /// Appends the varint32 encoding of `value` to `buffer`.
    public static func appendVarint(_ value: UInt32, to buffer: inout [UInt8]) {
        appendVarint64(UInt64(value), to: &buffer)
    }

    /// Appends the varint encoding of `value` to `buffer`.
    @inlinable
    public static func appendVarint64(_ value: UInt64, to buffer: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            buffer.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        buffer.append(UInt8(v))
    }

    /// Returns `body` with its varint32 length prefix in front.
    ///
    /// - Throws: ``FrameError/frameTooLarge(length:limit:)`` when `body` is larger than `limit`.
    public static func frame(_ body: [UInt8], limit: Int = maxFrameLength) throws(FrameError) -> [UInt8] {
        guard body.count <= limit else {
            throw .frameTooLarge(length: UInt64(body.count), limit: limit)
        }
        var out: [UInt8] = []
        out.reserveCapacity(body.count + maxVarintLength)
        appendVarint(UInt32(body.count), to: &out)
        out.append(contentsOf: body)
        return out
    }

    /// Decodes a length prefix at the start of `bytes` without looking past it.
    ///
    /// - Returns: ``Prefix/incomplete`` when `bytes` ends inside the prefix.
    /// - Throws: ``FrameError/malformedVarint`` for a prefix longer than five bytes or one that does not
    ///   fit in 32 bits; ``FrameError/frameTooLarge(length:limit:)`` when the length is over `limit`.
    public static func decodePrefix<C: Collection>(
        _ bytes: C, limit: Int = maxFrameLength
    ) throws(FrameError) -> Prefix where C.Element == UInt8 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        var count = 0
        for byte in bytes {
            count += 1
            if count == maxVarintLength && byte > 0x0F {
                // The fifth byte may carry only the top four bits of a 32-bit value.
                throw .malformedVarint
            }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 {
                guard value <= UInt64(limit) else {
                    throw .frameTooLarge(length: value, limit: limit)
                }
                return .complete(length: Int(value), prefixLength: count)
            }
            shift += 7
        }
        return .incomplete
    }
}
