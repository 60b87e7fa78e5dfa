/// A metric group that `--collector.<group>` / `--no-collector.<group>` turns on or off.
///
/// Container groups only decide which properties the containers collector asks portod for: a
/// disabled group's properties are not requested at all. `daemon`, `volumes`, `layers` and
/// `storages` are whole collectors, each with its own request.
public enum CollectorGroup: String, Sendable, CaseIterable, Comparable {
    case daemon
    case cpu
    case memory
    case io
    case net
    case pressure
    case process
    case limits
    case state
    case vm
    case volumes
    case layers
    case storages

    /// Whether the group is on without a flag. `vm` (virtual_memory reads /proc/PID/status of every
    /// process in every container, docs/porto.md §7) is off by default.
    public var enabledByDefault: Bool { self != .vm }

    /// The default set of enabled groups.
    public static var defaults: Set<CollectorGroup> { Set(allCases.filter(\.enabledByDefault)) }

    /// Whether the group belongs to the containers collector (one ListContainersBy).
    public var isContainerGroup: Bool {
        switch self {
        case .daemon, .volumes, .layers, .storages: false
        default: true
        }
    }

    /// One line for `--help` and METRICS.md.
    public var summary: String {
        switch self {
        case .daemon: "portod's own counters and gauges (GetSystem), and its request latency histogram"
        case .cpu: "container CPU time: usage, system, wait, throttled, burst, unconstrained wait"
        case .memory: "container memory usage, faults, reclaim and OOM kills"
        case .io: "container disk IO bytes, operations and time per device"
        case .net: "container network bytes, packets, drops and overlimits per interface"
        case .pressure: "container PSI stall time (cpu, memory, io pressure)"
        case .process: "container process and thread counts"
        case .limits: "container memory, CPU and thread limits and guarantees"
        case .state: "container state, lifecycle times, exit code, OOM death, respawns"
        case .vm: "container virtual_memory (sum of /proc/PID/status over its processes; costly)"
        case .volumes: "volume space and inode usage, limit and availability (GetVolume)"
        case .layers: "number of layers (ListLayers)"
        case .storages: "number of storages and meta-storage space/inodes (ListStorages)"
        }
    }

    public static func < (a: CollectorGroup, b: CollectorGroup) -> Bool { a.rawValue < b.rawValue }
}
