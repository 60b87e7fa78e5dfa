/// The synthetic host as it is at one second: every container (sorted by name, "/" first) and
/// every usage value, computed once per tick and shared by all requests of that tick.
final class SimWorld: @unchecked Sendable {
    let now: UInt64
    let containers: [SimContainer]
    let index: [String: Int]
    /// Index of each container's parent; -1 for "/".
    let parents: [Int]
    /// Hierarchical values: `values[i * SimSlots.count + slot]` covers container i and all its
    /// descendants (for "/": the whole host).
    let values: [UInt64]
    /// Disks used anywhere in each container's subtree (bit i = `SimSlots.disks[i]`).
    let diskMasks: [UInt8]
    /// Index of the container whose network namespace each container lives in (0 = the host's).
    let netOwner: [Int]
    /// Whether the memory controller is on cgroup v2 (``SimOptions/cgroupV2``).
    let cgroupV2: Bool

    init(now: UInt64, containers: [SimContainer], rootCarry: [UInt64], cgroupV2: Bool = false) {
        self.now = now
        self.cgroupV2 = cgroupV2
        self.containers = containers
        var index: [String: Int] = [:]
        index.reserveCapacity(containers.count)
        for (i, c) in containers.enumerated() { index[c.name] = i }
        self.index = index
        let parents = containers.map { c in c.parentName.flatMap { index[$0] } ?? -1 }
        self.parents = parents

        let width = SimSlots.count
        var values = [UInt64](repeating: 0, count: containers.count * width)
        var masks = [UInt8](repeating: 0, count: containers.count)
        var netOwner = [Int](repeating: 0, count: containers.count)
        var byLevel: [[Int]] = []
        for (i, c) in containers.enumerated() {
            while byLevel.count <= c.level { byLevel.append([]) }
            byLevel[c.level].append(i)
        }
        // Parents come before children in level order: resolve network namespaces and the
        // smallest ancestor memory limit top-down.
        var ancestorLimit = [UInt64](repeating: UInt64.max, count: containers.count)
        for level in byLevel {
            for i in level {
                if parents[i] > 0 {
                    let p = parents[i]
                    ancestorLimit[i] = min(ancestorLimit[p], containers[p].memoryLimit ?? UInt64.max)
                }
                if case .own = containers[i].net { netOwner[i] = i } else if parents[i] >= 0 {
                    netOwner[i] = netOwner[parents[i]]
                }
            }
        }
        values.withUnsafeMutableBufferPointer { buffer in
            for i in containers.indices {
                Self.ownValues(
                    containers[i], hostNetns: netOwner[i] == 0 && i != 0, now: now,
                    into: UnsafeMutableBufferPointer(rebasing: buffer[(i * width)..<((i + 1) * width)]))
                masks[i] = containers[i].hasRuntime ? SimSlots.withMembers(containers[i].profile.diskMask) | Self.carriedDisks(containers[i]) : 0
            }
            for slot in 0..<SimSlots.counterCount where rootCarry.count > slot {
                buffer[slot] &+= rootCarry[slot]
            }
            // Children before parents: add each subtree into its parent.
            for level in byLevel.reversed() {
                for i in level {
                    Self.clampMemory(containers[i], cap: ancestorLimit[i], buffer: buffer, base: i * width)
                    let p = parents[i]
                    guard p >= 0, containers[i].hasRuntime else { continue }
                    for slot in 0..<width { buffer[p * width + slot] &+= buffer[i * width + slot] }
                    masks[p] |= masks[i]
                }
            }
        }
        self.values = values
        self.diskMasks = masks
        self.netOwner = netOwner
    }

    @inline(__always)
    func value(_ i: Int, _ slot: Int) -> UInt64 { values[i * SimSlots.count + slot] }

    /// The nearest container, this one or an ancestor, that owns `controller` ("/" owns all).
    func owner(of i: Int, _ controller: SimControllers) -> Int {
        var at = i
        while at > 0, !containers[at].controllers.contains(controller) { at = parents[at] }
        return max(at, 0)
    }

    // MARK: - Own values

    /// The disks whose counters a container carries from reset descendants or an earlier run:
    /// their keys stay in its io maps.
    static func carriedDisks(_ c: SimContainer) -> UInt8 {
        guard !c.carry.isEmpty else { return 0 }
        var mask: UInt8 = 0
        for disk in SimSlots.disks.indices {
            if SimSlots.IOMap.allCases.contains(where: { c.carry[SimSlots.io($0, disk: disk)] != nil }) { mask |= 1 << disk }
        }
        return mask
    }

    /// A deterministic wobble in per cent (90...110) for gauges, a function of time and id.
    @inline(__always)
    static func wobble(_ now: UInt64, _ id: UInt64) -> UInt64 {
        let phase = (now / 3 &+ id &* 7) % 20
        return 90 + (phase > 10 ? phase - 10 : 10 - phase) * 2
    }

