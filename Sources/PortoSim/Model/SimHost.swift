import Foundation
import PortoWire

/// An answer encoded as the body of a reply frame (nil: close the connection without a reply),
/// its envelope error, and the host generation it belongs to.
public struct SimEncodedAnswer: Sendable {
    public var body: [UInt8]?
    public var error: Porto_EError
    public var generation: UInt64

    public init(body: [UInt8]?, error: Porto_EError, generation: UInt64) {
        self.body = body
        self.error = error
        self.generation = generation
    }
}

/// A synthetic Porto host that answers requests the way portod 5.3.59 does (docs/porto.md), without
/// sockets: `SimServer` serves it over a unix socket, tests call it directly.
///
/// Everything is deterministic: the containers, their names, states, labels and usage rates come
/// from `SimOptions.seed`, and every value is a function of the clock (and of injected events).
/// Internally locked; `respond(to:)` may be called from several threads at once.
public final class SimHost: @unchecked Sendable {
    /// The options the host was built with.
    public let options: SimOptions

    let topology: SimTopology
    let lock = NSLock()
    /// Containers that exist for the host's whole life (plus "/"), sorted by name.
    var statics: [SimContainer]
    var staticIndex: [String: Int]
    /// Bumped by every event: part of `generation`.
    var mutations: UInt64 = 0
    var cachedWorld: SimWorld?
    var cachedWorldKey: (UInt64, UInt64) = (UInt64.max, UInt64.max)
    var system = SimSystemCounters()
    /// Per-slot counter amounts of one whole churn generation (for "/"'s hierarchical counters).
    let churnGenerationCounters: [[UInt64]]
    let volumes: [SimVolume]

    public init(options: SimOptions) {
        self.options = options
        let now = options.clock.now
        let topology = SimTopology(options: options, now: now)
        self.topology = topology
        statics = topology.containers
        staticIndex = [:]
        for (i, c) in statics.enumerated() { staticIndex[c.name] = i }
        system.portoStart = now - min(now - topology.boot, 86_400 + options.seed % 3_600)
        system.masterStart = topology.boot + 12
        var perSlot: [[UInt64]] = []
        for slot in 0..<topology.churnSlots {
            let whole = Self.churnContainer(topology, slot: slot, generation: 0, id: 0, root: statics[0])
            var values = [UInt64](repeating: 0, count: SimSlots.count)
            whole.startTime = 0
            values.withUnsafeMutableBufferPointer {
                SimWorld.ownValues(whole, hostNetns: true, now: Self.churnLifetime(topology), into: $0)
            }
            perSlot.append(Array(values[0..<SimSlots.counterCount]))
        }
        churnGenerationCounters = perSlot
        volumes = SimVolume.make(topology: topology, containers: topology.containers)
    }

    /// Changes whenever any answer may change: every second of the clock and every injected event.
    /// A server may cache an encoded response per (request bytes, generation), except for
    /// requests where `isCacheable` is false.
    public var generation: UInt64 {
        let now = options.clock.now
        return lock.withLock { now << 20 | (mutations & 0xFFFFF) }
    }

    /// False for requests whose answer changes with every request served (GetSystem and the
    /// hidden `porto_stat` count requests), so a response cache must not reuse them.
    public static func isCacheable(_ request: Porto_TPortoRequest) -> Bool {
        if request.hasGetSystem { return false }
        if request.hasGet { return !request.get.variable.contains { $0.hasPrefix("porto_stat") } }
        if request.hasGetProperty { return !request.getProperty.property.hasPrefix("porto_stat") }
        return true
    }

    /// What `Version` answers on a host with ``SimOptions/noGetSystem``: a release before 4.6.0
    /// (the one docs/porto.md §8 names last before it).
    public static let tagBeforeGetSystem = "4.4.1"

    /// The RPC methods portod gained in 4.6.0 or later (docs/porto.md §8), by the version that added
    /// them; an older portod answers them `InvalidMethod` "invalid RPC method".
    static let methodsSince50: Set<String> = ["ListContainersBy", "CreateFromSpec", "UpdateFromSpec"]
    static let methodsSince46: Set<String> = methodsSince50.union(["GetSystem", "AsyncWait", "NewVolume", "GetVolume"])

    /// The methods this host's portod does not have (``SimOptions/legacy``, ``SimOptions/noGetSystem``).
    var missingMethods: Set<String> {
        options.noGetSystem ? Self.methodsSince46 : options.legacy ? Self.methodsSince50 : []
    }

    /// Open connections, as GetSystem `client_count` reports them. The server sets it.
    public var clientCount: UInt64 {
        get { lock.withLock { system.clientCount } }
        set { lock.withLock { system.clientCount = newValue } }
    }

