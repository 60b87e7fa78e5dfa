import Foundation
import Testing
@testable import PortoExporter

/// Dropping the pages of start-up: only mappings that hold exactly the file's bytes, and what is
/// read from them afterwards is what they held.
@Suite struct StartupPagesTests {
    static let smaps = """
        55d0c0000000-55d0c0300000 r--p 00000000 08:01 1234                       /usr/bin/porto-exporter
        Size:               3072 kB
        Rss:                 320 kB
        Anonymous:             0 kB
        VmFlags: rd mr mw me sd
        55d0c0300000-55d0c0f00000 r-xp 00300000 08:01 1234                       /usr/bin/porto-exporter
        Size:              12288 kB
        Anonymous:             0 kB
        VmFlags: rd ex mr mw me sd
        55d0c0f00000-55d0c0f6b000 r--p 00f00000 08:01 1234                       /usr/bin/porto-exporter
        Size:                428 kB
        Anonymous:           428 kB
        VmFlags: rd mr mw me ac sd
        55d0c0f6b000-55d0c1199000 rw-p 00f6b000 08:01 1234                       /usr/bin/porto-exporter
        Anonymous:             0 kB
        55d0c2000000-55d0c2100000 rw-p 00000000 00:00 0                          [heap]
        Anonymous:          1024 kB
        7f0000000000-7f0000021000 rw-p 00000000 00:00 0
        Anonymous:           132 kB
        7f0000100000-7f0000101000 ---p 00000000 00:00 0
        Anonymous:             0 kB
        7f0000200000-7f0000210000 r--s 00000000 08:01 99                         /var/cache/shared.db
        Anonymous:             0 kB
        7f0000300000-7f0000301000 ---p 00010000 08:01 77                         /usr/lib/x86_64-linux-gnu/libz.so.1
        Anonymous:             0 kB
        7f0000400000-7f0000490000 r-xp 00002000 08:01 77                         /usr/lib/x86_64-linux-gnu/libz.so.1
        Anonymous:             0 kB
        7ffd00000000-7ffd00002000 r-xp 00000000 00:00 0                          [vdso]
        Anonymous:             0 kB

        """

    @Test func onlyCleanReadOnlyPrivateFileMappingsAreDropped() {
        let ranges = StartupPages.droppable(smaps: Array(Self.smaps.utf8))
        #expect(ranges == [
            .init(start: 0x55d0_c000_0000, end: 0x55d0_c030_0000),   // the executable's read-only data
            .init(start: 0x55d0_c030_0000, end: 0x55d0_c0f0_0000),   // its code
            .init(start: 0x7f00_0040_0000, end: 0x7f00_0049_0000),   // a library's code
        ])
        // Left: relocated read-only data (pages of its own), writable data, the heap, anonymous
        // memory, guard pages, a shared mapping and the vDSO.
    }

    @Test func aMappingWithoutItsAnonymousLineIsNotDropped() {
        let text = """
            55d0c0000000-55d0c0300000 r-xp 00000000 08:01 1234                       /usr/bin/x
            Size:               3072 kB
            55d0c0300000-55d0c0400000 rw-p 00000000 00:00 0
            Anonymous:             0 kB

            """
        #expect(StartupPages.droppable(smaps: Array(text.utf8)).isEmpty)
    }

    /// In this process: the pages of this test binary's code (which no other test unmaps) come
    /// back with the file's bytes, and code keeps running.
    @Test func droppedPagesReadBackWhatTheyHeld() throws {
        let smaps = try Array(Data(contentsOf: URL(fileURLWithPath: "/proc/self/smaps")))
        let code: @convention(c) () -> Void = {}
        let address = unsafeBitCast(code, to: UInt.self)
        let ranges = StartupPages.droppable(smaps: smaps).filter { $0.start <= address && address < $0.end }
        try #require(ranges.count == 1, "the mapping holding this binary's code is droppable")
        let before = Self.checksum(ranges[0])
        #expect(StartupPages.release() > 0)
        #expect(Self.checksum(ranges[0]) == before)
        #expect([3, 1, 2].sorted() == [1, 2, 3])
    }

    /// A sum of every 64th byte of the mapping's first megabyte.
    static func checksum(_ range: StartupPages.Range) -> UInt64 {
        let base = UnsafeRawPointer(bitPattern: range.start)!
        var sum: UInt64 = 0
        for offset in stride(from: 0, to: Int(min(range.end - range.start, 1 << 20)), by: 64) {
            sum = sum &* 31 &+ UInt64(base.load(fromByteOffset: offset, as: UInt8.self))
        }
        return sum
    }
}