    /// The container's own usage (without descendants), written into `out`.
    static func ownValues(_ c: SimContainer, hostNetns: Bool, now: UInt64, into out: UnsafeMutableBufferPointer<UInt64>) {
        guard let run = c.runSeconds(now: now) else { return }
        let p = c.profile
        let cpu = p.cpuRate &* run
        out[SimSlots.cpu] = cpu
        out[SimSlots.cpuSystem] = (cpu / 1000 &* p.systemPermille) / 10_000_000 &* 10_000_000
        out[SimSlots.cpuThrottled] = p.throttleRate &* run
        out[SimSlots.minorFaults] = p.minorFaultRate &* run
        out[SimSlots.majorFaults] = p.majorFaultRate &* run
        out[SimSlots.reclaimed] = p.reclaimRate &* run
        out[SimSlots.cpuPressureSome] = p.pressureRate &* run
        out[SimSlots.cpuPressureFull] = p.pressureRate / 3 &* run
        out[SimSlots.memoryPressureSome] = p.pressureRate / 2 &* run
        out[SimSlots.memoryPressureFull] = p.pressureRate / 5 &* run
        out[SimSlots.ioPressureSome] = p.pressureRate / 4 &* run
        out[SimSlots.ioPressureFull] = p.pressureRate / 7 &* run
        if hostNetns {
            let rx = p.netRate &* run
            let tx = p.netRate / 3 &* run
            out[SimSlots.sockRxBytes] = rx
            out[SimSlots.sockTxBytes] = tx
            out[SimSlots.sockRxPackets] = rx / 1400
            out[SimSlots.sockTxPackets] = tx / 900
        }
        for disk in SimSlots.disks.indices where p.diskMask & (1 << disk) != 0 {
            let weight = UInt64(disk + 1)
            let read = p.ioReadRate / weight &* run
            let write = p.ioWriteRate / weight &* run
            out[SimSlots.io(.read, disk: disk)] = read
            out[SimSlots.io(.write, disk: disk)] = write
            out[SimSlots.io(.readOps, disk: disk)] = read / 16_384
            out[SimSlots.io(.writeOps, disk: disk)] = write / 32_768
            out[SimSlots.io(.ops, disk: disk)] = read / 16_384 + write / 32_768
        }
        // What went through a stacked device is counted again on its members (striped evenly).
        for (stacked, members) in SimSlots.stackedOn where p.diskMask & (1 << stacked) != 0 {
            for map in SimSlots.IOMap.allCases {
                let amount = out[SimSlots.io(map, disk: stacked)]
                let share = amount / UInt64(members.count)
                for (k, m) in members.enumerated() {
                    out[SimSlots.io(map, disk: m)] &+= k == 0 ? amount - share * UInt64(members.count - 1) : share
                }
            }
        }
        let fs = p.fsRate &* run
        out[SimSlots.ioFS(.read)] = fs
        out[SimSlots.ioFS(.write)] = fs / 2
        out[SimSlots.ioFS(.ops)] = fs / 8192
        if c.firstRun {
            for (slot, base) in p.bases { out[slot] &+= base }
        }
        for (slot, amount) in c.carry { out[slot] &+= amount }

        let active = c.state != .dead
        let level = c.state == .dead ? p.memory / 8 : p.memory / 100 * wobble(now, c.id)
        let anon = active ? level / 1000 * p.anonPermille : 0
        out[SimSlots.memoryUsage] = level
        out[SimSlots.anonUsage] = anon
        out[SimSlots.cacheUsage] = level - anon - min(level - anon, active ? p.shmem : 0)
        out[SimSlots.shmemUsage] = active ? min(p.shmem, level - anon) : 0
        out[SimSlots.mlockUsage] = active ? min(p.mlock, anon) : 0
        out[SimSlots.hugetlbUsage] = active ? p.hugetlb : 0
        out[SimSlots.writeback] = active ? p.writeback / 100 * wobble(now &+ 1, c.id) : 0
        out[SimSlots.processes] = active ? p.processes : 0
        out[SimSlots.threads] = active ? p.threads : 0
    }

    /// Keeps a container's memory usage under its own limit (97 %) and under every ancestor's
    /// (90 %), as the kernel's hierarchical accounting would; so a child never reports more than
    /// its parent.
    private static func clampMemory(_ c: SimContainer, cap ancestors: UInt64, buffer: UnsafeMutableBufferPointer<UInt64>, base: Int) {
        var cap = ancestors / 100 * 90
        if let limit = c.memoryLimit, limit > 0, c.level > 0 { cap = min(cap, limit / 100 * 97) }
        if buffer[base + SimSlots.memoryUsage] > cap {
            let ratio = Double(cap) / Double(buffer[base + SimSlots.memoryUsage])
            for slot in [SimSlots.memoryUsage, SimSlots.anonUsage, SimSlots.cacheUsage, SimSlots.shmemUsage, SimSlots.mlockUsage] {
                buffer[base + slot] = UInt64(Double(buffer[base + slot]) * ratio)
            }
        }
    }
}