    /// Counts an accepted connection (GetSystem `client_connected`).
    public func noteClientConnected() {
        lock.withLock { system.clientConnected += 1 }
    }

    /// Counts a request the server answered from its cache instead of calling `respond(to:)`, so
    /// that GetSystem's request counters stay true.
    public func noteServedFromCache(_ request: Porto_TPortoRequest, response: Porto_TPortoResponse) {
        lock.withLock { system.count(request, failed: response.error != .success) }
    }

    // MARK: - Answering

    /// The answer portod would give; nil means portod closes the connection without a reply
    /// (a missing upstream-`required` field, docs/porto.md §1.2: a ListContainersBy filter without
    /// `name`, a GetProperty without `name` or `property`).
    public func respond(to request: Porto_TPortoRequest) -> Porto_TPortoResponse? {
        answer(to: request, counting: true, encoded: false).response
    }

    /// The answer to `request` encoded as the body of a reply frame, and the ``generation`` it
    /// belongs to (read together with the clock it was built from). ListContainersBy answers are
    /// encoded straight to bytes (``SimLCBEncoder``), the rest through SwiftProtobuf; the bytes
    /// are the same as ``respond(to:)``'s message encoded. With `counting` false the request is
    /// not counted in GetSystem's request counters (a server building answers ahead of time).
    public func encodedAnswer(to request: Porto_TPortoRequest, counting: Bool = true) -> SimEncodedAnswer {
        let (response, lcb, generation) = answer(to: request, counting: counting, encoded: true)
        guard let response else { return SimEncodedAnswer(body: nil, error: .success, generation: generation) }
        guard let lcb else {
            return SimEncodedAnswer(body: try? response.serializedBytes(), error: response.error, generation: generation)
        }
        // error (1), ListContainersBy (232), timestamp (1000): the order SwiftProtobuf writes them in.
        var head = response
        head.clearTimestamp()
        var tail = Porto_TPortoResponse()
        tail.timestamp = response.timestamp
        var body: [UInt8] = (try? head.serializedBytes()) ?? []
        body.reserveCapacity(body.count + lcb.count + 16)
        SimProtoWriter.appendBytes(Self.listContainersByField, lcb, to: &body)
        body.append(contentsOf: (try? tail.serializedBytes(partial: true)) ?? [])
        return SimEncodedAnswer(body: body, error: response.error, generation: generation)
    }

    /// The field number of `TPortoResponse.ListContainersBy`.
    static let listContainersByField: Int = {
        var response = Porto_TPortoResponse()
        response.listContainersBy = Porto_TListContainersResponse()
        return SimField.firstFieldNumber((try? response.serializedBytes(partial: true)) ?? [])
    }()

    /// Builds the answer (the ListContainersBy part as bytes when `encoded`) at one reading of
    /// the clock, and the generation of that reading.
    private func answer(
        to request: Porto_TPortoRequest, counting: Bool, encoded: Bool
    ) -> (response: Porto_TPortoResponse?, lcb: [UInt8]?, generation: UInt64) {
        let now = options.clock.now
        let (world, counters, generation) = lock.withLock {
            (currentWorld(now: now), system, now << 20 | (mutations & 0xFFFFF))
        }
        var lcbBytes: [UInt8]?
        var response = Porto_TPortoResponse()
        response.error = .success
        response.errorMsg = ""  // portod sets it on every answer, empty on success (docs/porto.md §1.3)
        response.timestamp = now
        let method = request.methodName
        switch method {
        case _ where missingMethods.contains(method):
            response.error = .invalidMethod
            response.errorMsg = "invalid RPC method"
        case "Version":
            var version = Porto_TVersionResponse()
            version.tag = options.noGetSystem ? Self.tagBeforeGetSystem : SimSystemCounters.version
            version.revision = SimSystemCounters.revision
            response.version = version
        case "GetSystem":
            response.getSystem = getSystem(world: world, counters: counters)
        case "List":
            response.list = list(request.list, world: world)
        case "Get":
            response.get = get(request.get, world: world, counters: counters)
        case "GetProperty":
            let req = request.getProperty
            guard req.hasName, req.hasProperty else { return (nil, nil, generation) }
            switch getProperty(name: req.name, property: req.property, real: req.real, world: world, counters: counters) {
            case .success(let value):
                var r = Porto_TGetPropertyResponse()
                r.value = value
                response.getProperty = r
            case .failure(let error):
                response.error = error.code
                response.errorMsg = error.message
            }
        case "ListContainersBy":
            if encoded {
                guard let bytes = encodedListContainersBy(request.listContainersBy, world: world) else {
                    return (nil, nil, generation)
                }
                lcbBytes = bytes
            } else {
                guard let containers = listContainersBy(request.listContainersBy, world: world) else {
                    return (nil, nil, generation)
                }
                var r = Porto_TListContainersResponse()
                r.containers = containers
                response.listContainersBy = r
            }
        case "ListProperties":
            response.listProperties = listProperties()
        case "ListVolumes":
            response.listVolumes = listVolumes(request.listVolumes, now: now)
        case "GetVolume":
            response.getVolume = getVolume(request.getVolume, now: now)
        case "ListLayers":
            response.listLayers = listLayers(request.listLayers, now: now)
        case "ListStorages":
            response.listStorages = listStorages(request.listStorages, now: now)
        case "None":
            response.error = .invalidMethod
            response.errorMsg = "invalid RPC method"
        case "Create", "CreateWeak", "Destroy", "Start", "Stop", "Pause", "Resume", "Kill", "Respawn",
            "SetProperty", "CreateFromSpec", "UpdateFromSpec", "SetSymlink", "SetLabel", "IncLabel",
            "CreateVolume", "TuneVolume", "NewVolume", "LinkVolume", "LinkVolumeTarget", "UnlinkVolume",
            "UnlinkVolumeTarget", "ImportLayer", "RemoveLayer", "ExportLayer", "SetLayerPrivate",
            "RemoveStorage", "ImportStorage", "ExportStorage", "CreateMetaStorage", "ResizeMetaStorage",
            "RemoveMetaStorage", "AttachProcess", "AttachThread", "SetSystem":
            // The synthetic host is read-only: every client is treated like a user outside group porto.
            response.error = .permission
            response.errorMsg = "Write access denied"
        default:
            response.error = .notSupported
            response.errorMsg = "porto-sim does not implement \(method)"
        }
        if counting { lock.withLock { system.count(request, failed: response.error != .success) } }
        return (response, lcbBytes, generation)
    }

