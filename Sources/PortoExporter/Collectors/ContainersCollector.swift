import PortoWire

/// Reads every container with one `ListContainersBy ***` per collection, asking only for the
/// properties of the enabled groups (plus `cgroups`, `net`, times and `labels` when something
/// needs them), and writes the table's samples.
///
/// portod without ListContainersBy (InvalidMethod) is read with one `Get ["***", "/"]` instead
/// (``LegacyContainerReader``); the decision is kept for the connection.
///
/// Double counting (PORTO.md 4): a nested container that does not own a controller reads its
/// ancestor's cgroup. A sample whose metric has a controller is written only if the container owns
/// it (its `cgroups` entry for that controller is not `inherited`); network samples only for a
/// container with its own network namespace or in the host's (where the values are its own
/// sockets'). Values still include descendants: never add levels together.
struct ContainersCollector: Collector {
    let name = "containers"
    let metrics: [ContainerMetric]
    /// The ListContainersBy property names, sorted.
    let properties: [String]
    let selection: ContainerSelection
    let labelSelection: LabelSelection
    let needsCgroups: Bool
    let needsNet: Bool

    init(groups: Set<CollectorGroup>, selection: ContainerSelection, labels: LabelSelection) {
        metrics = ContainerMetrics.all.filter { groups.contains($0.group) }
        var props = Set(metrics.map(\.property))
        needsCgroups = metrics.contains { $0.controller != nil && $0.controller != .netns }
        needsNet = metrics.contains { $0.controller == .netns }
        if needsCgroups { props.insert("cgroups") }
        if needsNet { props.insert("net") }
        if metrics.contains(where: { $0.created == .startTime }) { props.insert("start_time") }
        if metrics.contains(where: { $0.created == .creationTime }) { props.insert("creation_time") }
        if !labels.isEmpty { props.insert("labels") }
        if props.isEmpty { props.insert("state") }  // something cheap, for the info metric
        properties = props.sorted()
        self.selection = selection
        self.labelSelection = labels
    }

    func collect(_ context: CollectContext, into writer: ExpositionWriter) throws(PortoError) {
        var containers = try read(context)
        containers.sort { $0.spec.name.utf8.lexicographicallyPrecedes($1.spec.name.utf8) }
        write(containers, into: writer)
    }

    /// The containers, through ListContainersBy or the Get fallback.
    func read(_ context: CollectContext) throws(PortoError) -> [Porto_TContainer] {
        if !context.connection.legacyContainers {
            var request = Porto_TPortoRequest()
            var filter = Porto_TListContainersFilter()
            filter.name = "***"  // upstream-required: without it portod closes the connection
            request.listContainersBy.filters = [filter]
            request.listContainersBy.fieldOptions.properties = properties
            do throws(PortoError) {
                return try context.call(request).listContainersBy.containers
            } catch {
                guard case .porto(.invalidMethod, _) = error else { throw error }
                context.connection.legacyContainers = true
            }
        }
        let response = try context.call(LegacyContainerReader.request(properties: properties))
        return LegacyContainerReader.containers(from: response.get)
    }

