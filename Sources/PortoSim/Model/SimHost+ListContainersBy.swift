import PortoWire

extension SimHost {
    /// ListContainersBy (docs/porto.md §1.3, §2.2, §3.1): filters matched literally against relative
    /// names with Porto's masks, "/" included when a filter matches it; only the requested
    /// properties are filled. As portod's handler does (docs/porto.md §2.3), containers
    /// come in name order, each once, under the first filter that matches it (name and labels);
    /// then, in filter order, one `ContainerDoesNotExist` entry per filter whose name no container
    /// was matched under (a filter repeated with the same name counts as found once any of its
    /// copies matched). Returns nil for a filter without `name` (portod fails to parse the
    /// request and closes the connection). An empty filter list matches nothing: portod's
    /// handler loops over the filters, so the schema's "default: all" comment is wrong here too
    /// (docs/porto.md §0).
    func listContainersBy(_ req: Porto_TListContainersRequest, world: SimWorld) -> [Porto_TContainer]? {
        guard let plan = Self.lcbPlan(req, world: world, unknownProperties: options.unknownProperties) else { return nil }
        return plan.entries.map { entry in
            switch entry {
            case .container(let i):
                return container(at: i, world: world, properties: plan.properties, unknown: plan.unknown, wantsTime: plan.wantsTime)
            case .missing(let name):
                return Self.missingContainer(name)
            }
        }
    }

    /// A ListContainersBy answer before it is rendered as messages or bytes.
    struct LCBPlan {
        enum Entry {
            case container(Int)
            case missing(String)
        }
        var entries: [Entry] = []
        /// The known requested properties that ListContainersBy fills, in request order.
        var properties: [SimProperty] = []
        /// One `InvalidProperty` error per unknown name, put on every container.
        var unknown: [Porto_TError] = []
        var wantsTime = false
    }

    /// Which containers and filters answer `req`, and the properties to fill; nil for a filter
    /// without `name`.
    static func lcbPlan(_ req: Porto_TListContainersRequest, world: SimWorld, unknownProperties: Set<String> = []) -> LCBPlan? {
        let filters = req.filters
        if filters.contains(where: { !$0.hasName }) { return nil }
        var plan = LCBPlan()
        // Resolve the properties once: known ones with an LCB field, and the unknown names.
        let requested: [String] =
            req.fieldOptions.properties.isEmpty ? SimPropertyTable.all.map(\.name) : req.fieldOptions.properties
        for name in requested {
            if let index = SimPropertyTable.byName[name], !unknownProperties.contains(name) {
                let property = SimPropertyTable.all[index]
                if property.fill != nil { plan.properties.append(property) }
            } else if name != "porto_stat" {
                // Hidden properties are not dumped (docs/porto.md §3.1); other names are unknown.
                var error = Porto_TError()
                error.error = .invalidProperty
                error.msg = "Unknown property \(name)"
                plan.unknown.append(error)
            }
        }
        plan.wantsTime = plan.properties.contains { $0.name == "time" }

        let filterLabels = filters.map { $0.labels.map.map { ($0.key, $0.val) } }
        var found = Set<String>()
        plan.entries.reserveCapacity(world.containers.count)
        for i in world.containers.indices {
            let c = world.containers[i]
            for (f, filter) in filters.enumerated() {
                guard SimMask.matches(c.name, mask: filter.name) else { continue }
                guard filterLabels[f].allSatisfy({ l in c.labels.contains { $0.0 == l.0 && $0.1 == l.1 } }) else { continue }
                found.insert(filter.name)
                plan.entries.append(.container(i))
                break
            }
        }
        for filter in filters where !found.contains(filter.name) {
            plan.entries.append(.missing(filter.name))
        }
        return plan
    }

    /// The encoded `TListContainersResponse` for `req` (``SimLCBEncoder``); nil like
    /// ``listContainersBy(_:world:)``.
    func encodedListContainersBy(_ req: Porto_TListContainersRequest, world: SimWorld) -> [UInt8]? {
        guard let plan = Self.lcbPlan(req, world: world, unknownProperties: options.unknownProperties) else { return nil }
        let encoder = SimLCBEncoder(properties: plan.properties, unknown: plan.unknown)
        var scratch = SimLCBEncoder.Scratch()
        var out: [UInt8] = []
        var reserved = false
        for entry in plan.entries {
            switch entry {
            case .container(let i):
                encoder.appendContainer(i, world: world, scratch: &scratch, to: &out)
                if !reserved {
                    // After the first container: room for the rest at its size, plus a margin.
                    reserved = true
                    out.reserveCapacity(out.count * (plan.entries.count + plan.entries.count / 4) + 4096)
                }
            case .missing(let name):
                SimProtoWriter.appendBytes(1, (try? Self.missingContainer(name).serializedBytes(partial: true)) ?? [], to: &out)
            }
        }
        return out
    }

    /// The entry of a filter that matched nothing (docs/porto.md §1.3).
    static func missingContainer(_ name: String) -> Porto_TContainer {
        var missing = Porto_TContainer()
        var spec = Porto_TContainerSpec()
        spec.name = name
        missing.spec = spec
        var error = Porto_TError()
        error.error = .containerDoesNotExist
        error.msg = "container \(name) not found"
        missing.error = error
        return missing
    }

    private func container(
        at i: Int, world: SimWorld, properties: [SimProperty], unknown: [Porto_TError], wantsTime: Bool
    ) -> Porto_TContainer {
        let ctx = SimContext(world: world, i: i)
        var b = SimLCBBuilder()
        b.spec.name = ctx.c.name
        for property in properties {
            if let value = property.lcbValue(ctx) { property.fill!(&b, value) }
        }
        if wantsTime, ctx.c.state == .dead, let death = ctx.c.deathTime {
            b.status.deadTime = world.now - death
            b.hasStatus = true
        }
        if !unknown.isEmpty {
            b.status.error = unknown
            b.hasStatus = true
        }
        var container = Porto_TContainer()
        container.spec = b.spec
        if b.hasStatus { container.status = b.status }
        return container
    }
}