    /// Builds the world of the current second ahead of the requests that will need it.
    public func prepare() {
        let now = options.clock.now
        lock.withLock { _ = currentWorld(now: now) }
    }

    // MARK: - The world

    /// The world at `now`, rebuilt when the second or the mutation count changed. Call with the
    /// lock held.
    func currentWorld(now: UInt64) -> SimWorld {
        if let world = cachedWorld, cachedWorldKey == (now, mutations) { return world }
        var containers = statics
        var rootCarry: [UInt64] = []
        if topology.churnSlots > 0 {
            rootCarry = [UInt64](repeating: 0, count: SimSlots.counterCount)
            for slot in 0..<topology.churnSlots {
                let generation = Self.churnGeneration(topology, slot: slot, now: now)
                let id = UInt64(statics.count + 1 + slot)
                containers.append(Self.churnContainer(topology, slot: slot, generation: generation, id: id, root: statics[0]))
                for s in 0..<SimSlots.counterCount {
                    rootCarry[s] &+= churnGenerationCounters[slot][s] &* generation
                }
            }
            containers.sort { simNameLess($0.name, $1.name) }
        }
        let world = SimWorld(now: now, containers: containers, rootCarry: rootCarry, cgroupV2: options.cgroupV2)
        cachedWorld = world
        cachedWorldKey = (now, mutations)
        return world
    }

    // MARK: - Churn

    /// Each churn slot's container lives `slots × period` seconds; every `period` one slot is
    /// replaced, so the set changes every few seconds.
    static func churnLifetime(_ t: SimTopology) -> UInt64 {
        UInt64(t.churnSlots) * SimTopology.churnPeriod
    }

    /// How many containers slot `slot` has had before the current one (a pure function of time).
    static func churnGeneration(_ t: SimTopology, slot: Int, now: UInt64) -> UInt64 {
        let elapsed = (now > t.boot ? now - t.boot : 0) + UInt64(slot) * SimTopology.churnPeriod
        return elapsed / churnLifetime(t)
    }

    static func churnContainer(_ t: SimTopology, slot: Int, generation: UInt64, id: UInt64, root: SimContainer) -> SimContainer {
        let c = t.newContainer(
            name: "churn-\(slot)-\(generation)", state: .running, command: "/usr/bin/cron-job",
            stream: 90_000 + UInt64(slot))
        let born = t.boot + generation * churnLifetime(t)
        let created = born > UInt64(slot) * SimTopology.churnPeriod + t.boot
            ? born - UInt64(slot) * SimTopology.churnPeriod : t.boot
        c.id = id
        c.creationTime = created
        c.startTime = created
        c.changeTime = created
        c.labels = [("APP.name", "churn"), ("CHURN.slot", String(slot))]
        SimContainer.precompute([c]) { $0 == "/" ? root : nil }
        return c
    }
}
