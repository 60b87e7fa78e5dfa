/// What to collect: the enabled groups and the container and label selections. Made from the
/// command line by `CollectionOptions` in the executable.
public struct CollectionConfiguration: Sendable, Equatable {
    public var groups: Set<CollectorGroup>
    public var containers: ContainerSelection
    public var labels: LabelSelection

    public init(
        groups: Set<CollectorGroup> = CollectorGroup.defaults,
        containers: ContainerSelection = ContainerSelection(),
        labels: LabelSelection = LabelSelection()
    ) {
        self.groups = groups
        self.containers = containers
        self.labels = labels
    }
}
