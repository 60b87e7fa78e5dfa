import Testing
@testable import PortoWire

/// Pages a reader has passed are given back (they read as zeros afterwards); nothing at or after
/// the offset reported changes.
@Suite struct ReadBytesTests {
    @Test func passedPagesAreGivenBackAndTheRestIsKept() {
        let count = 3 * 1024 * 1024 + 123
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 16)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0xAB)
        var read = ReadBytes(buffer)

        read.passed(ReadBytes.batch - 1)   // less than a batch: nothing yet
        #expect(read.released == 0)
        #expect(buffer.allSatisfy { $0 == 0xAB })

        for offset in [ReadBytes.batch + 4097, 2 * 1024 * 1024 + 5, count] {
            read.passed(offset)
            #expect(read.released <= offset && read.released > offset - ReadBytes.batch - 8192, "offset \(offset)")
            #expect(buffer[offset...].allSatisfy { $0 == 0xAB }, "nothing at or after \(offset) changes")
            // Whole pages below the offset were given back; the first partial page was kept.
            #expect(buffer[read.released - 4096..<read.released].allSatisfy { $0 == 0 })
            #expect(buffer[0] == 0xAB)
        }
    }

    @Test func anEmptyBufferGivesNothingBack() {
        var read = ReadBytes(UnsafeMutableRawBufferPointer(start: nil, count: 0))
        read.passed(10 * ReadBytes.batch)
        #expect(read.released == 0)
    }
}
