/// How the synthetic host is built. Two hosts built with equal options (and clocks that read the
/// same) give identical answers to identical request sequences.
public struct SimOptions: Sendable {
    /// Number of containers besides the root "/". The first ~20 are a hand-made showcase that
    /// covers every state and every awkward case (see `SimTopology`); the rest are generated from
    /// the seed.
    public var containers = 50
    /// Seed of every generated name, rate and value.
    public var seed: UInt64 = 1
    /// When true, some first-level containers are destroyed and replaced every few seconds.
    public var churn = false
    /// When true, the host behaves like a portod older than 5.0: `ListContainersBy`,
    /// `CreateFromSpec` and `UpdateFromSpec` get `InvalidMethod` "invalid RPC method".
    public var legacy = false
    /// When true, the host behaves like a portod older than 4.6.0 (docs/porto.md §8), which implies
    /// `legacy`: `GetSystem` (and every other RPC added since: `AsyncWait`, `NewVolume`,
    /// `GetVolume`, the spec RPCs) gets `InvalidMethod` "invalid RPC method"; the daemon's
    /// counters are read from `Get ["/"] ["porto_stat"]`, whose keys are those of that version
    /// (`restarts` for `porto_starts`, no `fatals`, no spec request counters); `Version` answers
    /// ``SimHost/tagBeforeGetSystem``. Properties stay those of 5.3.59.
    public var noGetSystem = false
    /// When true, the memory controller is on cgroup v2: `memory.stat` has v2 keys (`anon`,
    /// `file`, ..., no `total_` prefix) and memory_reclaimed is 0 (docs/porto.md §3.3, §7.1).
    public var cgroupV2 = false
    /// Properties this portod does not know (an older one): `InvalidProperty` in Get, a
    /// `status.error` entry in ListContainersBy, left out of ListProperties (docs/porto.md §8).
    public var unknownProperties: Set<String> = []
    /// Where time comes from.
    public var clock: SimClock = .system

    public init(
        containers: Int = 50, seed: UInt64 = 1, churn: Bool = false, legacy: Bool = false,
        noGetSystem: Bool = false, cgroupV2: Bool = false, unknownProperties: Set<String> = [],
        clock: SimClock = .system
    ) {
        self.containers = containers
        self.seed = seed
        self.churn = churn
        self.legacy = legacy
        self.noGetSystem = noGetSystem
        self.cgroupV2 = cgroupV2
        self.unknownProperties = unknownProperties
        self.clock = clock
    }
}
