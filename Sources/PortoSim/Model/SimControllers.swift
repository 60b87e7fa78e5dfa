/// A set of cgroup controllers, as in the `controllers` property (docs/porto.md §3.3, §4).
struct SimControllers: OptionSet, Sendable, Hashable {
    let rawValue: UInt16

    static let freezer = SimControllers(rawValue: 1 << 0)
    static let memory = SimControllers(rawValue: 1 << 1)
    static let cpu = SimControllers(rawValue: 1 << 2)
    static let cpuacct = SimControllers(rawValue: 1 << 3)
    static let netCls = SimControllers(rawValue: 1 << 4)
    static let blkio = SimControllers(rawValue: 1 << 5)
    static let devices = SimControllers(rawValue: 1 << 6)
    static let hugetlb = SimControllers(rawValue: 1 << 7)
    static let cpuset = SimControllers(rawValue: 1 << 8)
    static let pids = SimControllers(rawValue: 1 << 9)
    static let perfEvent = SimControllers(rawValue: 1 << 10)
    static let cgroup2 = SimControllers(rawValue: 1 << 11)

    /// Every controller with its Porto name, in the order portod lists them.
    static let named: [(SimControllers, String)] = [
        (.freezer, "freezer"), (.memory, "memory"), (.cpu, "cpu"), (.cpuacct, "cpuacct"),
        (.netCls, "net_cls"), (.blkio, "blkio"), (.devices, "devices"), (.hugetlb, "hugetlb"),
        (.cpuset, "cpuset"), (.pids, "pids"), (.perfEvent, "perf_event"), (.cgroup2, "cgroup2"),
    ]

    /// The controllers that appear in the `cgroups` property: the mounted ones (net_cls is off by
    /// default since 5.0.31, docs/porto.md §3.3).
    static let mounted: [(SimControllers, String)] = named.filter { $0.0 != .netCls }

    /// What "/" owns: everything that is mounted.
    static let root: SimControllers = [
        .freezer, .memory, .cpu, .cpuacct, .blkio, .devices, .hugetlb, .cpuset, .pids, .perfEvent, .cgroup2,
    ]
    /// What a first-level container owns (docs/porto.md §4).
    static let firstLevel: SimControllers = root
    /// What a deeper container owns unless a limit or `controllers=` adds more (docs/porto.md §4).
    static let nested: SimControllers = [.freezer, .perfEvent, .cgroup2]

    var names: [String] {
        Self.named.compactMap { contains($0.0) ? $0.1 : nil }
    }
}
