import PortoWire

/// An error portod answers in the envelope or per value.
struct SimError: Error {
    let code: Porto_EError
    let message: String
}

extension SimHost {
    // MARK: - Names

    /// Resolves a name the way a host client's request is resolved (PORTO.md §2.1): "/", "self"
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

    /// Names matching the mask (default `***`), sorted; never "/" (PORTO.md §2.3).
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
        if let index = SimPropertyTable.byName[base] {
            return Variable(text: text, kind: .property(SimPropertyTable.all[index], key: key))
        }
        if key == nil, isLabelName(base) { return Variable(text: text, kind: .label(base)) }
        return Variable(text: text, kind: .unknown)
    }

    /// `PREFIX.name` with PREFIX of 2 to 16 upper-case letters (PORTO.md §3.3 labels).
    static func isLabelName(_ text: String) -> Bool {
        guard let dot = text.firstIndex(of: ".") else { return false }
        let prefix = text[..<dot]
        return (2...16).contains(prefix.count) && prefix.allSatisfy { $0 >= "A" && $0 <= "Z" }
            && text.index(after: dot) < text.endIndex
    }

    /// One value of one container as Get renders it.
    func getValue(_ variable: Variable, ctx: SimContext, real: Bool) -> Result<String, SimError> {
        switch variable.kind {
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

    func get(_ req: Porto_TGetRequest, world: SimWorld) -> Porto_TGetResponse {
        var targets: [(String, Int?)] = []
        for name in req.name {
            if SimMask.isMask(name) {
                // A mask never matches "/" in Get (PORTO.md §2.3).
                for i in 1..<world.containers.count where SimMask.matches(world.containers[i].name, mask: name) {
                    targets.append((world.containers[i].name, i))
                }
            } else {
                targets.append((name, resolve(name, world: world)))
            }
        }
        let variables = req.variable.map(Self.parseVariable)
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
                switch getValue(v, ctx: ctx, real: req.real) {
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

    func getProperty(name: String, property: String, real: Bool, world: SimWorld) -> Result<String, SimError> {
        guard let index = resolve(name, world: world) else {
            return .failure(SimError(code: .containerDoesNotExist, message: "container \(name) not found"))
        }
        return getValue(Self.parseVariable(property), ctx: SimContext(world: world, i: index), real: real)
    }
}
