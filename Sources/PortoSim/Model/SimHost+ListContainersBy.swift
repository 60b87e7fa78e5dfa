import PortoWire

extension SimHost {
    /// ListContainersBy (PORTO.md §1.3, §2.2, §3.1): filters matched literally against relative
    /// names with Porto's masks, "/" included when a filter matches it, each container once under
    /// the first filter it matches; only the requested properties are filled. Returns nil for a
    /// filter without `name` (portod fails to parse the request and closes the connection). An
    /// empty filter list matches nothing: portod's handler loops over the filters, so the schema's
    /// "default: all" comment is wrong here too (PORTO.md §0).
    func listContainersBy(_ req: Porto_TListContainersRequest, world: SimWorld) -> [Porto_TContainer]? {
        let filters = req.filters
        if filters.contains(where: { !$0.hasName }) { return nil }
        // Resolve the properties once: known ones with an LCB field, and the unknown names.
        let requested: [String] =
            req.fieldOptions.properties.isEmpty ? SimPropertyTable.all.map(\.name) : req.fieldOptions.properties
        var properties: [SimProperty] = []
        var unknown: [Porto_TError] = []
        for name in requested {
            if let index = SimPropertyTable.byName[name] {
                let property = SimPropertyTable.all[index]
                if property.fill != nil { properties.append(property) }
            } else if name != "porto_stat" {
                // Hidden properties are not dumped (PORTO.md §3.1); other names are unknown.
                var error = Porto_TError()
                error.error = .invalidProperty
                error.msg = "Unknown property \(name)"
                unknown.append(error)
            }
        }
        let wantsTime = properties.contains { $0.name == "time" }

        var taken = [Bool](repeating: false, count: world.containers.count)
        var result: [Porto_TContainer] = []
        for filter in filters {
            let labels = filter.labels.map.map { ($0.key, $0.val) }
            var matched = false
            for i in world.containers.indices where !taken[i] {
                let c = world.containers[i]
                guard SimMask.matches(c.name, mask: filter.name) else { continue }
                guard labels.allSatisfy({ l in c.labels.contains { $0.0 == l.0 && $0.1 == l.1 } }) else { continue }
                taken[i] = true
                matched = true
                result.append(container(at: i, world: world, properties: properties, unknown: unknown, wantsTime: wantsTime))
            }
            if !matched {
                var missing = Porto_TContainer()
                var spec = Porto_TContainerSpec()
                spec.name = filter.name
                missing.spec = spec
                var error = Porto_TError()
                error.error = .containerDoesNotExist
                error.msg = "container \(filter.name) not found"
                missing.error = error
                result.append(missing)
            }
        }
        return result
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
