import PortoWire

/// An error portod answers in the envelope or per value.
struct SimError: Error {
    let code: Porto_EError
    let message: String
}

extension SimHost {
    // MARK: - Names

    /// Resolves a name the way a host client's request is resolved (docs/porto.md §2.1): "/", "self"
    /// and "." are the root, `/porto/x` is `x`.
    func resolve(_ name: String, world: SimWorld) -> Int? {
        switch name {
        case "/", "self", ".": return 0
        default:
            if name.hasPrefix("/porto/") { return world.index[String(name.dropFirst(7))] }
            if name.hasPrefix("/") { return nil }
            return world.index[name]
        }
    }

    // MARK: - List

    /// Names matching the mask (default `***`), sorted; never "/" (docs/porto.md §2.3).
    func list(_ req: Porto_TListRequest, world: SimWorld) -> Porto_TListResponse {
        let mask = req.hasMask ? req.mask : "***"
        var r = Porto_TListResponse()
        r.name = world.containers.dropFirst().compactMap { c in
            SimMask.matches(c.name, mask: mask) ? c.name : nil
        }
        return r
    }

    // MARK: - Get

    /// A parsed variable of a Get request.
    struct Variable {
        enum Kind {
            case property(SimProperty, key: String?)
            /// A label read by name (`A.b`) or as `labels[A.b]`.
            case label(String)
            /// The hidden `porto_stat` (docs/porto.md §5.1), or one of its keys.
            case portoStat(key: String?)
            /// A raw cgroup knob such as `memory.stat` (docs/porto.md §3.1).
            case knob(String)
            case unknown
        }
        let text: String
        let kind: Kind
    }

    static func parseVariable(_ text: String) -> Variable {
        var base = text
        var key: String?
        if text.hasSuffix("]"), let open = text.firstIndex(of: "[") {
            base = String(text[..<open])
            key = String(text[text.index(after: open)..<text.index(before: text.endIndex)])
        }
        if base == "labels", let key { return Variable(text: text, kind: .label(key)) }
        if base == "porto_stat" { return Variable(text: text, kind: .portoStat(key: key)) }
        if let index = SimPropertyTable.byName[base] {
            return Variable(text: text, kind: .property(SimPropertyTable.all[index], key: key))
        }
        if key == nil, isLabelName(base) { return Variable(text: text, kind: .label(base)) }
        // portod reads any other dotted name as a knob of the controller named before the dot.
        if key == nil, base.contains(".") { return Variable(text: text, kind: .knob(base)) }
        return Variable(text: text, kind: .unknown)
    }

    /// ``parseVariable(_:)``, with the properties this host does not know
    /// (``SimOptions/unknownProperties``) unknown.
    func variable(_ text: String) -> Variable {
        let v = Self.parseVariable(text)
        if case .property(let p, _) = v.kind, options.unknownProperties.contains(p.name) {
            return Variable(text: text, kind: .unknown)
        }
        return v
    }

    /// `PREFIX.name` with PREFIX of 2 to 16 upper-case letters (docs/porto.md §3.3 labels).
    static func isLabelName(_ text: String) -> Bool {
        guard let dot = text.firstIndex(of: ".") else { return false }
        let prefix = text[..<dot]
        return (2...16).contains(prefix.count) && prefix.allSatisfy { $0 >= "A" && $0 <= "Z" }
            && text.index(after: dot) < text.endIndex
    }

    /// One value of one container as Get renders it.
    func getValue(
        _ variable: Variable, ctx: SimContext, real: Bool, counters: SimSystemCounters, memoryOffsets: [Int: [UInt64]]? = nil
    ) -> Result<String, SimError> {
        switch variable.kind {
        case .knob(let knob):
            if knob == "memory.stat" { return memoryStat(ctx, ownOffsets: memoryOffsets) }
            guard ctx.c.state != .stopped else {
                return .failure(SimError(code: .invalidState, message: "Not available in stopped state: \(knob)"))
            }
            return .failure(SimError(code: .invalidValue, message: "Unknown cgroup attribute: \(knob)"))
        case .portoStat(let key):
            let stat = portoStat(ctx, counters: counters)
            guard let key else { return .success(SimLegacyFormat.map(stat) { String($0) }) }
            if let value = stat.first(where: { $0.0 == key }) { return .success(String(value.1)) }
            return .failure(SimError(code: .invalidValue, message: "Invalid index \(key) for porto_stat"))
        case .unknown:
            return .failure(SimError(code: .invalidProperty, message: "Unknown property \(variable.text)"))
        case .label(let name):
            if let value = ctx.c.labels.first(where: { $0.0 == name })?.1 { return .success(value) }
            return .failure(SimError(code: .labelNotFound, message: "Label \(name) is not set"))
        case .property(let property, let key):
            let value = property.getValue(ctx, real: real)
            if case .error(let code, let message) = value { return .failure(SimError(code: code, message: message)) }
            guard let key else { return .success(value.legacy) }
            switch (property.name, key, value) {
            case (_, "raw", .time(let seconds)):
                return .success(String(seconds))
            case ("time", "dead", _):
                guard ctx.c.state == .dead, let death = ctx.c.deathTime else {
                    return .failure(SimError(code: .invalidState, message: "time[dead] available only in dead state"))
                }
                return .success(String(ctx.now - death))
            default:
                if let item = value.indexed(key) { return .success(item.legacy) }
                return .failure(SimError(code: .invalidValue, message: "Invalid index \(key) for \(property.name)"))
            }
        }
    }

