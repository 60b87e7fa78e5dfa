import Testing
@testable import PortoExporter

/// The compressor on its own: one standard gzip member whatever the sizes of its input chunks and
/// output buffers, read back by a decoder other than ISA-L (zlib; curl in HTTPNegotiationTests).
@Suite struct GzipTests {
    static let body = Array((0..<60_000).map { "porto_container_cpu_usage_seconds_total{name=\"c\($0 % 977)\"} \($0 * 7919 % 100_003)\n" }.joined().utf8)

    /// Compresses `input` handed over in chunks of the sizes in `pieces` (cycled, 0 = an empty
    /// chunk), reading `max` bytes of output at a time. Every read but the last must give bytes.
    static func deflate(_ input: [UInt8], pieces: [Int], max: Int, level: Int32 = Gzip.defaultLevel) throws -> [UInt8] {
        let deflater = try #require(Gzip.Deflater(level: level))
        var output: [UInt8] = []
        var block = [UInt8](repeating: 0, count: max)
        var offset = 0, piece = 0
        var chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 0, alignment: 1)
        defer { chunk.deallocate() }
        while true {
            let n = try #require(block.withUnsafeMutableBytes { target in
                deflater.read(into: target.baseAddress!, max: max) { () -> UnsafeRawBufferPointer? in
                    // The previous chunk need only stay valid until this pull: it is overwritten
                    // and freed, so a compressor still reading it would give a different body.
                    for i in chunk.indices { chunk[i] = 0xAA }
                    chunk.deallocate()
                    let size = Swift.min(pieces[piece % pieces.count], input.count - offset)
                    chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 1)
                    if offset == input.count { return nil }
                    piece += 1
                    chunk.copyBytes(from: input[offset..<offset + size])
                    offset += size
                    return UnsafeRawBufferPointer(chunk)
                }
            })
            #expect(n <= max)
            if n == 0 { break }
            output += block[0..<n]
        }
        #expect(try #require(block.withUnsafeMutableBytes { deflater.read(into: $0.baseAddress!, max: max) { nil } }) == 0,
                "a complete member stays complete")
        return output
    }

    @Test(arguments: [1, 2, 7, 100, 4096, 32 * 1024])
    func fullOutputBuffersLoseNothing(max: Int) throws {
        let input = max < 100 ? Array(Self.body.prefix(200_000)) : Self.body
        let compressed = try Self.deflate(input, pieces: [1, 0, 5000, 65_536, 3, 200_000], max: max)
        #expect(compressed.prefix(3) == [0x1f, 0x8b, 8], "gzip magic, deflate")
        #expect(compressed.count < input.count / 4)
        #expect(Gzip.decompress(compressed) == input)
    }

    @Test func oneMemberAndTheDecoderRefusesMore() throws {
        let compressed = try #require(Gzip.compress(Self.body))
        #expect(Gzip.decompress(compressed) == Self.body)
        #expect(Gzip.decompress(compressed + compressed) == nil, "the test decoder accepts exactly one member")
        #expect(Gzip.decompress(Array(compressed.dropLast())) == nil)
        #expect(Gzip.decompress([0x1f, 0x8b, 1, 2, 3]) == nil)
    }

    @Test func emptyInputsGiveAnEmptyMember() throws {
        #expect(Gzip.compress([]).flatMap(Gzip.decompress) == [])
        #expect(try Gzip.decompress(Self.deflate([], pieces: [0], max: 1)) == [])
        #expect(try Gzip.decompress(Self.deflate(Array("x".utf8), pieces: [0, 0, 1], max: 3)) == Array("x".utf8))
    }

    @Test func everyLevelOfISALAndNoOther() throws {
        for level: Int32 in 0...3 {
            #expect(try Gzip.decompress(Self.deflate(Self.body, pieces: [32 * 1024], max: 32 * 1024, level: level)) == Self.body)
        }
        #expect(Gzip.Deflater(level: 4) == nil)
        #expect(Gzip.Deflater(level: -1) == nil)
        #expect(Gzip.compress(Self.body, level: 6) == nil)
    }
}