    /// Writes the samples of `containers` (sorted by name).
    func write(_ containers: [Porto_TContainer], into writer: ExpositionWriter) {
        let netOwn = needsNet ? Self.netOwnership(containers) : [:]
        var previous: String?
        for container in containers {
            if container.hasError, container.error.error != .success { continue }  // a filter that matched nothing
            let name = container.spec.name
            if name == previous { continue }  // never the same series twice
            previous = name
            guard selection.selects(name) else { continue }
            let labels = Labels(["name": name])
            let inherited = needsCgroups ? Self.inheritedMask(container) : 0
            let ownsNet = netOwn[name] ?? true
            let status = container.status
            let spec = container.spec
            let startTime: UInt64? = status.hasStartTime ? status.startTime : nil
            let creationTime: UInt64? = status.hasCreationTime ? status.creationTime : nil

            writer.gauge(ContainerMetadataMetrics.info, labels: Labels([
                "name": name, "parent": ContainerNames.parent(of: name), "level": String(ContainerNames.level(of: name)),
            ]), value: .uint(1))
            if !labelSelection.isEmpty, spec.hasLabels {
                let pairs = labelSelection.labels(from: spec.labels.map.map { ($0.key, $0.val) })
                if !pairs.isEmpty {
                    writer.gauge(ContainerMetadataMetrics.labels, labels: Labels(pairs: [("name", name)] + pairs), value: .uint(1))
                }
            }

            for metric in metrics {
                if metric.controller == .netns, !ownsNet { continue }
                if let controller = metric.controller, controller != .blkioOrMemory,
                   inherited & Self.bit(controller.cgroupController(forKey: nil)) != 0 { continue }
                let created: UInt64? = switch metric.created {
                case .startTime: startTime
                case .creationTime: creationTime
                case nil: nil
                }
                let family = metric.family
                switch metric.field {
                case .status(let path, let has):
                    if status[keyPath: has] { emit(writer, family, labels, metric.conversion.value(status[keyPath: path]), created) }
                case .spec(let path, let has):
                    if spec[keyPath: has] { emit(writer, family, labels, metric.conversion.value(spec[keyPath: path]), created) }
                case .statusCores(let path, let has):
                    if status[keyPath: has] { emit(writer, family, labels, .double(status[keyPath: path]), created) }
                case .specCores(let path, let has):
                    if spec[keyPath: has] { emit(writer, family, labels, .double(spec[keyPath: path]), created) }
                case .statusInt(let path, let has):
                    if status[keyPath: has] { emit(writer, family, labels, .int(Int64(status[keyPath: path])), created) }
                case .statusBool(let path, let has):
                    if status[keyPath: has] { emit(writer, family, labels, .bool(status[keyPath: path]), created) }
                case .vm(let path, let has, _):
                    if status.hasVirtualMemory, status.virtualMemory[keyPath: has] {
                        emit(writer, family, labels, .uint(status.virtualMemory[keyPath: path]), created)
                    }
                case .state:
                    guard status.hasState else { continue }
                    for state in ContainerMetrics.states {
                        writer.gauge(family, labels: labels, extra: state, value: .bool(state == status.state))
                    }
                    if !ContainerMetrics.states.contains(status.state) {
                        writer.gauge(family, labels: labels, extra: status.state, value: .uint(1))
                    }
                case .map(let path, let has):
                    guard status[keyPath: has] else { continue }
                    let entries = status[keyPath: path].map
                    for (index, entry) in entries.enumerated() {
                        if let only = metric.onlyKey {
                            guard entry.key == only else { continue }
                        } else if !metric.excludedKeys.isEmpty, metric.excludedKeys.contains(entry.key) {
                            continue
                        }
                        if metric.controller == .blkioOrMemory, inherited != 0,
                           inherited & Self.bit(Controller.blkioOrMemory.cgroupController(forKey: entry.key)) != 0 { continue }
                        if Self.seenBefore(entry.key, in: entries, before: index) { continue }
                        let value = metric.conversion.value(entry.val)
                        if metric.onlyKey != nil {
                            emit(writer, family, labels, value, created)
                        } else if family.type == .counter {
                            writer.counter(family, labels: labels, extra: entry.key, value: value, created: created)
                        } else {
                            writer.gauge(family, labels: labels, extra: entry.key, value: value)
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    private func emit(_ writer: ExpositionWriter, _ family: MetricFamily, _ labels: Labels, _ value: SampleValue, _ created: UInt64?) {
        if family.type == .counter {
            writer.counter(family, labels: labels, value: value, created: created)
        } else {
            writer.gauge(family, labels: labels, value: value)
        }
    }

    /// Whether a map key repeats an earlier one (a map key is written once).
    private static func seenBefore(_ key: String, in entries: [Porto_TUintMap.TUintMapEntry], before index: Int) -> Bool {
        var i = 0
        while i < index {
            if entries[i].key == key { return true }
            i += 1
        }
        return false
    }

    /// The controllers the container does not own (its `cgroups` entries marked inherited), as
    /// bits (``bit(_:)``). "/" owns everything. A controller without an entry counts as owned
    /// (its values are absent anyway).
    static func inheritedMask(_ container: Porto_TContainer) -> UInt8 {
        guard container.spec.name != "/", container.status.hasCgroups else { return 0 }
        var mask: UInt8 = 0
        for cg in container.status.cgroups.cgroup where cg.inherited {
            if cg.controller.utf8.contains(UInt8(ascii: ",")) {
                for part in cg.controller.split(separator: ",") { mask |= bit(String(part)) }
            } else {
                mask |= bit(cg.controller)
            }
        }
        return mask
    }

    /// The bit of a controller the ownership filter looks at (0 for the others).
    @inline(__always)
    static func bit(_ controller: String?) -> UInt8 {
        switch controller {
        case "cpuacct": 1
        case "cpu": 2
        case "memory": 4
        case "blkio": 8
        default: 0
        }
    }

    /// For each container, whether its network values are its own: true with its own netns or
    /// in the host netns (net `host`, or `inherited` all the way up to "/"), false when it
    /// inherits the netns of an ancestor that has its own (that ancestor's device counters).
    static func netOwnership(_ containers: [Porto_TContainer]) -> [String: Bool] {
        var mode: [String: Substring] = [:]
        for c in containers {
            let net = c.spec.net
            if !c.spec.hasNet {
                mode[c.spec.name] = "?"
            } else if net.inherited || net.cfg.first?.opt == "inherited" {
                mode[c.spec.name] = "inherited"
            } else if net.cfg.first?.opt == "host" {
                mode[c.spec.name] = "host"
            } else {
                mode[c.spec.name] = "own"
            }
        }
        var out: [String: Bool] = [:]
        for c in containers {
            let name = c.spec.name
            if name == "/" { out[name] = true; continue }
            var current = name
            var own = true
            while current != "/" && !current.isEmpty {
                guard let m = mode[current] else { break }
                if m == "inherited" {
                    current = ContainerNames.parent(of: current)
                    continue
                }
                // The netns comes from `current`: its own (fine for itself, not for a descendant), or the host's.
                own = (m == "host" || m == "?" || current == name)
                break
            }
            out[name] = own
        }
        return out
    }
}
