/// The resource behind a container metric, for the ownership filter (docs/porto.md §4).
///
/// A nested container that does not own a controller reads its nearest ancestor's cgroup, so its
/// value is the ancestor's, not its own. The containers collector exports a container's sample
/// only if the container owns the controller behind it: `cgroups` (ListContainersBy) marks the
/// controllers it does not own `inherited`. Network metrics follow the network namespace instead.
public enum Controller: String, Sendable {
    case cpuacct
    case cpu
    case memory
    case blkio
    /// Disk keys come from blkio; the `fs` and `total_writeback` keys from memory (docs/porto.md §3.3).
    case blkioOrMemory
    /// The container's network namespace: exported for a container with its own netns, or in the
    /// host netns (per-container socket statistics), dropped when it inherits a parent's netns.
    case netns

    /// The cgroup controller that must be owned for the map key `key`.
    func cgroupController(forKey key: String?) -> String? {
        switch self {
        case .cpuacct: "cpuacct"
        case .cpu: "cpu"
        case .memory: "memory"
        case .blkio: "blkio"
        case .blkioOrMemory: (key == "fs" || key == "total_writeback") ? "memory" : "blkio"
        case .netns: nil
        }
    }

    /// How METRICS.md names it.
    var documentation: String {
        switch self {
        case .blkioOrMemory: "blkio (memory for `fs`)"
        case .netns: "netns"
        default: rawValue
        }
    }
}
