/// A volume of the synthetic host (docs/porto.md §6), with the containers it is linked into.
struct SimVolume {
    struct Link {
        var container: String
        var target: String
        var hostTarget: String
        var readOnly: Bool
        var required: Bool
    }

    var id: String
    var path: String
    var backend: String
    var place = "/place"
    var storage = ""
    var layers: [String] = []
    var ownerContainer: String
    var ownerUser = "root"
    var ownerGroup = "root"
    var spaceLimit: UInt64
    var inodeLimit: UInt64
    var spaceGuarantee: UInt64 = 0
    /// Usage when the host was built, and its growth per refresh (60 s).
    var spaceBase: UInt64
    var spaceStep: UInt64
    var inodeBase: UInt64
    var buildTime: UInt64
    var links: [Link]

    /// Backends without a filesystem or quota of their own report the underlying filesystem.
    var sharesHostFS: Bool { ["plain", "bind", "rbind", "dir"].contains(backend) || (backend == "overlay" && spaceLimit == 0) }

    static let hostFSSize: UInt64 = 480 << 30
    static let hostFSUsed: UInt64 = 19_137_552_384
    static let hostFSInodes: UInt64 = 31_457_280

    /// (space used, space available, inodes used, inodes available) at `now`. Figures are cached by
    /// portod and refreshed once a minute (docs/porto.md §6), so they move in 60-second steps.
    func usage(now: UInt64, start: UInt64) -> (UInt64, UInt64, UInt64, UInt64) {
        let refreshes = (now > start ? now - start : 0) / 60
        if sharesHostFS {
            let used = Self.hostFSUsed + refreshes * 4096 * 1024
            return (used, Self.hostFSSize - min(used, Self.hostFSSize), 1_210_000 + refreshes * 40, Self.hostFSInodes - 1_210_000 - refreshes * 40)
        }
        let used = min(spaceLimit, spaceBase + refreshes * spaceStep)
        let inodes = min(inodeLimit, inodeBase + refreshes * 3)
        return (used, spaceLimit - used, inodes, inodeLimit - inodes)
    }

    /// Volumes for the containers: a few fixed ones (one linked at two paths), then one per ten
    /// containers.
    static func make(topology: SimTopology, containers: [SimContainer]) -> [SimVolume] {
        var rng = SimRandom(seed: topology.seed, stream: 3)
        let gib: UInt64 = 1 << 30
        let names = Set(containers.map(\.name))
        func link(_ container: String, _ target: String, _ host: String, readOnly: Bool = false) -> Link {
            Link(container: container, target: target, hostTarget: host, readOnly: readOnly, required: false)
        }
        var list: [SimVolume] = []
        let owner = names.contains("web") ? "web" : "/"
        list.append(SimVolume(
            id: "1", path: "/place/porto_volumes/1/volume", backend: "overlay", layers: ["ubuntu-jammy", "app-web"],
            ownerContainer: owner, spaceLimit: 10 * gib, inodeLimit: 1_000_000, spaceBase: 3 * gib,
            spaceStep: 1 << 20, inodeBase: 120_000, buildTime: topology.boot + 600,
            links: [link(owner, "/", "/place/porto_volumes/1/volume")]))
        // Linked at two paths: ListVolumes and GetVolume return it twice (deduplicate by id).
        let db = names.contains("db") ? "db" : "/"
        list.append(SimVolume(
            id: "2", path: "/place/porto_volumes/2/volume", backend: "quota", storage: "db-data",
            ownerContainer: db, spaceLimit: 50 * gib, inodeLimit: 5_000_000, spaceGuarantee: 20 * gib,
            spaceBase: 41 * gib, spaceStep: 8 << 20,
            inodeBase: 1_000, buildTime: topology.boot + 900,
            links: [
                link(db, "/var/lib/db", "/place/porto_volumes/2/volume"),
                link(names.contains("db/replica") ? "db/replica" : db, "/var/lib/replica", "/srv/db-shared", readOnly: true),
            ]))
        list.append(SimVolume(
            id: "3", path: "/srv/logs", backend: "bind", ownerContainer: "/", spaceLimit: 0, inodeLimit: 0,
            spaceBase: 0, spaceStep: 0, inodeBase: 0, buildTime: topology.boot + 30,
            links: [link("/", "/srv/logs", "/srv/logs")]))
        list.append(SimVolume(
            id: "4", path: "/place/porto_volumes/4/volume", backend: "tmpfs", ownerContainer: "/",
            spaceLimit: 1 * gib, inodeLimit: 0, spaceBase: 0, spaceStep: 0, inodeBase: 0,
            buildTime: topology.boot + 40, links: []))
        let extra = max(0, containers.count / 10)
        for k in 0..<extra {
            let c = containers[1 + Int(rng.next() % UInt64(containers.count - 1))]
            let id = String(5 + k)
            let limit = rng.next(in: 1...20) * gib
            list.append(SimVolume(
                id: id, path: "/place/porto_volumes/\(id)/volume", backend: rng.pick(["overlay", "quota", "native", "loop"]),
                layers: ["ubuntu-jammy"], ownerContainer: c.name, ownerUser: c.ownerUser, ownerGroup: c.ownerGroup,
                spaceLimit: limit, inodeLimit: 1_000_000, spaceBase: rng.next(in: 0...limit / 2),
                spaceStep: rng.next(in: 0...(4 << 20)), inodeBase: rng.next(in: 100...50_000),
                buildTime: c.creationTime, links: [link(c.name, "/data", "/place/porto_volumes/\(id)/volume")]))
        }
        return list
    }
}
