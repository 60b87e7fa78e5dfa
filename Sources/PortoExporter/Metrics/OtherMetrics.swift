import PortoWire

/// Container metadata families: not read from one property, so not in ``ContainerMetrics/all``.
public enum ContainerMetadataMetrics {
    /// `porto_container_info{name,parent,level} 1`: safe, low-cardinality metadata derived from the
    /// container's name (never env, env_secret, command lines or other spec strings).
    public static let info = MetricFamily(
        name: "porto_container_info",
        help: "Container metadata as labels (parent is \"\" for \"/\" and \"/\" for first-level containers); the value is 1.",
        type: .gauge, labelNames: ["name", "parent", "level"])

    /// `porto_container_labels{name,label_<key>=...} 1`, only for label keys allowed by
    /// `--container.labels`.
    public static let labels = MetricFamily(
        name: "porto_container_labels",
        help: "Porto labels of the container allowed by --container.labels, as label_<key> labels; the value is 1.",
        type: .gauge, labelNames: ["name"])
}

/// Container families read from `memory.stat` rather than from one property: not in
/// ``ContainerMetrics/all``.
public enum MemoryStatMetrics {
    /// Usage less inactive file pages, as cAdvisor's `container_memory_working_set_bytes`.
    public static let workingSet = MetricFamily(
        name: "porto_container_memory_working_set_bytes",
        help: "Memory used by the container and its descendants less inactive file pages (memory_usage - total_inactive_file, as cAdvisor computes it), in bytes.",
        type: .gauge, labelNames: ["name"])
}

/// One `porto_volume_*` value metric: its family, where it is read, and its METRICS.md source.
public struct VolumeMetric: Sendable {
    public let family: MetricFamily
    /// The GetVolume field and the ListVolumes key, for METRICS.md.
    public let source: String
    let read: @Sendable (VolumesCollector.Volume) -> UInt64?
}

/// `porto_volume_*`: one series per volume (deduplicated by id). Value series carry only `path`,
/// so that a state change or a relabelling never starts a new series; what describes the volume
/// is in `porto_volume_info`, its state in the one-hot `porto_volume_state`.
public enum VolumeMetrics {
    public static let all: [VolumeMetric] = [
        bytes("porto_volume_space_usage_bytes", "`space.usage` (`space_used`)", "Space used on the volume, in bytes (cached by portod, up to a minute old; for backends without their own filesystem or quota, the whole underlying filesystem).") { $0.space.flatMap { $0.hasUsage ? $0.usage : nil } },
        bytes("porto_volume_space_limit_bytes", "`space.limit` (`space_limit`)", "Space limit of the volume (0: none), in bytes.") { $0.space.flatMap { $0.hasLimit ? $0.limit : nil } },
        bytes("porto_volume_space_available_bytes", "`space.available` (`space_available`)", "Space available on the volume, in bytes (cached by portod, up to a minute old).") { $0.space.flatMap { $0.hasAvailable ? $0.available : nil } },
        bytes("porto_volume_inodes_usage", "`inodes.usage` (`inode_used`)", "Inodes used on the volume (cached by portod, up to a minute old).") { $0.inodes.flatMap { $0.hasUsage ? $0.usage : nil } },
        bytes("porto_volume_inodes_limit", "`inodes.limit` (`inode_limit`)", "Inode limit of the volume (0: none).") { $0.inodes.flatMap { $0.hasLimit ? $0.limit : nil } },
        bytes("porto_volume_inodes_available", "`inodes.available` (`inode_available`)", "Inodes available on the volume (cached by portod, up to a minute old).") { $0.inodes.flatMap { $0.hasAvailable ? $0.available : nil } },
    ]

    /// `porto_volume_info{path,backend,owner_container,place} 1`.
    public static let info = MetricFamily(
        name: "porto_volume_info",
        help: "Volume metadata as labels (owner_container is the container that owns it, \"/\" for the host); the value is 1.",
        type: .gauge, labelNames: ["path", "backend", "owner_container", "place"])

    /// `porto_volume_state{path,state}`: 1 for the current state, 0 for the others.
    public static let state = MetricFamily(
        name: "porto_volume_state", help: "Volume state: 1 for the current state, 0 for the others.",
        type: .gauge, labelNames: ["path", "state"], extraLabel: "state")

    /// Every volume state portod reports (docs/porto.md §6).
    public static let states = ["initial", "building", "ready", "tuning", "unlinked", "to-destroy", "destroying", "destroyed"]

    private static func bytes(_ name: String, _ source: String, _ help: String, _ read: @escaping @Sendable (VolumesCollector.Volume) -> UInt64?) -> VolumeMetric {
        VolumeMetric(family: MetricFamily(name: name, help: help, type: .gauge, labelNames: ["path"]), source: source, read: read)
    }
}

