import PortoWire

/// Where a container metric's value sits in a `TContainer` (ListContainersBy's typed answer), and
/// how its unit is converted. The legacy `Get` path decodes Porto's strings into the same
/// `TContainer` fields (``LegacyContainerReader``), so both paths share this one reading.
///
/// Each case holds a `read` closure (nil when the field is unset) used for every sample, and the
/// field's key path, used only to *set* it on the legacy path. Reading through a key path is a
/// generic runtime projection (about a hundred instructions and a metadata lookup per sample,
/// BENCHMARKS.md "What the profile showed"); a closure over the generated accessors is a call.
public enum ContainerField: @unchecked Sendable {
    case status(WritableKeyPath<Porto_TContainerStatus, UInt64>, read: @Sendable (Porto_TContainerStatus) -> UInt64?)
    case spec(WritableKeyPath<Porto_TContainerSpec, UInt64>, read: @Sendable (Porto_TContainerSpec) -> UInt64?)
    case statusCores(WritableKeyPath<Porto_TContainerStatus, Double>, read: @Sendable (Porto_TContainerStatus) -> Double?)
    case specCores(WritableKeyPath<Porto_TContainerSpec, Double>, read: @Sendable (Porto_TContainerSpec) -> Double?)
    case statusInt(WritableKeyPath<Porto_TContainerStatus, Int32>, read: @Sendable (Porto_TContainerStatus) -> Int32?)
    case statusBool(WritableKeyPath<Porto_TContainerStatus, Bool>, read: @Sendable (Porto_TContainerStatus) -> Bool?)
    /// A `TUintMap`: one series per key, the key in the metric's extra label.
    case map(WritableKeyPath<Porto_TContainerStatus, Porto_TUintMap>, read: @Sendable (Porto_TContainerStatus) -> Porto_TUintMap?)
    /// One key of `virtual_memory` (TVmStat).
    case vm(WritableKeyPath<Porto_TVmStat, UInt64>, read: @Sendable (Porto_TVmStat) -> UInt64?, key: String)
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
    /// cgroup counters restart from 0 when the container starts (docs/porto.md §3.4).
    case startTime
    /// Counters kept since the container was created (`oom_kills_total`, `respawn_count`).
    case creationTime
}
