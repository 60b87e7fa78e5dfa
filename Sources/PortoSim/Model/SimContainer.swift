import PortoWire

/// How a container is networked (docs/porto.md §3.3 Network).
enum SimNet: Equatable {
    /// `net=inherited` (the default): the parent's network namespace.
    case inherited
    /// Its own network namespace, e.g. `L3 veth0`, with these devices inside.
    case own(config: String, devices: [String])
}

/// How a dead container died (docs/porto.md §3.3 exit_status/exit_code).
struct SimExit: Equatable {
    var status: Int32
    var code: Int32
    var oomKilled: Bool
    var coreDumped: Bool

    static let success = SimExit(status: 0, code: 0, oomKilled: false, coreDumped: false)
    static func exitCode(_ code: Int32) -> SimExit {
        SimExit(status: code << 8, code: code, oomKilled: false, coreDumped: false)
    }
    static func signal(_ signal: Int32, core: Bool = false) -> SimExit {
        SimExit(status: signal | (core ? 0x80 : 0), code: -signal, oomKilled: false, coreDumped: core)
    }
    static let oom = SimExit(status: 9, code: -99, oomKilled: true, coreDumped: false)
}

/// The rates and levels a container's usage grows by, drawn from the seed. Counters grow by
/// `rate × seconds run`; gauges wobble around a level.
struct SimProfile {
    /// CPU nanoseconds per second of running (1e9 = one core busy).
    var cpuRate: UInt64 = 0
    var systemPermille: UInt64 = 200
    var throttleRate: UInt64 = 0
    var minorFaultRate: UInt64 = 0
    var majorFaultRate: UInt64 = 0
    var reclaimRate: UInt64 = 0
    /// Pressure stall microseconds per second.
    var pressureRate: UInt64 = 0
    /// Own memory level (bytes) while active.
    var memory: UInt64 = 0
    var anonPermille: UInt64 = 600
    var shmem: UInt64 = 0
    var mlock: UInt64 = 0
    var hugetlb: UInt64 = 0
    var writeback: UInt64 = 0
    var processes: UInt64 = 0
    var threads: UInt64 = 0
    /// Which of `SimSlots.disks` it reads and writes (bit i = disk i).
    var diskMask: UInt8 = 0
    var ioReadRate: UInt64 = 0
    var ioWriteRate: UInt64 = 0
    var fsRate: UInt64 = 0
    /// Bytes per second through its own network namespace, or its own sockets (sock-diag).
    var netRate: UInt64 = 0
    /// Counter values at the start of the first run, for the counters-near-2^53 cases: slot → value.
    var bases: [Int: UInt64] = [:]
}

/// One container of the synthetic host: identity, configuration and lifecycle. The root "/" is one
/// too (level 0, state meta).
///
/// A class, so that the thousands of property reads per request do not copy it. Worlds share
/// instances: never mutate an instance a world may hold; `SimHost.inject` copies first.
final class SimContainer: @unchecked Sendable {
    var name: String
    var id: UInt64
    var level: Int
    /// Index of the parent in the world's array; -1 for "/".
    var parentName: String?
    var state: SimState
    var command: String
    var virtMode = "app"
    var ownerUser = "root"
    var ownerGroup = "root"
    /// Sorted by key.
    var labels: [(String, String)] = []
    var memoryLimit: UInt64?
    var cpuLimit: Double?
    var cpuGuarantee: Double?
    var ioLimit: [(String, UInt64)]?
    var threadLimit: UInt64?
    var hugetlbLimit: UInt64?
    var net: SimNet = .inherited
    var respawn = false
    var respawnCount: UInt64 = 0
    var controllers: SimControllers
    var creationTime: UInt64
    /// nil when never started (Get `start_time` is "" and LCB leaves it out).
    var startTime: UInt64?
    /// When it stopped running (paused, died, stopped), for frozen counters and `Latency`.
    var stopTime: UInt64?
    /// Seconds spent paused during this run (they do not count as run time).
    var pausedSeconds: UInt64 = 0
    var deathTime: UInt64?
    var changeTime: UInt64
    var exit: SimExit?
    var startError: String?
    var oomKills: UInt64 = 0
    /// Hierarchical: kills in this container and all its descendants since creation.
    var oomKillsTotal: UInt64 = 0
    var rootPid: Int32 = 0
    var profile = SimProfile()
    /// `profile.bases` apply only to the run that was going on when the host was built.
    var firstRun = true
    /// Precomputed by `SimContainer.precompute(_:)`: the `cgroups` and `labels` values in both forms.
    var cgroupSet = SimCgroupSet.empty
    var labelSet = SimLabelSet.empty
    /// Counter amounts of descendants that were reset (stopped, destroyed) while this container
    /// kept running: hierarchical counters include them, so they never go down. Slot → amount.
    var carry: [Int: UInt64] = [:]

    init(
        name: String, id: UInt64, level: Int, parentName: String?, state: SimState, command: String,
        controllers: SimControllers, creationTime: UInt64, startTime: UInt64?, changeTime: UInt64
    ) {
        self.name = name
        self.id = id
        self.level = level
        self.parentName = parentName
        self.state = state
        self.command = command
        self.controllers = controllers
        self.creationTime = creationTime
        self.startTime = startTime
        self.changeTime = changeTime
    }