/// One unlabelled count gauge read from a list response (ListLayers, ListStorages).
public struct CountMetric<Response>: Sendable {
    public let family: MetricFamily
    /// The RPC and what it counts, for METRICS.md.
    public let source: String
    let count: @Sendable (Response) -> Int
}

/// Layers and storages (ListLayers, ListStorages in the default place).
public enum StorageMetrics {
    /// The ListLayers counts.
    public static let layerCounts: [CountMetric<Porto_TListLayersResponse>] = [
        // `layers` (with descriptions) since 4.x; `layer` (names only) on older daemons.
        count("porto_layers", "ListLayers: number of layers", "Layers in portod's default place.") { $0.layers.isEmpty ? $0.layer.count : $0.layers.count },
    ]

    /// The ListStorages counts.
    public static let storageCounts: [CountMetric<Porto_TListStoragesResponse>] = [
        count("porto_storages", "ListStorages: number of storages", "Storages in portod's default place, meta storages not included.") { $0.storages.count },
        count("porto_meta_storages", "ListStorages: number of meta storages", "Meta storages in portod's default place.") { $0.metaStorages.count },
    ]

    /// Every count family, in METRICS.md order.
    public static var countFamilies: [MetricFamily] { layerCounts.map(\.family) + storageCounts.map(\.family) }

    /// The meta storage figures, one entry per family (read live from the project quota).
    public static let metaAll: [StorageMetric] = [
        meta("porto_meta_storage_space_usage_bytes", "space_used", "Space used by the meta storage (project quota, read live), in bytes.") { $0.hasSpaceUsed ? $0.spaceUsed : nil },
        meta("porto_meta_storage_space_limit_bytes", "space_limit", "Space limit of the meta storage, in bytes.") { $0.hasSpaceLimit ? $0.spaceLimit : nil },
        meta("porto_meta_storage_space_available_bytes", "space_available", "Space available to the meta storage, in bytes.") { $0.hasSpaceAvailable ? $0.spaceAvailable : nil },
        meta("porto_meta_storage_inodes_usage", "inode_used", "Inodes used by the meta storage.") { $0.hasInodeUsed ? $0.inodeUsed : nil },
        meta("porto_meta_storage_inodes_limit", "inode_limit", "Inode limit of the meta storage.") { $0.hasInodeLimit ? $0.inodeLimit : nil },
        meta("porto_meta_storage_inodes_available", "inode_available", "Inodes available to the meta storage.") { $0.hasInodeAvailable ? $0.inodeAvailable : nil },
    ]

    private static func count<R>(_ name: String, _ source: String, _ help: String, _ count: @escaping @Sendable (R) -> Int) -> CountMetric<R> {
        CountMetric(family: MetricFamily(name: name, help: help, type: .gauge), source: source, count: count)
    }

    private static func meta(_ name: String, _ field: String, _ help: String, _ read: @escaping @Sendable (Porto_TMetaStorage) -> UInt64?) -> StorageMetric {
        StorageMetric(family: MetricFamily(name: name, help: help, type: .gauge, labelNames: ["name"]), field: field, read: read)
    }
}

/// One `porto_meta_storage_*` metric: its family and the ListStorages meta storage field it reads.
public struct StorageMetric: Sendable {
    public let family: MetricFamily
    public let field: String
    let read: @Sendable (Porto_TMetaStorage) -> UInt64?
}

/// The exporter's own metrics about a collection, written by ``CollectorSet``.
public enum ExporterMetrics {
    public static let up = MetricFamily(
        name: "porto_up", help: "Whether portod answered during the last collection (1) or could not be reached (0).", type: .gauge)
    public static let collectorSuccess = MetricFamily(
        name: "porto_exporter_collector_success", help: "Whether the collector's requests to portod succeeded (1) or not (0).",
        type: .gauge, labelNames: ["collector"], extraLabel: "collector")
    public static let collectorDuration = MetricFamily(
        name: "porto_exporter_collector_duration_seconds", help: "Time the collector took in the last collection, in seconds.",
        type: .gauge, labelNames: ["collector"], extraLabel: "collector")
    public static let portodRequests = MetricFamily(
        name: "porto_exporter_portod_requests_total", help: "Requests the collectors sent to portod, by RPC method.",
        type: .counter, labelNames: ["method"])
    public static let portodRequestFailures = MetricFamily(
        name: "porto_exporter_portod_request_failures_total",
        help: "Requests to portod that failed, by RPC method and reason: socket, timeout, decode, or the name of the Porto error portod answered (Unknown, Busy, ...).",
        type: .counter, labelNames: ["method", "reason"])
    public static let valuesAge = MetricFamily(
        name: "porto_exporter_values_age_seconds",
        help: "Age of the oldest values of a container group read at a slower cadence (process, io, pressure), in seconds.",
        type: .gauge, labelNames: ["group"], extraLabel: "group")
}
