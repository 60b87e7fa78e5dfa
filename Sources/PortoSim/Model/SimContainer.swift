/// How a container is networked (PORTO.md §3.3 Network).
enum SimNet: Equatable {
    /// `net=inherited` (the default): the parent's network namespace.
    case inherited
    /// Its own network namespace, e.g. `L3 veth0`, with these devices inside.
    case own(config: String, devices: [String])
}

/// How a dead container died (PORTO.md §3.3 exit_status/exit_code).
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
struct SimContainer {
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
    /// Counter amounts of descendants that were reset (stopped, destroyed) while this container
    /// kept running: hierarchical counters include them, so they never go down. Slot → amount.
    var carry: [Int: UInt64] = [:]

    /// Whether runtime (RT) properties can be read (PORTO.md §3.2).
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