    /// An independent copy, to mutate without touching worlds that hold this instance.
    func copy() -> SimContainer {
        let c = SimContainer(
            name: name, id: id, level: level, parentName: parentName, state: state, command: command,
            controllers: controllers, creationTime: creationTime, startTime: startTime, changeTime: changeTime)
        c.virtMode = virtMode
        c.ownerUser = ownerUser
        c.ownerGroup = ownerGroup
        c.labels = labels
        c.memoryLimit = memoryLimit
        c.cpuLimit = cpuLimit
        c.cpuGuarantee = cpuGuarantee
        c.ioLimit = ioLimit
        c.threadLimit = threadLimit
        c.hugetlbLimit = hugetlbLimit
        c.net = net
        c.respawn = respawn
        c.respawnCount = respawnCount
        c.stopTime = stopTime
        c.pausedSeconds = pausedSeconds
        c.deathTime = deathTime
        c.exit = exit
        c.startError = startError
        c.oomKills = oomKills
        c.oomKillsTotal = oomKillsTotal
        c.rootPid = rootPid
        c.profile = profile
        c.firstRun = firstRun
        c.carry = carry
        c.cgroupSet = cgroupSet
        c.labelSet = labelSet
        return c
    }

    /// Whether runtime (RT) properties can be read (docs/porto.md §3.2).
    var hasRuntime: Bool { state != .stopped && state != .starting }

    /// The seconds this run has accumulated: frozen when paused or dead, nil without runtime.
    func runSeconds(now: UInt64) -> UInt64? {
        guard hasRuntime, let start = startTime else { return nil }
        let end: UInt64
        switch state {
        case .paused, .dead: end = stopTime ?? now
        default: end = now
        }
        let total = end > start ? end - start : 0
        return total > pausedSeconds ? total - pausedSeconds : 0
    }

    /// Whether processes run (counters grow).
    var isActive: Bool {
        state == .running || state == .stopping || state == .respawning
    }
}

extension SimContainer {
    /// Fills `cgroupSet` and `labelSet` of each container; `lookup` finds a container by name
    /// (for the owners of controllers up the chain). Controllers and names never change, so this
    /// runs once per container.
    static func precompute(_ containers: [SimContainer], lookup: (String) -> SimContainer?) {
        for c in containers {
            var entries: [SimCgroupSet.Entry] = []
            for (controller, name) in SimControllers.mounted {
                var owner = c
                while owner.name != "/", !owner.controllers.contains(controller),
                    let parent = owner.parentName.flatMap(lookup)
                {
                    owner = parent
                }
                entries.append(.init(controller: name, path: SimCgroupSet.path(name, owner.name), inherited: owner !== c))
            }
            c.cgroupSet = SimCgroupSet(entries)
            c.labelSet = SimLabelSet(c.labels)
        }
    }
}

/// A container's `cgroups` value, precomputed: entries, the LCB message and the Get string.
final class SimCgroupSet: @unchecked Sendable {
    struct Entry {
        let controller: String
        let path: String
        let inherited: Bool
    }

    static let empty = SimCgroupSet([])

    let entries: [Entry]
    let message: Porto_TContainerCgroups
    /// `message` encoded, for ``SimLCBEncoder``.
    let encoded: [UInt8]
    let legacy: String

    init(_ entries: [Entry]) {
        self.entries = entries
        var message = Porto_TContainerCgroups()
        message.cgroup = entries.map { e in
            var cg = Porto_TContainerCgroup()
            cg.controller = e.controller
            cg.path = e.path
            cg.inherited = e.inherited
            return cg
        }
        self.message = message
        encoded = (try? message.serializedBytes(partial: true)) ?? []
        legacy = SimLegacyFormat.map(entries.map { ($0.controller, $0.path) }) { $0 }
    }

    /// Porto's cgroup v1 paths: `/sys/fs/cgroup/<controller>/porto%a%b`; the unified hierarchy
    /// for cgroup2; the mount point itself for "/".
    static func path(_ controller: String, _ owner: String) -> String {
        let mount = controller == "cgroup2" ? "/sys/fs/cgroup/unified" : "/sys/fs/cgroup/\(controller)"
        if owner == "/" { return mount }
        return mount + "/porto%" + owner.split(separator: "/").joined(separator: "%")
    }
}

/// A container's labels, precomputed: sorted entries, the LCB map and the Get string.
final class SimLabelSet: @unchecked Sendable {
    static let empty = SimLabelSet([])

    let entries: [(String, String)]
    let message: Porto_TStringMap
    /// `message` encoded, for ``SimLCBEncoder``.
    let encoded: [UInt8]
    let legacy: String

    init(_ entries: [(String, String)]) {
        self.entries = entries.sorted { simNameLess($0.0, $1.0) }
        var message = Porto_TStringMap()
        message.map = self.entries.map { entry in
            var e = Porto_TStringMap.TStringMapEntry()
            e.key = entry.0
            e.val = entry.1
            return e
        }
        self.message = message
        encoded = (try? message.serializedBytes(partial: true)) ?? []
        legacy = SimLegacyFormat.map(self.entries) { $0 }
    }
}
