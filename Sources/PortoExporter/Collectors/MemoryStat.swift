import Glibc
import PortoWire

/// The figures of a cgroup's `memory.stat` file (a `Get` of the raw knob, docs/porto.md §3.1,
/// §7.1) that the memory group exports, by portod's own formulas for the derived properties:
///
/// | property | cgroup v1 | cgroup v2 |
/// |---|---|---|
/// | anon_usage | total_inactive_anon + total_active_anon + total_unevictable + total_swap | anon |
/// | cache_usage | total_inactive_file + total_active_file | inactive_file + active_file |
/// | shmem_usage | total_shmem | shmem |
/// | mlock_usage | total_unevictable | unevictable |
/// | minor_faults | total_pgfault − total_pgmajfault | pgfault − pgmajfault |
/// | major_faults | total_pgmajfault | pgmajfault |
/// | memory_reclaimed | total_pgpgout × 4096 | 0 (no such key) |
///
/// plus `total_inactive_file` (v2 `inactive_file`) for the working set, usage less inactive file
/// pages, as cAdvisor computes it. v1 is told by its `total_` keys; `total_swap` is there only
/// with swap accounting and counts 0 when absent, as in portod. A missing key otherwise makes the
/// file unusable (nil): the caller falls back to the derived properties.
struct MemoryStat: Equatable {
    var anon: UInt64
    var cache: UInt64
    var shmem: UInt64
    var mlock: UInt64
    var minorFaults: UInt64
    var majorFaults: UInt64
    var reclaimed: UInt64
    var inactiveFile: UInt64

    /// The keys read, each with the bit it sets when found.
    private enum Key: Int, CaseIterable {
        case inactiveAnon, activeAnon, unevictable, swap, inactiveFile, activeFile, shmem, pgfault, pgmajfault, pgpgout, anon

        static func v1(_ name: Substring) -> Key? {
            switch name {
            case "total_inactive_anon": .inactiveAnon
            case "total_active_anon": .activeAnon
            case "total_unevictable": .unevictable
            case "total_swap": .swap
            case "total_inactive_file": .inactiveFile
            case "total_active_file": .activeFile
            case "total_shmem": .shmem
            case "total_pgfault": .pgfault
            case "total_pgmajfault": .pgmajfault
            case "total_pgpgout": .pgpgout
            default: nil
            }
        }

        static func v2(_ name: Substring) -> Key? {
            switch name {
            case "anon": .anon
            case "unevictable": .unevictable
            case "inactive_file": .inactiveFile
            case "active_file": .activeFile
            case "shmem": .shmem
            case "pgfault": .pgfault
            case "pgmajfault": .pgmajfault
            default: nil
            }
        }

        var bit: UInt16 { 1 << UInt16(rawValue) }
    }

    private static let v1Required: UInt16 = [Key.inactiveAnon, .activeAnon, .unevictable, .inactiveFile, .activeFile, .shmem, .pgfault, .pgmajfault, .pgpgout]
        .reduce(0) { $0 | $1.bit }
    private static let v2Required: UInt16 = [Key.anon, .unevictable, .inactiveFile, .activeFile, .shmem, .pgfault, .pgmajfault]
        .reduce(0) { $0 | $1.bit }

    /// The values of the keys found, per cgroup version, and which were found.
    private struct Found {
        var v1 = [UInt64](repeating: 0, count: Key.allCases.count)
        var v2 = [UInt64](repeating: 0, count: Key.allCases.count)
        var found1: UInt16 = 0
        var found2: UInt16 = 0

        mutating func note(v1 k1: Key?, v2 k2: Key?, _ value: UInt64) {
            if let k1 {
                v1[k1.rawValue] = value
                found1 |= k1.bit
            } else if let k2 {
                v2[k2.rawValue] = value
                found2 |= k2.bit
            }
        }
    }