    /// Get (docs/porto.md §2.3, §3.1). As portod's handler orders them
    /// (docs/porto.md §2.3): first the explicitly named containers in request order (repeats
    /// kept), then every container matching any of the masks, in name order, once each and never
    /// "/". A container both named and matched by a mask appears twice.
    func get(_ req: Porto_TGetRequest, world: SimWorld, counters: SimSystemCounters) -> Porto_TGetResponse {
        var targets: [(String, Int?)] = []
        var masks: [String] = []
        for name in req.name {
            if SimMask.isMask(name) {
                masks.append(name)
            } else {
                targets.append((name, resolve(name, world: world)))
            }
        }
        if !masks.isEmpty {
            for i in 1..<world.containers.count {
                let name = world.containers[i].name
                if masks.contains(where: { SimMask.matches(name, mask: $0) }) { targets.append((name, i)) }
            }
        }
        let variables = req.variable.map(variable)
        // Worked out once for the request: every memory.stat needs its cgroup's children.
        let readsMemoryStat = variables.contains { if case .knob("memory.stat") = $0.kind { true } else { false } }
        let memoryOffsets = readsMemoryStat && !options.cgroupV2 ? memoryOwnOffsets(world) : nil
        var r = Porto_TGetResponse()
        r.list.reserveCapacity(targets.count)
        for (name, index) in targets {
            var entry = Porto_TGetResponse.TContainerGetListResponse()
            entry.name = name
            guard let index else {
                entry.keyval = variables.map { v in
                    var kv = Porto_TGetResponse.TContainerGetValueResponse()
                    kv.variable = v.text
                    kv.error = .containerDoesNotExist
                    kv.errorMsg = "container \(name) not found"
                    return kv
                }
                r.list.append(entry)
                continue
            }
            let ctx = SimContext(world: world, i: index)
            entry.changeTime = ctx.c.changeTime
            if req.hasChangedSince, ctx.c.changeTime < req.changedSince {
                entry.noChanges = true
                r.list.append(entry)
                continue
            }
            entry.keyval = variables.map { v in
                var kv = Porto_TGetResponse.TContainerGetValueResponse()
                kv.variable = v.text
                switch getValue(v, ctx: ctx, real: req.real, counters: counters, memoryOffsets: memoryOffsets) {
                case .success(let text): kv.value = text
                case .failure(let error):
                    kv.error = error.code
                    kv.errorMsg = error.message
                }
                return kv
            }
            r.list.append(entry)
        }
        return r
    }

    func getProperty(name: String, property: String, real: Bool, world: SimWorld, counters: SimSystemCounters) -> Result<String, SimError> {
        guard let index = resolve(name, world: world) else {
            return .failure(SimError(code: .containerDoesNotExist, message: "container \(name) not found"))
        }
        return getValue(variable(property), ctx: SimContext(world: world, i: index), real: real, counters: counters)
    }
}

extension SimHost {
    /// The hidden `porto_stat` (docs/porto.md §5.1): on "/" everything GetSystem has plus the spec
    /// request counters and portod's own usage (with the keys of a portod before 4.6.0 on a
    /// ``SimOptions/noGetSystem`` host); on other containers the per-container items.
    /// Not listed by ListProperties and not dumped by ListContainersBy.
    func portoStat(_ ctx: SimContext, counters: SimSystemCounters) -> [(String, UInt64)] {
        var stat: [(String, UInt64)]
        if ctx.isRoot {
            let system = getSystem(world: ctx.world, counters: counters)
            stat = [
                ("errors", system.errors), ("warnings", system.warnings), ("fatals", system.fatals),
                ("porto_starts", system.portoStarts), ("porto_uptime", system.portoUptime),
                ("master_uptime", system.masterUptime), ("taints", system.taints),
                ("container_count", system.containerCount), ("container_running", system.containerRunning),
                ("container_created", system.containerCreated), ("container_started", system.containerStarted),
                ("container_start_failed", system.containerStartFailed), ("container_oom", system.containerOom),
                ("volume_count", system.volumeCount), ("client_count", system.clientCount),
                ("client_connected", system.clientConnected), ("requests_queued", system.requestQueued),
                ("requests_completed", system.requestCompleted), ("requests_failed", system.requestFailed),
                ("requests_longer_1s", system.requestLonger1S), ("requests_longer_3s", system.requestLonger3S),
                ("requests_longer_30s", system.requestLonger30S), ("requests_longer_5m", system.requestLonger5M),
                ("spec_requests_completed", counters.specRequests), ("spec_requests_failed", 0),
                ("spec_requests_longer_1s", 0), ("spec_requests_longer_3s", 0),
                ("spec_requests_longer_30s", 0), ("spec_requests_longer_5m", 0),
                ("cpu_usage", system.portoUptime * 4_000_000), ("cpu_system_usage", system.portoUptime * 1_500_000),
                ("memory_usage_mb", 48), ("queued_events", 3), ("longest_read_request", 61),
            ]
            if options.noGetSystem {
                // Before 4.6.0: `porto_starts` was `restarts` (renamed in 4.7.2), `fatals` came
                // in 5.0.8 and spec requests in 5.0.0 (docs/porto.md §5.1, §8).
                stat = stat.compactMap { key, value in
                    if key == "porto_starts" { return ("restarts", value) }
                    if key == "fatals" || key.hasPrefix("spec_requests_") { return nil }
                    return (key, value)
                }
            }
        } else {
            let running = ctx.world.containers.indices.filter {
                ctx.world.parents[$0] == ctx.i && ctx.world.containers[$0].state == .running
            }.count
            stat = [
                ("running_children", UInt64(running)), ("volume_mounts", 0), ("container_clients", 0),
                ("container_requests", 0),
            ]
        }
        stat.sort { simNameLess($0.0, $1.0) }
        return stat
    }
}
