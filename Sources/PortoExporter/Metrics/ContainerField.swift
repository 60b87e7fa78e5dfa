import PortoWire

/// Where a container metric's value sits in a `TContainer` (ListContainersBy's typed answer), and
/// how its unit is converted. The legacy `Get` path decodes Porto's strings into the same
/// `TContainer` fields (``LegacyValueParser``), so both paths share this one reading.
public enum ContainerField: @unchecked Sendable {
    case status(WritableKeyPath<Porto_TContainerStatus, UInt64>, has: KeyPath<Porto_TContainerStatus, Bool>)
    case spec(WritableKeyPath<Porto_TContainerSpec, UInt64>, has: KeyPath<Porto_TContainerSpec, Bool>)
    case statusCores(WritableKeyPath<Porto_TContainerStatus, Double>, has: KeyPath<Porto_TContainerStatus, Bool>)
    case specCores(WritableKeyPath<Porto_TContainerSpec, Double>, has: KeyPath<Porto_TContainerSpec, Bool>)
    case statusInt(WritableKeyPath<Porto_TContainerStatus, Int32>, has: KeyPath<Porto_TContainerStatus, Bool>)
    case statusBool(WritableKeyPath<Porto_TContainerStatus, Bool>, has: KeyPath<Porto_TContainerStatus, Bool>)
    /// A `TUintMap`: one series per key, the key in the metric's extra label.
    case map(WritableKeyPath<Porto_TContainerStatus, Porto_TUintMap>, has: KeyPath<Porto_TContainerStatus, Bool>)
    /// One key of `virtual_memory` (TVmStat).
    case vm(WritableKeyPath<Porto_TVmStat, UInt64>, has: KeyPath<Porto_TVmStat, Bool>, key: String)
    /// `state`: one series per known state, 1 for the current one.
    case state
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

/// Which time a counter's `_created` (OpenMetrics) is taken from.
public enum CreatedFrom: Sendable {
    /// cgroup counters restart from 0 when the container starts (PORTO.md 3.4).
    case startTime
    /// Counters kept since the container was created (`oom_kills_total`, `respawn_count`).
    case creationTime
}