    /// The keys' names as bytes, for ``readASCII(_:)``.
    private static let v1Names: [([UInt8], Key)] = [
        "total_inactive_anon", "total_active_anon", "total_unevictable", "total_swap", "total_inactive_file",
        "total_active_file", "total_shmem", "total_pgfault", "total_pgmajfault", "total_pgpgout",
    ].map { (Array($0.utf8), Key.v1(Substring($0))!) }
    private static let v2Names: [([UInt8], Key)] = [
        "anon", "unevictable", "inactive_file", "active_file", "shmem", "pgfault", "pgmajfault",
    ].map { (Array($0.utf8), Key.v2(Substring($0))!) }

    /// Reads the file's `key value` lines; nil when a key the figures need is missing or a value
    /// is not a number.
    init?(_ text: String) {
        var text = text
        guard let stat = text.withUTF8({ MemoryStat(utf8: $0) }) else { return nil }
        self = stat
    }

    /// ``init(_:)`` of valid UTF-8.
    init?(utf8: UnsafeBufferPointer<UInt8>) {
        // The kernel writes memory.stat in ASCII: read as bytes (splitting a String into lines and
        // comparing Substrings was most of a scrape's memory.stat cost); other text as Characters,
        // where "\r\n" is one, so that both give the same result for any text.
        let isASCII = Self.isASCIIWithoutCR(utf8)
        guard let found = isASCII ? Self.readASCII(utf8) : Self.readCharacters(String(decoding: utf8, as: UTF8.self)) else { return nil }
        var v1 = found.v1, v2 = found.v2
        let found1 = found.found1, found2 = found.found2
        func k(_ values: [UInt64], _ key: Key) -> UInt64 { values[key.rawValue] }
        if found1 != 0 {
            guard found1 & Self.v1Required == Self.v1Required else { return nil }
            anon = k(v1, .inactiveAnon) &+ k(v1, .activeAnon) &+ k(v1, .unevictable) &+ k(v1, .swap)
            reclaimed = k(v1, .pgpgout) &* 4096
            v2 = v1
        } else {
            guard found2 & Self.v2Required == Self.v2Required else { return nil }
            anon = k(v2, .anon)
            reclaimed = 0
        }
        cache = k(v2, .inactiveFile) &+ k(v2, .activeFile)
        shmem = k(v2, .shmem)
        mlock = k(v2, .unevictable)
        majorFaults = k(v2, .pgmajfault)
        minorFaults = k(v2, .pgfault) >= majorFaults ? k(v2, .pgfault) - majorFaults : 0
        inactiveFile = k(v2, .inactiveFile)
    }

    /// Whether no byte is above 0x7F or "\r", eight bytes at a time.
    static func isASCIIWithoutCR(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = utf8.baseAddress else { return true }
        let n = utf8.count
        var i = 0
        let high: UInt64 = 0x8080_8080_8080_8080, ones: UInt64 = 0x0101_0101_0101_0101, cr: UInt64 = 0x0D0D_0D0D_0D0D_0D0D
        while i + 8 <= n {
            let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
            let x = w ^ cr  // a zero byte where w has "\r"
            if (w | ((x &- ones) & ~x)) & high != 0 { return false }
            i += 8
        }
        while i < n {
            if utf8[i] >= 0x80 || utf8[i] == 0x0D { return false }
            i += 1
        }
        return true
    }

    /// The keys read by the length of their name: (name, v1 key, v2 key), each name one or the
    /// other.
    private static let namesByLength: [[(name: [UInt8], v1: Key?, v2: Key?)]] = {
        var out: [[(name: [UInt8], v1: Key?, v2: Key?)]] = []
        for (name, key) in v1Names + v2Names {
            while out.count <= name.count { out.append([]) }
            let v1 = v1Names.contains { $0.0 == name }
            out[name.count].append((name, v1 ? key : nil, v1 ? nil : key))
        }
        return out
    }()

