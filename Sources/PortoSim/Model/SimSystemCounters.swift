import PortoWire

/// The daemon's own counters behind GetSystem (docs/porto.md §5.1). They live in /run/portod.stat on a
/// real host and survive portod restarts, so `.restart` keeps them.
struct SimSystemCounters {
    static let version = "5.3.59"
    static let revision = "5c1f0e2d9a7b"
    static let kernel = "6.18.0-1-amd64"

    var portoStart: UInt64 = 0
    var masterStart: UInt64 = 0
    var portoStarts: UInt64 = 3
    var requestCompleted: UInt64 = 48_211
    var requestFailed: UInt64 = 17
    /// Spec requests (ListContainersBy) are not counted in request_completed (docs/porto.md §5.1).
    var specRequests: UInt64 = 0
    var clientCount: UInt64 = 1
    var clientConnected: UInt64 = 1_204
    var containerStartFailed: UInt64 = 2
    var containerStarted: UInt64 = 0
    var injectedOOM: UInt64 = 0

    mutating func count(_ request: Porto_TPortoRequest, failed: Bool) {
        if request.hasListContainersBy || request.hasCreateFromSpec || request.hasUpdateFromSpec {
            specRequests += 1
            return
        }
        requestCompleted += 1
        if failed { requestFailed += 1 }
    }
}

extension SimHost {
    func getSystem(world: SimWorld, counters s: SimSystemCounters) -> Porto_TGetSystemResponse {
        let now = world.now
        let boot = topology.boot
        let hostUptime = now - boot
        var r = Porto_TGetSystemResponse()
        r.portoVersion = SimSystemCounters.version
        r.portoRevision = SimSystemCounters.revision
        r.kernelVersion = SimSystemCounters.kernel
        r.errors = 3 + hostUptime / 7_200
        r.warnings = 41 + hostUptime / 900
        r.fatals = 0
        r.portoStarts = s.portoStarts
        r.portoUptime = now > s.portoStart ? now - s.portoStart : 0
        r.masterUptime = now > s.masterStart ? now - s.masterStart : 0
        r.taints = 1
        r.frozen = false
        r.verbose = false
        r.debug = false
        let logLines = 9_000 + hostUptime / 10 + s.requestFailed
        r.logLines = logLines
        r.logBytes = logLines * 87
        r.streamRotateBytes = hostUptime * 512
        r.streamRotateErrors = 0
        r.logLinesLost = 0
        r.logBytesLost = 0
        r.logOpen = UInt64(s.portoStarts)
        var running: UInt64 = 0
        var netns: UInt64 = 1
        for c in world.containers.dropFirst() {
            if c.state == .running { running += 1 }
            if case .own = c.net { netns += 1 }
        }
        let count = UInt64(world.containers.count - 1)
        r.containerCount = count
        r.containerLimit = max(3_000, (count + 999) / 1000 * 1000)
        r.containerRunning = running
        var churned: UInt64 = 0
        for slot in 0..<topology.churnSlots {
            churned += Self.churnGeneration(topology, slot: slot, now: now)
        }
        r.containerCreated = count + 57 + churned
        r.containerStarted = count + 212 + churned + s.containerStarted
        r.containerStartFailed = s.containerStartFailed
        r.containerOom = world.containers[0].oomKillsTotal
        r.containerBuried = 5
        r.containerLost = 0
        r.containerTainted = 0
        r.postforkIssues = 0
        r.volumeCount = UInt64(volumes.count)
        r.volumeLimit = 3_000
        r.volumeCreated = UInt64(volumes.count) + 12
        r.volumeFailed = 1
        let links = UInt64(volumes.reduce(0) { $0 + $1.links.count })
        r.volumeLinks = links
        r.volumeLinksMounted = links + 30
        r.volumeLost = 0
        r.layerImport = 4
        r.layerExport = 0
        r.layerRemove = 1
        r.clientCount = s.clientCount
        r.clientMax = 1_000
        r.clientConnected = s.clientConnected
        // Counts the GetSystem being answered (docs/porto.md §5.1).
        r.requestQueued = 1
        r.requestCompleted = s.requestCompleted
        r.requestFailed = s.requestFailed
        r.requestThreads = 20
        r.requestLonger1S = 9
        r.requestLonger3S = 4
        r.requestLonger30S = 1
        r.requestLonger5M = 0
        r.requestTopRunningTime = 0
        r.failSystem = 0
        r.failInvalidValue = 3
        r.failInvalidCommand = 1
        r.failMemoryGuarantee = 0
        r.failInvalidNetaddr = 0
        // porto_crash (666) is in the given schema only; portod never sets it.
        r.networkCount = netns
        r.networkCreated = netns + 6
        r.networkProblems = 0
        r.networkRepairs = 0
        return r
    }

    func listProperties() -> Porto_TListPropertiesResponse {
        var r = Porto_TListPropertiesResponse()
        // Properties the kernel cannot support are left out of the list (docs/porto.md §3.1).
        r.list = SimPropertyTable.all.compactMap { p in
            guard p.availability != .unsupported, !options.unknownProperties.contains(p.name) else { return nil }
            var e = Porto_TListPropertiesResponse.TContainerPropertyListEntry()
            e.name = p.name
            e.desc = p.desc
            e.readOnly = p.readOnly
            e.dynamic = !p.readOnly
            return e
        }
        return r
    }
}
