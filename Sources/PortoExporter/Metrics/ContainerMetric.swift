import PortoWire

/// One exported container metric: everything about it in one declaration. The property list sent
/// to portod, the HELP/TYPE lines, the samples and METRICS.md are all derived from
/// ``ContainerMetrics/all``.
///
/// A class: the collector walks the table once per container, and a struct this size would be
/// copied (every field retained and released) for each container x metric.
public final class ContainerMetric: Sendable {
    /// The family (name, HELP, type, labels: `name` plus the extra label of maps).
    public let family: MetricFamily
    /// The Porto property read (the ListContainersBy property name).
    public let property: String
    /// The variable asked from `Get` on the legacy path (`start_time[raw]` for times).
    public let legacyVariable: String
    public let group: CollectorGroup
    public let field: ContainerField
    public let conversion: Conversion
    /// The controller whose ownership the sample needs (nil: always the container's own value).
    public let controller: Controller?
    /// Map keys that are not exported by this metric (for example `total_writeback`, a gauge).
    public let excludedKeys: Set<String>
    /// For maps: the only key exported (a gauge taken out of a counter map).
    public let onlyKey: String?
    public let created: CreatedFrom?
    /// The unit written in METRICS.md.
    public let unit: String
    /// Extra notes for METRICS.md.
    public let notes: String

    // Precomputed for the collector's inner loop (one container x one metric).
    /// The ownership bit (``ContainersCollector/bit(_:)``) of `controller`; 0 for none, `netns`
    /// and `blkioOrMemory` (whose bit depends on the map key).
    let ownershipBit: UInt8
    let isCounter: Bool
    /// `excludedKeys` as an array: a few string comparisons are cheaper than hashing.
    let excludedKeyList: [String]

    init(
        _ name: String, _ type: MetricType, property: String, group: CollectorGroup, field: ContainerField,
        unit: String, help: String, conversion: Conversion = .none, controller: Controller? = nil,
        extraLabel: String? = nil, excludedKeys: Set<String> = [], onlyKey: String? = nil,
        created: CreatedFrom? = nil, legacyVariable: String? = nil, notes: String = ""
    ) {
        self.family = MetricFamily(
            name: name, help: help, type: type,
            labelNames: ["name"] + (extraLabel.map { [$0] } ?? []), extraLabel: extraLabel)
        self.property = property
        self.legacyVariable = legacyVariable ?? property
        self.group = group
        self.field = field
        self.conversion = conversion
        self.controller = controller
        self.excludedKeys = excludedKeys
        self.onlyKey = onlyKey
        self.created = created
        self.unit = unit
        self.notes = notes
        self.ownershipBit = controller == .blkioOrMemory ? 0 : ContainersCollector.bit(controller?.cgroupController(forKey: nil))
        self.isCounter = type == .counter
        self.excludedKeyList = excludedKeys.sorted()
    }
}
