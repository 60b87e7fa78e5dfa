/// Builds the synthetic host's containers from the options: a hand-made showcase first (every
/// state, the nested double-count trap, awkward labels and names, huge counters, zeros), then
/// containers generated from the seed, then (with churn) the rotating slots.
struct SimTopology {
    static let hostCPUs = 16
    static let hostMemory: UInt64 = 64 << 30
    static let hostHugetlb: UInt64 = 2 << 30
    static let gib: UInt64 = 1 << 30
    static let mib: UInt64 = 1 << 20
    /// Seconds between two churn steps; each step replaces the container of one slot.
    static let churnPeriod: UInt64 = 3

    let seed: UInt64
    let start: UInt64
    let boot: UInt64
    var containers: [SimContainer] = []
    /// Number of churn slots (first-level containers that are replaced in turn).
    var churnSlots = 0

    init(options: SimOptions, now: UInt64) {
        seed = options.seed
        start = now
        var rng = SimRandom(seed: seed, stream: 1)
        boot = now - (3 * 86_400 + rng.next(in: 0...86_400))
        let total = max(0, options.containers)
        churnSlots = options.churn && total > 0 ? max(1, min(20, total / 10)) : 0
        let staticCount = total - churnSlots

        containers.append(makeRoot())
        var showcase = makeShowcase()
        if showcase.count > staticCount { showcase.removeLast(showcase.count - staticCount) }
        containers += showcase
        var index: UInt64 = 0
        while containers.count - 1 < staticCount {
            containers += makeGenerated(index: index, budget: staticCount - (containers.count - 1))
            index += 1
        }
        for i in containers.indices { containers[i].id = UInt64(i + 1) }
        containers.sort { simNameLess($0.name, $1.name) }
        computeOOMTotals()
        var byName: [String: SimContainer] = [:]
        for c in containers { byName[c.name] = c }
        SimContainer.precompute(containers) { byName[$0] }
    }

    // MARK: - Root

    private func makeRoot() -> SimContainer {
        let root = SimContainer(
            name: "/", id: 1, level: 0, parentName: nil, state: .meta, command: "",
            controllers: .root, creationTime: boot, startTime: boot, changeTime: boot)
        root.memoryLimit = Self.hostMemory - Self.hostHugetlb
        root.cpuLimit = Double(Self.hostCPUs)
        root.cpuGuarantee = Double(Self.hostCPUs)
        root.hugetlbLimit = Self.hostHugetlb
        root.rootPid = 1
        root.oomKills = 0
        // Host-wide activity outside porto containers (kernel threads, system services).
        var profile = SimProfile()
        profile.cpuRate = 1_300_000_000
        profile.systemPermille = 350
        profile.minorFaultRate = 20_000
        profile.majorFaultRate = 12
        profile.reclaimRate = 4096 * 900
        profile.pressureRate = 30_000
        profile.memory = 6 * Self.gib
        profile.shmem = 300 * Self.mib
        profile.mlock = 40 * Self.mib
        profile.writeback = 12 * Self.mib
        profile.processes = 240
        profile.threads = 1_100
        profile.diskMask = 0b11111
        profile.ioReadRate = 3_000_000
        profile.ioWriteRate = 5_000_000
        profile.fsRate = 2_000_000
        profile.netRate = 25_000_000
        root.profile = profile
        return root
    }

    // MARK: - Showcase

