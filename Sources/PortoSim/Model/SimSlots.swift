/// The layout of the per-container value vector the world computes each second: counters first
/// (they accumulate and are carried over resets), then gauges.
enum SimSlots {
    /// Disks of the synthetic host. `hw` sums sd*, nvme* and vd* only, so `md0` is left out of it
    /// (docs/porto.md §3.3 Disk IO).
    static let disks = ["md0", "nvme0n1", "sda", "sdb", "vda"]
    static let hwDisks: [Bool] = disks.map { $0.hasPrefix("sd") || $0.hasPrefix("nvme") || $0.hasPrefix("vd") }
    /// Stacked devices and the disks under them: `md0` is a RAID0 over `sda` and `sdb`, so the
    /// bytes a container sends through `md0` are counted again on `sda` and `sdb`, as the kernel's
    /// blkio accounting does for the requests md issues to its members.
    static let stackedOn: [Int: [Int]] = [0: [2, 3]]

    /// `mask` with the disks under each stacked device it uses.
    static func withMembers(_ mask: UInt8) -> UInt8 {
        var out = mask
        for (stacked, members) in stackedOn where mask & (1 << stacked) != 0 {
            for m in members { out |= 1 << m }
        }
        return out
    }

    static let cpu = 0
    static let cpuSystem = 1
    static let cpuThrottled = 2
    static let minorFaults = 3
    static let majorFaults = 4
    static let reclaimed = 5
    static let cpuPressureSome = 6
    static let cpuPressureFull = 7
    static let memoryPressureSome = 8
    static let memoryPressureFull = 9
    static let ioPressureSome = 10
    static let ioPressureFull = 11
    /// Sock-diag counters of host-netns containers (`Uplink` key), hierarchical.
    static let sockRxBytes = 12
    static let sockTxBytes = 13
    static let sockRxPackets = 14
    static let sockTxPackets = 15

    /// The io maps, each `disks.count + 1` slots wide (the disks, then `fs`).
    enum IOMap: Int, CaseIterable {
        case read = 0, write, ops, readOps, writeOps
    }
    static let ioBase = 16
    static let ioWidth = disks.count + 1
    static func io(_ map: IOMap, disk: Int) -> Int { ioBase + map.rawValue * ioWidth + disk }
    static func ioFS(_ map: IOMap) -> Int { ioBase + map.rawValue * ioWidth + disks.count }

    static let counterCount = ioBase + IOMap.allCases.count * ioWidth

    static let memoryUsage = counterCount
    static let anonUsage = counterCount + 1
    static let cacheUsage = counterCount + 2
    static let shmemUsage = counterCount + 3
    static let mlockUsage = counterCount + 4
    static let hugetlbUsage = counterCount + 5
    static let writeback = counterCount + 6
    static let processes = counterCount + 7
    static let threads = counterCount + 8

    static let count = counterCount + 9
}
