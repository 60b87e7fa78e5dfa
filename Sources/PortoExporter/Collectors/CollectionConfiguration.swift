/// What to collect: the enabled groups and the container and label selections. Made from the
/// command line by `CollectionOptions` in the executable.
public struct CollectionConfiguration: Sendable, Equatable {
    public var groups: Set<CollectorGroup>
    public var containers: ContainerSelection
    public var labels: LabelSelection
    /// Whether container counters carry `_created` in OpenMetrics answers
    /// (`--web.enable-openmetrics-text-created-samples`). Off by default, as in client_golang:
    /// Prometheus 2.x stores each `_created` as a series of its own.
    public var createdSamples: Bool

    public init(
        groups: Set<CollectorGroup> = CollectorGroup.defaults,
        containers: ContainerSelection = ContainerSelection(),
        labels: LabelSelection = LabelSelection(),
        createdSamples: Bool = false
    ) {
        self.groups = groups
        self.containers = containers
        self.labels = labels
        self.createdSamples = createdSamples
    }
}