    /// The lines of ASCII text without "\r" (where a byte is a Character).
    private static func readASCII(_ utf8: UnsafeBufferPointer<UInt8>) -> Found? {
        guard let base = utf8.baseAddress else { return Found() }
        var found = Found()
        var start = 0
        let n = utf8.count
        return namesByLength.withUnsafeBufferPointer { byLength -> Found? in
            while start < n {
                let end = memchr(base + start, Int32(UInt8(ascii: "\n")), n - start).map { UnsafeRawPointer($0) - UnsafeRawPointer(base) } ?? n
                defer { start = end + 1 }
                if end == start { continue }  // an empty line
                guard let spacePointer = memchr(base + start, Int32(UInt8(ascii: " ")), end - start) else { return nil }
                let space = UnsafeRawPointer(spacePointer) - UnsafeRawPointer(base)
                let length = space - start
                guard length < byLength.count else { continue }
                var k1: Key?, k2: Key?
                for candidate in byLength[length] where candidate.name.withUnsafeBufferPointer({ memcmp($0.baseAddress!, base + start, length) == 0 }) {
                    k1 = candidate.v1
                    k2 = candidate.v2
                    break
                }
                guard k1 != nil || k2 != nil else { continue }
                guard let value = uint(UnsafeBufferPointer(rebasing: utf8[(space + 1)..<end])) else { return nil }
                found.note(v1: k1, v2: k2, value)
            }
            return found
        }
    }

    /// `UInt64(text)` of the bytes: digits read in place, anything else as `UInt64` parses it.
    private static func uint(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64? {
        var value: UInt64 = 0
        for b in bytes {
            guard b >= 0x30, b <= 0x39 else { return UInt64(String(decoding: bytes, as: UTF8.self)) }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(b - 0x30))
            if o1 || o2 { return nil }
            value = sum
        }
        return bytes.isEmpty ? nil : value
    }

    /// The lines of any text, as Characters.
    private static func readCharacters(_ text: String) -> Found? {
        var found = Found()
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            guard let space = line.firstIndex(of: " ") else { return nil }
            let name = line[..<space]
            let k1 = Key.v1(name)
            let k2 = k1 == nil ? Key.v2(name) : nil
            guard k1 != nil || k2 != nil else { continue }
            guard let value = UInt64(line[line.index(after: space)...]) else { return nil }
            found.note(v1: k1, v2: k2, value)
        }
        return found
    }

    /// The figures as the `TContainerStatus` fields the derived properties fill, so that the
    /// metric table writes them.
    var status: Porto_TContainerStatus {
        var s = Porto_TContainerStatus()
        s.anonUsage = anon
        s.cacheUsage = cache
        s.shmemUsage = shmem
        s.mlockUsage = mlock
        s.minorFaults = minorFaults
        s.majorFaults = majorFaults
        s.memoryReclaimed = reclaimed
        return s
    }

    /// ``status`` as ``StatusBytes``, written directly (a message serialised per container and
    /// scrape cost more than reading the file).
    var statusBytes: [UInt8] {
        var out = StatusBytes()
        let n = Self.statusNumbers
        out.uint(n[0], anon)
        out.uint(n[1], cache)
        out.uint(n[2], shmem)
        out.uint(n[3], mlock)
        out.uint(n[4], minorFaults)
        out.uint(n[5], majorFaults)
        out.uint(n[6], reclaimed)
        return out.container
    }

    /// The figures in ``statusProperties``' order.
    var statusValues: [UInt64] { [anon, cache, shmem, mlock, minorFaults, majorFaults, reclaimed] }

    /// The properties the figures stand for, in ``statusBytes``' order.
    static let statusProperties = [
        "anon_usage", "cache_usage", "shmem_usage", "mlock_usage", "minor_faults", "major_faults", "memory_reclaimed",
    ]

    /// The status field numbers of the figures in ``statusBytes``' order, from the metric table.
    static let statusNumbers: [Int] = statusProperties.map { property in
        guard case .status(let number, _) = ContainerMetrics.all.first(where: { $0.property == property })?.field else {
            preconditionFailure("\(property) is not a status uint64 of the table")
        }
        return number
    }

    /// Usage less inactive file pages (cAdvisor's working set), 0 when the file pages are more.
    func workingSet(usage: UInt64) -> UInt64 {
        usage > inactiveFile ? usage - inactiveFile : 0
    }
}
