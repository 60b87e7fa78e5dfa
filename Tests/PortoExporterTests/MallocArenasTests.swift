import Foundation
import Testing
@testable import PortoExporter

/// The malloc arena cap: decided from the environment, applied by the binary at start-up, logged
/// at debug level.
@Suite struct MallocArenasTests {
    static func decide(_ environment: [String: String]) -> MallocArenas.Decision {
        MallocArenas.decide(variable: { environment[$0] })
    }

    @Test func anEmptyEnvironmentCapsAtOne() {
        #expect(Self.decide([:]) == .cap(1))
        #expect(Self.decide(["PATH": "/usr/bin", "MALLOC_TOP_PAD_": "0"]) == .cap(1))
    }

    @Test func mallocArenaMaxIsLeftToGlibc() {
        #expect(Self.decide(["MALLOC_ARENA_MAX": "4"]) == .environment("MALLOC_ARENA_MAX=4"))
        #expect(Self.decide(["MALLOC_ARENA_MAX": "1"]) == .environment("MALLOC_ARENA_MAX=1"))
        // An operator who wants glibc's default back asks for more arenas than it would make.
        #expect(Self.decide(["MALLOC_ARENA_MAX": "64"]) == .environment("MALLOC_ARENA_MAX=64"))
    }

    @Test(arguments: ["", "0", "-1", "two", " 2"])
    func aValueGlibcIgnoresDoesNotCountAsSet(value: String) {
        #expect(Self.decide(["MALLOC_ARENA_MAX": value]) == .cap(1))
    }

    @Test func theGlibcTunableIsLeftToGlibc() {
        #expect(Self.decide(["GLIBC_TUNABLES": "glibc.malloc.arena_max=3"]) == .environment("GLIBC_TUNABLES=glibc.malloc.arena_max=3"))
        #expect(Self.decide(["GLIBC_TUNABLES": "glibc.malloc.trim_threshold=131072:glibc.malloc.arena_max=8"])
            == .environment("GLIBC_TUNABLES=glibc.malloc.arena_max=8"))
        // Other tunables, or a malformed one, leave the cap to the exporter.
        #expect(Self.decide(["GLIBC_TUNABLES": "glibc.malloc.trim_threshold=131072"]) == .cap(1))
        #expect(Self.decide(["GLIBC_TUNABLES": "glibc.malloc.arena_max"]) == .cap(1))
        #expect(Self.decide(["GLIBC_TUNABLES": "glibc.malloc.arena_max=x"]) == .cap(1))
        // MALLOC_ARENA_MAX is looked at first.
        #expect(Self.decide(["MALLOC_ARENA_MAX": "5", "GLIBC_TUNABLES": "glibc.malloc.arena_max=3"]) == .environment("MALLOC_ARENA_MAX=5"))
    }

    @Test func theTrimThresholdIsSetUnlessTheEnvironmentSetsAThreshold() {
        let decide = { (environment: [String: String]) in MallocArenas.decideTrimThreshold(variable: { environment[$0] }) }
        #expect(decide([:]) == .cap(131_072))
        #expect(decide(["MALLOC_ARENA_MAX": "2"]) == .cap(131_072))
        #expect(decide(["MALLOC_TRIM_THRESHOLD_": "0"]) == .environment("MALLOC_TRIM_THRESHOLD_=0"))
        #expect(decide(["MALLOC_MMAP_THRESHOLD_": "65536"]) == .environment("MALLOC_MMAP_THRESHOLD_=65536"))
        #expect(decide(["MALLOC_TRIM_THRESHOLD_": "lots"]) == .cap(131_072))
        #expect(decide(["GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=262144"]) == .environment("GLIBC_TUNABLES=glibc.malloc.mmap_threshold=262144"))
        #expect(decide(["GLIBC_TUNABLES": "glibc.malloc.arena_max=2"]) == .cap(131_072))
    }

    /// The built binary, at `--log.level debug`, says what it did: capped (mallopt returned 1) with
    /// a clean environment, nothing with MALLOC_ARENA_MAX set.
    @Test(arguments: [
        ([String: String](), "msg=\"malloc arenas capped\" arena_max=1"),
        (["MALLOC_ARENA_MAX": "3"], "msg=\"malloc arenas left to the environment\" setting=\"MALLOC_ARENA_MAX=3\""),
    ])
    func theBinaryLogsWhatItSet(extra: [String: String], expected: String) throws {
        let binary = HTTPGracefulShutdownTests.binary
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build porto-exporter first: \(binary)")
        let dir = try TempDirectory()
        let log = dir.file("exporter.log")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        // No portod: the exporter starts all the same (porto_up 0 on a scrape).
        process.arguments = ["--porto.socket", dir.file("missing.socket"), "--web.listen-address", "127.0.0.1:0", "--log.level", "debug"]
        var environment = ProcessInfo.processInfo.environment
        environment["MALLOC_ARENA_MAX"] = nil
        environment["GLIBC_TUNABLES"] = nil
        environment.merge(extra) { $1 }
        process.environment = environment
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate(); process.waitUntilExit() } }

        var text = ""
        try waitUntil(timeout: 30) {
            text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            return text.contains("msg=listening")
        }
        let line = text.split(separator: "\n").first { $0.contains("malloc arenas") }.map(String.init) ?? ""
        #expect(line.contains(expected), "log line: \(line)")
        #expect(line.contains("level=debug"), "log line: \(line)")
        #expect(text.contains("msg=\"malloc trim threshold set\" trim_threshold=131072"), "log: \(text)")
    }
}

@Suite struct MallocTrimTests {
    /// Pages of `[start, start + size)` resident in memory (mincore), whole pages only.
    static func residentFraction(_ start: UnsafeMutableRawPointer, _ size: Int) -> Double {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let first = (Int(bitPattern: start) + page - 1) / page * page
        let end = (Int(bitPattern: start) + size) / page * page
        let count = (end - first) / page
        guard count > 0 else { return 0 }
        var vector = [UInt8](repeating: 0, count: count)
        guard mincore(UnsafeMutableRawPointer(bitPattern: first), end - first, &vector) == 0 else { return -1 }
        return Double(vector.filter { $0 & 1 == 1 }.count) / Double(count)
    }

    /// Blocks below the mmap threshold, freed under a block still in use, stay resident: glibc
    /// only gives back the top of a heap. After `releaseFreeMemory` their pages are gone.
    @Test func freedMemoryInTheMiddleOfTheHeapIsReleased() throws {
        let size = 64 * 1024, count = 256   // 16 MB
        let blocks = (0...count).map { _ -> UnsafeMutableRawPointer in
            let block = malloc(size)!
            memset(block, 1, size)   // touch every page
            return block
        }
        defer { free(blocks[count]) }   // allocated last: above the others, the heap cannot shrink
        blocks.prefix(count).forEach { free($0) }
        let before = blocks.prefix(count).map { Self.residentFraction($0, size) }.reduce(0, +) / Double(count)
        try #require(before > 0.9, "freed blocks should still be resident before the trim (\(before))")
        #expect(MallocArenas.releaseFreeMemory())
        // Other tests running meanwhile may take some of the freed memory again: most, not all.
        let after = blocks.prefix(count).map { Self.residentFraction($0, size) }.reduce(0, +) / Double(count)
        #expect(after < 0.5, "resident after the trim: \(after)")
    }
}
