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
    /// The container's network namespace: exported for a container with its own netns, or in the
    /// host netns (per-container socket statistics), dropped when it inherits a parent's netns.
    case netns

    /// The cgroup controller that must be owned.
    var cgroupController: String? {
        switch self {
        case .cpuacct: "cpuacct"
        case .cpu: "cpu"
        case .memory: "memory"
        case .blkio: "blkio"
        case .netns: nil
        }
    }

    /// How METRICS.md names it.
    var documentation: String {
        switch self {
        case .netns: "netns"
        default: rawValue
        }
    }
}
