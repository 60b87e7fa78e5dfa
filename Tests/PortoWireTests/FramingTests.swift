import Testing
@testable import PortoWire

/// Framing at the varint32 edges (docs/porto.md §1.2: base-128 varint32 length, then the body).
@Suite struct FramingTests {
    static let edges: [(UInt32, [UInt8])] = [
        (0, [0x00]),
        (127, [0x7F]),
        (128, [0x80, 0x01]),
        (16383, [0xFF, 0x7F]),
        (16384, [0x80, 0x80, 0x01]),
        (2_097_151, [0xFF, 0xFF, 0x7F]),
        (2_097_152, [0x80, 0x80, 0x80, 0x01]),
        (UInt32.max, [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]),
    ]

    @Test(arguments: edges)
    func varintEncodingAndDecodingAtEdges(value: UInt32, encoded: [UInt8]) throws {
        var buffer: [UInt8] = []
        Framing.appendVarint(value, to: &buffer)
        #expect(buffer == encoded)
        let decoded = try Framing.decodePrefix(encoded, limit: Int.max)
        #expect(decoded == .complete(length: Int(value), prefixLength: encoded.count))
        // Every proper prefix of the encoding is incomplete, not an error.
        for cut in 0..<encoded.count {
            #expect(try Framing.decodePrefix(encoded[..<cut], limit: Int.max) == .incomplete)
        }
    }

    @Test(arguments: [0, 1, 127, 128, 16383, 16384, 70_000])
    func frameRoundTrip(size: Int) throws {
        let body = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let frame = try Framing.frame(body)
        guard case .complete(let length, let prefixLength) = try Framing.decodePrefix(frame) else {
            Issue.record("incomplete prefix for a whole frame")
            return
        }
        #expect(length == size)
        #expect(prefixLength == (size < 128 ? 1 : size < 16384 ? 2 : 3))
        #expect(Array(frame[prefixLength...]) == body)
    }

    @Test func limitIsThirtyTwoMebibytes() throws {
        #expect(Framing.maxFrameLength == 32 * 1024 * 1024)
        var exact: [UInt8] = []
        Framing.appendVarint(UInt32(Framing.maxFrameLength), to: &exact)
        #expect(try Framing.decodePrefix(exact) == .complete(length: Framing.maxFrameLength, prefixLength: 4))
        var over: [UInt8] = []
        Framing.appendVarint(UInt32(Framing.maxFrameLength + 1), to: &over)
        #expect(throws: Framing.FrameError.frameTooLarge(length: UInt64(Framing.maxFrameLength + 1),
                                                    limit: Framing.maxFrameLength)) {
            try Framing.decodePrefix(over)
        }
        // 2^32-1 is a valid varint32 but far over the default limit.
        #expect(throws: Framing.FrameError.frameTooLarge(length: UInt64(UInt32.max), limit: Framing.maxFrameLength)) {
            try Framing.decodePrefix([0xFF, 0xFF, 0xFF, 0xFF, 0x0F])
        }
        #expect(throws: Framing.FrameError.frameTooLarge(length: 11, limit: 10)) {
            try Framing.frame([UInt8](repeating: 0, count: 11), limit: 10)
        }
    }

    @Test(arguments: [
        [UInt8]([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),  // six bytes
        [0x80, 0x80, 0x80, 0x80, 0x80],                 // fifth byte still continues
        [0xFF, 0xFF, 0xFF, 0xFF, 0x10],                 // fifth byte sets bit 32
        [0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
    ])
    func malformedVarintsAreRejected(prefix: [UInt8]) {
        #expect(throws: Framing.FrameError.malformedVarint) {
            try Framing.decodePrefix(prefix, limit: Int.max)
        }
    }

    @Test func errorsDescribeThemselves() {
        #expect(Framing.FrameError.malformedVarint.description.contains("malformed"))
        #expect(Framing.FrameError.frameTooLarge(length: 40, limit: 32).description.contains("40"))
    }
}
