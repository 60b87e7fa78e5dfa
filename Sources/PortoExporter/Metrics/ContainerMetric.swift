
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
    public let group: CollectorGroup
    public let field: ContainerField
    public let conversion: Conversion
    /// The controller whose ownership the sample needs (nil: always the container's own value).
    public let controller: Controller?
    /// For maps: which keys are exported (``MapKeys``).
    public let keys: MapKeys
    public let created: CreatedFrom?
    /// The unit written in METRICS.md.
    public let unit: String
    /// Extra notes for METRICS.md.
    public let notes: String

    // Precomputed for the collector's inner loop (one container x one metric).
    /// The ownership bit (``ContainersCollector/bit(_:)``) of `controller`; 0 for none and `netns`.
    let ownershipBit: UInt8
    let isCounter: Bool
    /// The key of ``MapKeys/key(_:)`` as UTF-8, compared with map keys read in place.
    let keyBytes: [UInt8]?

    init(
        _ name: String, _ type: MetricType, property: String, group: CollectorGroup, field: ContainerField,
        unit: String, help: String, conversion: Conversion = .none, controller: Controller? = nil,
        extraLabel: String? = nil, labelNames: [String]? = nil, keys: MapKeys = .every, created: CreatedFrom? = nil, notes: String = ""
    ) {
        self.family = MetricFamily(
            name: name, help: help, type: type,
            labelNames: labelNames ?? ["name"] + (extraLabel.map { [$0] } ?? []), extraLabel: extraLabel)
        self.property = property
        self.group = group
        self.field = field
        self.conversion = conversion
        self.controller = controller
        self.keys = keys
        self.created = created
        self.unit = unit
        self.notes = notes
        self.ownershipBit = ContainersCollector.bit(controller?.cgroupController)
        self.isCounter = type == .counter
        if case .key(let key) = keys { self.keyBytes = Array(key.utf8) } else { self.keyBytes = nil }
    }
}
