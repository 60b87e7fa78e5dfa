import PortoWire

/// Where a container metric's value sits in a `TContainer` (ListContainersBy's typed answer), and
/// how its unit is converted.
///
/// Each case names the field by its protobuf field number in `TContainerStatus` or
/// `TContainerSpec` (in `TVmStat` for `vm`): the collector reads the value straight from the
/// answer's wire bytes by that number (``ContainerReader``). The key path is the same field in the
/// generated message, used only to *set* it on the legacy path, which parses Get's strings into a
/// `TContainer` (``LegacyContainerReader``) and serialises it for the same reader, so that both
/// paths read one way. MetricTableTests checks that each number is its key path's field.
public enum ContainerField: @unchecked Sendable {
    /// A uint64 of TContainerStatus.
    case status(Int, WritableKeyPath<Porto_TContainerStatus, UInt64>)
    /// A uint64 of TContainerSpec.
    case spec(Int, WritableKeyPath<Porto_TContainerSpec, UInt64>)
    /// A double of TContainerStatus, in cores.
    case statusCores(Int, WritableKeyPath<Porto_TContainerStatus, Double>)
    /// A double of TContainerSpec, in cores.
    case specCores(Int, WritableKeyPath<Porto_TContainerSpec, Double>)
    case statusInt(Int, WritableKeyPath<Porto_TContainerStatus, Int32>)
    case statusBool(Int, WritableKeyPath<Porto_TContainerStatus, Bool>)
    /// A `TUintMap` of TContainerStatus: one series per key, the key in the metric's extra label.
    case map(Int, WritableKeyPath<Porto_TContainerStatus, Porto_TUintMap>)
    /// One key of `virtual_memory` (TVmStat): its field number in TVmStat.
    case vm(Int, WritableKeyPath<Porto_TVmStat, UInt64>, key: String)
    /// `state`: one series per known state, 1 for the current one.
    case state
    /// `start_error` (TError): 1 when portod reports a start error, 0 otherwise.
    case startFailed
    /// `start_error`: the Porto error name in the extra label, value 1; never the message, which
    /// can hold the command line.
    case startErrorName
    /// `cgroups`: for each controller the ownership filter uses, the container owning it.
    case controllerOwners

    /// The field read in `TContainer` (for `vm`, `virtual_memory` itself), and its wire kind.
    public var wire: (message: ContainerReader.Message, number: Int, kind: ContainerReader.Kind) {
        switch self {
        case .status(let n, _), .statusInt(let n, _), .statusBool(let n, _): (.status, n, .varint)
        case .spec(let n, _): (.spec, n, .varint)
        case .statusCores(let n, _): (.status, n, .fixed64)
        case .specCores(let n, _): (.spec, n, .fixed64)
        case .map(let n, _): (.status, n, .lengthDelimited)
        case .vm: (.status, ContainerField.virtualMemory, .lengthDelimited)
        case .state: (.status, ContainerField.stateNumber, .lengthDelimited)
        case .startFailed, .startErrorName: (.status, ContainerField.startErrorNumber, .lengthDelimited)
        case .controllerOwners: (.status, ContainerField.cgroupsNumber, .lengthDelimited)
        }
    }

    /// TContainerStatus field numbers the collector reads besides the table's.
    static let stateNumber = 2
    static let virtualMemory = 49
    static let startErrorNumber = 11
    static let cgroupsNumber = 24
}

/// The unit conversion from Porto's value to the exported base unit.
public enum Conversion: Sendable {
    case none
    case nanosecondsToSeconds
    case microsecondsToSeconds

    func value(_ v: UInt64) -> SampleValue {
        switch self {
        case .none: .uint(v)
        case .nanosecondsToSeconds: .seconds(nanoseconds: v)
        case .microsecondsToSeconds: .seconds(microseconds: v)
        }
    }

    var porto: String {
        switch self {
        case .none: ""
        case .nanosecondsToSeconds: "ns"
        case .microsecondsToSeconds: "µs"
        }
    }
}

/// Which time a counter's `_created` (OpenMetrics) is taken from (docs/porto.md §3.4).
public enum CreatedFrom: Sendable {
    /// cgroup counters: restart from 0 at stop+start, carry on through a respawn (portod keeps
    /// the cgroups), so `_created` is the start that created the cgroups.
    case cgroup
    /// Network namespace device counters: the netns is recreated at every start and respawn, so
    /// `_created` is `start_time`.
    case netns
    /// Counters kept since the container was created (`oom_kills_total`, `respawn_count`).
    case creationTime
}

/// Which keys of a `TUintMap` property a metric exports, so that a sum over the metric's extra
/// label counts each byte once: portod puts summaries (`hw`, `fs`, `Uplink`, `group X`,
/// `SockDiag`) in the same map as the devices they sum (docs/porto.md §3.3).
public enum MapKeys: Sendable, Equatable {
    /// Every key, in the extra label (pressure: `some`, `full`).
    case every
    /// One key, no extra label (`fs`, `total_writeback`, `Uplink`).
    case key(String)
    /// `hw` (portod's sum over sd*, nvme*, vd*), or the sum of those keys when `hw` is absent.
    case diskTotal
    /// The keys `hw` sums: sd*, nvme*, vd*; `device` label.
    case physicalDisks
    /// Every other device (md*, dm-*, …): stacked on the physical disks, the same bytes again.
    case stackedDevices
    /// Network devices: every key but `Uplink`, `group X`, `SockDiag` and `Latency`.
    case interfaces
    /// The `group X` keys (device groups of /etc/iproute2/group), `group` label = X.
    case groups

    /// Whether `key` is a disk `hw` sums (docs/porto.md §3.3 Disk IO).
    static func isPhysicalDisk(_ key: String) -> Bool {
        key.hasPrefix("sd") || key.hasPrefix("nvme") || key.hasPrefix("vd")
    }

    /// Whether `key` is a summary or gauge key of the io maps rather than a device.
    static func isIOSummary(_ key: String) -> Bool {
        key == "hw" || key == "fs" || key == "total_writeback"
    }

    /// Whether `key` is a summary or gauge key of the net maps rather than a device.
    static func isNetSummary(_ key: String) -> Bool {
        key == "Uplink" || key == "SockDiag" || key == "Latency" || key.hasPrefix("group ")
    }

    /// The extra label value of `key`, or nil when the key is not exported by this selection
    /// (for ``key(_:)`` and ``diskTotal``, which have no extra label, nil as well).
    func label(for key: String) -> String? {
        switch self {
        case .every: key
        case .key, .diskTotal: nil
        case .physicalDisks: Self.isPhysicalDisk(key) ? key : nil
        case .stackedDevices: !Self.isPhysicalDisk(key) && !Self.isIOSummary(key) ? key : nil
        case .interfaces: Self.isNetSummary(key) ? nil : key
        case .groups: key.hasPrefix("group ") ? String(key.dropFirst(6)) : nil
        }
    }
}

extension Porto_EError {
    /// portod's name of the error (`InvalidCommand`), as in its messages and `rpc.proto`.
    var portoName: String {
        let swiftName = String(describing: self)
        return swiftName.prefix(1).uppercased() + swiftName.dropFirst()
    }

    /// The error named `name` (`InvalidCommand`), if it is one portod defines.
    init?(portoName name: String) {
        guard let match = Self.allCases.first(where: { $0.portoName == name }) else { return nil }
        self = match
    }
}

extension CreatedFrom {
    /// How METRICS.md describes it.
    var documentation: String {
        switch self {
        case .cgroup: "the start that created the cgroups (kept through respawns)"
        case .netns: "start_time"
        case .creationTime: "creation_time"
        }
    }
}
