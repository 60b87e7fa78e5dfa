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

    /// Reads the file's `key value` lines; nil when a key the figures need is missing or a value
    /// is not a number.
    init?(_ text: String) {
        var v1 = [UInt64](repeating: 0, count: Key.allCases.count)
        var v2 = v1
        var found1: UInt16 = 0
        var found2: UInt16 = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            guard let space = line.firstIndex(of: " ") else { return nil }
            let name = line[..<space]
            let k1 = Key.v1(name)
            let k2 = k1 == nil ? Key.v2(name) : nil
            guard k1 != nil || k2 != nil else { continue }
            guard let value = UInt64(line[line.index(after: space)...]) else { return nil }
            if let k1 {
                v1[k1.rawValue] = value
                found1 |= k1.bit
            } else if let k2 {
                v2[k2.rawValue] = value
                found2 |= k2.bit
            }
        }
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

    /// Usage less inactive file pages (cAdvisor's working set), 0 when the file pages are more.
    func workingSet(usage: UInt64) -> UInt64 {
        usage > inactiveFile ? usage - inactiveFile : 0
    }
}