    /// Awkward label values: quotes, backslashes, newlines, colons, non-ASCII text. portod 5.3.59
    /// refuses most of these with `InvalidLabel` (docs/porto.md §3.3), but older and newer daemons do
    /// not, and the exporter must escape whatever it gets, so the sim serves them on purpose.
    /// None holds `"; "`: Get's map format has no escaping, and these must survive a round trip
    /// through it.
    static let awkwardLabels: [(String, String)] = [
        ("APP.name", "web"),
        ("DEPLOY.backslash", #"C:\path\to\"#),
        ("DEPLOY.colon", "host:8080: ready"),
        ("DEPLOY.newline", "line1\nline2"),
        ("DEPLOY.quote", #"say "hi""#),
        ("DEPLOY.unicode", "Zürich ☃ 東京"),
        ("OWNER.team", "infra@example.com"),
    ]

    /// A first-level component of 128 characters (the maximum) using the allowed characters, and
    /// a child that brings the full name to 200 characters (the maximum for non-superusers).
    static let longComponent: String = {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-@:.")
        return "long-" + String((0..<123).map { alphabet[$0 % alphabet.count] })
    }()
    static let longChild = longComponent + "/" + String(repeating: "x", count: 200 - 129)

    private func makeShowcase() -> [SimContainer] {
        var list: [SimContainer] = []
        func add(
            _ name: String, _ state: SimState, command: String = "/usr/bin/app", _ configure: (inout SimContainer) -> Void = { _ in }
        ) {
            var c = newContainer(name: name, state: state, command: command, stream: 100 + UInt64(list.count))
            configure(&c)
            list.append(c)
        }
        add("web", .running) {
            $0.labels = Self.awkwardLabels
            $0.memoryLimit = 8 * Self.gib
            $0.cpuLimit = 2.5
            $0.cpuGuarantee = 1
            $0.ioLimit = [("fs", 100 * Self.mib)]
            $0.profile.throttleRate = 15_000_000
        }
        add("web/frontend", .running)
        add("web/frontend/worker-1", .running) {
            $0.memoryLimit = 1 * Self.gib
            $0.controllers.insert(.memory)
            $0.labels = [("APP.role", "worker")]
        }
        add("batch", .meta, command: "")
        add("batch/job-ok", .dead) { $0.exit = .success }
        add("batch/job-oom", .dead) {
            $0.exit = .oom
            $0.memoryLimit = 512 * Self.mib
            $0.controllers.insert(.memory)
            $0.oomKills = 1
        }
        add("idle", .stopped)
        add("boot", .starting)
        add("drain", .stopping)
        add("frozen", .paused)
        add("frozen/inner", .paused)
        add("flappy", .respawning) {
            $0.respawn = true
            $0.respawnCount = 7
            $0.oomKills = 2
        }
        add("db", .running) {
            $0.net = .own(config: "L3 veth0", devices: ["eth0"])
            $0.ioLimit = [("fs", 200 * Self.mib), ("sda", 50 * Self.mib)]
            $0.labels = [("APP.name", "db"), ("APP.tier", "storage")]
        }
        add("db/replica", .running) {
            $0.cpuLimit = 1
            $0.controllers.formUnion([.cpu, .cpuacct])
            $0.profile.throttleRate = 4_000_000
        }
        add("big", .running) {
            // Counters at the float64 edges: exact at any time because their rates are zero.
            $0.profile.cpuRate = 0
            $0.profile.minorFaultRate = 0
            $0.profile.majorFaultRate = 0
            $0.profile.reclaimRate = 0
            $0.profile.ioReadRate = 0
            $0.profile.ioWriteRate = 0
            $0.profile.fsRate = 0
            $0.profile.diskMask = 0b11110
            $0.profile.bases = [
                SimSlots.cpu: (1 << 53) - 1,
                SimSlots.cpuSystem: 1 << 53,
                SimSlots.minorFaults: (1 << 53) + 1,
                SimSlots.reclaimed: (1 << 53) + 4096,
                SimSlots.io(.read, disk: 2): (1 << 53) + 1,
                SimSlots.io(.write, disk: 1): UInt64.max / 2,
                SimSlots.io(.ops, disk: 4): 1 << 53,
                SimSlots.io(.readOps, disk: 3): (1 << 53) - 1,
            ]
        }
        add("Az09_-@:.all", .running) { $0.labels = [("APP.name", "chars")] }
        add("batch/job-segv", .dead) { $0.exit = .signal(11, core: true) }
        add("batch/job-fail", .dead) {
            $0.exit = .exitCode(1)
            $0.startError = "InvalidCommand:(No such file or directory: /usr/bin/missing)"
        }
        add("web/frontend/worker-1/task", .running)
        add("sleeper", .running) {
            // Zeros: a container that does nothing.
            $0.profile.cpuRate = 0
            $0.profile.throttleRate = 0
            $0.profile.minorFaultRate = 0
            $0.profile.majorFaultRate = 0
            $0.profile.reclaimRate = 0
            $0.profile.pressureRate = 0
            $0.profile.ioReadRate = 0
            $0.profile.ioWriteRate = 0
            $0.profile.fsRate = 0
            $0.profile.netRate = 0
            $0.profile.writeback = 0
            $0.profile.hugetlb = 0
        }
        add(Self.longComponent, .running)
        add(Self.longChild, .running)
        add("Az09_-@:.all/x-y_z@w:v.u", .running)
        add("batch/cron", .running) {
            // virt_mode=job owns no cgroups at all (docs/porto.md §4).
            $0.virtMode = "job"
            $0.controllers = []
        }
        add("idle/child", .stopped)
        add("mac", .running) {
            $0.net = .own(config: "macvlan eth0 eth0", devices: ["eth0", "eth1"])
            $0.profile.hugetlb = 64 * Self.mib
            $0.hugetlbLimit = 256 * Self.mib
        }
        return list
    }

    // MARK: - Generated containers

    private static let words = [
        "api", "cache", "queue", "search", "render", "ingest", "auth", "billing", "mail", "metrics",
        "proxy", "store", "index", "report", "upload", "stream",
    ]

    /// One generated first-level container and maybe a small subtree under it, at most `budget`.
    private func makeGenerated(index: UInt64, budget: Int) -> [SimContainer] {
        var rng = SimRandom(seed: seed, stream: 10_000 + index)
        let top = "\(rng.pick(Self.words))-\(index)"
        var result: [SimContainer] = []
        let roll = rng.next(in: 0...99)
        let topState: SimState =
            roll < 8 ? .stopped : roll < 14 ? .dead : roll < 16 ? .paused : .running
        let wantsChildren = budget > 1 && (topState == .running || topState == .stopped || topState == .paused)
            && rng.chance(40)
        let isMeta = wantsChildren && topState == .running && rng.chance(50)
        let top1 = newContainer(
            name: top, state: isMeta ? .meta : topState, command: isMeta ? "" : "/usr/bin/\(top)",
            stream: 20_000 + index)
        if rng.chance(50) { top1.labels = [("APP.name", top)] }
        if rng.chance(30) { top1.memoryLimit = rng.next(in: 1...16) * Self.gib }
        if rng.chance(20) { top1.cpuLimit = Double(rng.next(in: 1...16)) / 2 }
        if topState == .dead { top1.exit = rng.chance(50) ? .success : .exitCode(Int32(rng.next(in: 1...255))) }
        result.append(top1)
        guard wantsChildren else { return result }
        var queue: [(String, SimState, Int)] = [(top, top1.state, 1)]
        var serial: UInt64 = 0
        while let (parent, parentState, depth) = queue.first, result.count < budget {
            queue.removeFirst()
            let childCount = rng.next(in: 1...3)
            for _ in 0..<childCount where result.count < budget {
                serial += 1
                let name = "\(parent)/\(rng.pick(["app", "worker", "sidecar", "job"]))-\(serial)"
                let state: SimState
                switch parentState {
                case .stopped: state = .stopped
                case .paused: state = .paused
                default:
                    let r = rng.next(in: 0...99)
                    state = r < 75 ? .running : r < 88 ? .dead : .stopped
                }
                let child = newContainer(name: name, state: state, command: "/usr/bin/task", stream: 30_000 + index * 64 + serial)
                if rng.chance(30) {
                    child.memoryLimit = rng.next(in: 64...2048) * Self.mib
                    child.controllers.insert(.memory)
                }
                if state == .dead { child.exit = rng.chance(70) ? .success : .signal(9) }
                result.append(child)
                if depth < 3 && (state == .running || state == .stopped) && rng.chance(35) {
                    queue.append((name, state, depth + 1))
                }
            }
        }
        return result
    }

    // MARK: - Building blocks

    /// A container in `state` with times, controllers and a usage profile drawn from the seed.
    func newContainer(name: String, state: SimState, command: String, stream: UInt64) -> SimContainer {
        var rng = SimRandom(seed: seed, stream: stream)
        let level = name.split(separator: "/").count
        let parent: String = level == 1 ? "/" : String(name[..<name.lastIndex(of: "/")!])
        let uptime = start - boot
        let creation = boot + rng.next(in: 60...(uptime / 2))
        let c = SimContainer(
            name: name, id: 0, level: level, parentName: parent, state: state, command: command,
            controllers: level == 1 ? .firstLevel : .nested, creationTime: creation, startTime: nil,
            changeTime: creation)
        if level == 1 { c.threadLimit = nil }
        c.ownerUser = rng.pick(["root", "www-data", "svc"])
        c.ownerGroup = c.ownerUser == "svc" ? "porto" : c.ownerUser
        if state != .stopped {
            let started = creation + rng.next(in: 0...60)
            c.startTime = started
            c.changeTime = started
            switch state {
            case .dead:
                let died = started + rng.next(in: 1...max(2, (start - started) / 2))
                c.deathTime = died
                c.stopTime = died
                c.changeTime = died
                c.exit = .success
            case .paused:
                c.stopTime = started + rng.next(in: 1...max(2, (start - started) / 2))
            default:
                break
            }
        }
        if c.hasRuntime && state != .dead { c.rootPid = Int32(rng.next(in: 300...4_000_000)) }
        let meta = command.isEmpty
        var p = SimProfile()
        if !meta {
            p.cpuRate = rng.next(in: 5_000_000...1_500_000_000)
            p.systemPermille = rng.next(in: 100...400)
            p.minorFaultRate = rng.next(in: 10...5_000)
            p.majorFaultRate = rng.next(in: 0...20)
            p.reclaimRate = 4096 * rng.next(in: 0...500)
            p.pressureRate = rng.next(in: 0...20_000)
            p.processes = rng.next(in: 1...20)
            p.threads = p.processes * rng.next(in: 1...8)
            p.diskMask = UInt8(truncatingIfNeeded: rng.next(in: 1...31))
            p.ioReadRate = rng.next(in: 0...20_000_000)
            p.ioWriteRate = rng.next(in: 0...20_000_000)
            p.fsRate = rng.next(in: 0...5_000_000)
            p.netRate = rng.next(in: 0...10_000_000)
            p.shmem = rng.next(in: 0...64) * Self.mib
            p.mlock = rng.next(in: 0...16) * Self.mib
            p.writeback = rng.next(in: 0...8) * Self.mib
            p.hugetlb = rng.chance(10) ? rng.next(in: 1...8) * 2 * Self.mib : 0
        }
        // Every container has some memory of its own (at least page cache charged to it), so a
        // parent's memory usage is always above each child's.
        p.memory = (meta ? rng.next(in: 1...8) : rng.next(in: 16...2048)) * Self.mib
        p.anonPermille = rng.next(in: 300...900)
        c.profile = p
        return c
    }

    /// Fills `oomKillsTotal` hierarchically from the kills each container has seen: this run's
    /// `oomKills` plus some from earlier runs.
    private mutating func computeOOMTotals() {
        var index: [String: Int] = [:]
        for (i, c) in containers.enumerated() { index[c.name] = i }
        var rng = SimRandom(seed: seed, stream: 2)
        var own = containers.map { c -> UInt64 in
            guard c.name != "/" else { return 0 }
            return c.oomKills + (rng.chance(10) ? rng.next(in: 1...5) : 0)
        }
        own[index["/"]!] = 3  // kills in containers destroyed long ago, still in "/"'s total
        for i in containers.indices {
            var at: Int? = i
            while let j = at {
                containers[j].oomKillsTotal += own[i]
                at = containers[j].parentName.flatMap { index[$0] }
            }
        }
    }
}
