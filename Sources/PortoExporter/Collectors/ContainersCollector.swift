import PortoWire

/// Reads every container with one `ListContainersBy ***` per collection, asking only for the
/// properties of the enabled groups (plus `cgroups`, `net`, times and `labels` when something
/// needs them), and writes the table's samples.
///
/// portod without ListContainersBy (InvalidMethod) is read with one `Get ["***", "/"]` instead
/// (``LegacyContainerReader``); the decision is kept for the connection (``ConnectionState``).
///
/// The ListContainersBy answer is kept as bytes (``PortoClient/callRaw(_:timeout:)``) and decoded
/// one container at a time (``ListContainersByAnswer``), so that at 10,000 containers the decoded
/// messages of all of them never exist at once.
///
/// Double counting (docs/porto.md §4): a nested container that does not own a controller reads its
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
        if metrics.contains(where: { $0.created == .cgroup || $0.created == .netns }) { props.insert("start_time") }
        if metrics.contains(where: { $0.created == .creationTime }) { props.insert("creation_time") }
        if !labels.isEmpty { props.insert("labels") }
        if props.isEmpty { props.insert("state") }  // something cheap, for the info metric
        properties = props.sorted()
        self.selection = selection
        self.labelSelection = labels
    }

    func collect(_ context: CollectContext, into writer: ExpositionWriter) throws(PortoError) {
        if !context.connection.uses(.containers, connection: context.transport.connectionGeneration) {
            let answer: [UInt8]
            do throws(PortoError) {
                answer = try context.callRaw(listContainersByRequest)
            } catch {
                guard case .porto(.invalidMethod, _) = error else { throw error }
                context.connection.use(.containers, connection: context.transport.connectionGeneration)
                return try collectLegacy(context, into: writer)
            }
            do throws(PortoError) {
                try write(answer: answer, into: writer)
            } catch {
                context.answerUndecodable(error)
                throw error
            }
            return
        }
        try collectLegacy(context, into: writer)
    }

    /// `ListContainersBy ***` with the table's properties.
    var listContainersByRequest: Porto_TPortoRequest {
        var request = Porto_TPortoRequest()
        var filter = Porto_TListContainersFilter()
        filter.name = "***"  // upstream-required: without it portod closes the connection
        request.listContainersBy.filters = [filter]
        request.listContainersBy.fieldOptions.properties = properties
        return request
    }

    /// Reads every container through `Get` (portod without ListContainersBy) and writes them.
    private func collectLegacy(_ context: CollectContext, into writer: ExpositionWriter) throws(PortoError) {
        let response = try context.call(LegacyContainerReader.request(properties: properties))
        var containers = LegacyContainerReader.containers(from: response.get)
        containers.sort { $0.spec.name.utf8.lexicographicallyPrecedes($1.spec.name.utf8) }
        write(containers, into: writer)
    }

    /// Writes the samples of an encoded ListContainersBy answer (a TPortoResponse), decoding one
    /// container at a time (``ListContainersByAnswer``). Throws `.decode` for malformed bytes:
    /// the containers before the malformed one are written by then.
    func write(answer: [UInt8], into writer: ExpositionWriter) throws(PortoError) {
        let answer = try ListContainersByAnswer(answer, withNet: needsNet)
        let netOwn = needsNet ? Self.netOwnership(answer.entries.map { ($0.name, $0.net.map(Self.netMode) ?? .unknown) }) : [:]
        var previous: String?
        var scratch: [UInt8] = []
        for entry in answer.entries {
            let container = try answer.container(entry, scratch: &scratch)
            write(container, netOwn: netOwn, previous: &previous, into: writer)
        }
    }

    /// Writes the samples of `containers` (sorted by name).
    func write(_ containers: [Porto_TContainer], into writer: ExpositionWriter) {
        let netOwn = needsNet ? Self.netOwnership(containers.map { ($0.spec.name, Self.netMode($0.spec)) }) : [:]
        var previous: String?
        for container in containers {
            write(container, netOwn: netOwn, previous: &previous, into: writer)
        }
    }

    /// Writes the samples of one container. `previous` is the name of the container written
    /// before it (containers come sorted by name: a repeated name is skipped); `netOwn` is
    /// ``netOwnership(_:)`` of the whole answer (empty when no net metric is enabled).
    func write(_ container: Porto_TContainer, netOwn: [String: Bool], previous: inout String?, into writer: ExpositionWriter) {
        if container.hasError, container.error.error != .success { return }  // a filter that matched nothing
        let name = container.spec.name
        if name == previous { return }  // never the same series twice
        previous = name
        guard selection.selects(name) else { return }
        let labels = Labels(["name": name])
        let inherited = needsCgroups ? Self.inheritedMask(container) : 0
        let ownsNet = needsNet ? netOwn[name] ?? true : true
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

        // The table is walked once per container: through a buffer pointer, and with everything the
        // loop needs precomputed in the (class) entries, so that nothing is copied per metric.
        metrics.withUnsafeBufferPointer { table in
            for metric in table {
                if metric.controller == .netns, !ownsNet { continue }
                if inherited & metric.ownershipBit != 0 { continue }
                let created: UInt64? = switch metric.created {
                case .cgroup, .netns: startTime
                case .creationTime: creationTime
                case nil: nil
                }
                switch metric.field {
                case .status(_, let read):
                    if let v = read(status) { emit(writer, metric, labels, metric.conversion.value(v), created) }
                case .spec(_, let read):
                    if let v = read(spec) { emit(writer, metric, labels, metric.conversion.value(v), created) }
                case .statusCores(_, let read):
                    if let v = read(status) { emit(writer, metric, labels, .double(v), created) }
                case .specCores(_, let read):
                    if let v = read(spec) { emit(writer, metric, labels, .double(v), created) }
                case .statusInt(_, let read):
                    if let v = read(status) { emit(writer, metric, labels, .int(Int64(v)), created) }
                case .statusBool(_, let read):
                    if let v = read(status) { emit(writer, metric, labels, .bool(v), created) }
                case .vm(_, let read, _):
                    if status.hasVirtualMemory, let v = read(status.virtualMemory) {
                        emit(writer, metric, labels, .uint(v), created)
                    }
                case .state:
                    guard status.hasState else { continue }
                    let current = status.state
                    var known = false
                    for state in ContainerMetrics.states {
                        let isCurrent = state == current
                        known = known || isCurrent
                        writer.gauge(metric.family, labels: labels, extra: state, value: .bool(isCurrent))
                    }
                    if !known {
                        writer.gauge(metric.family, labels: labels, extra: current, value: .uint(1))
                    }
                case .map(_, let read):
                    guard let map = read(status) else { continue }
                    writeMap(map.map, metric, labels, created, into: writer)
                }
            }
        }
    }

    /// The samples of one `TUintMap` metric of one container: the keys its ``MapKeys`` selects,
    /// each once, in portod's order.
    private func writeMap(
        _ entries: [Porto_TUintMap.TUintMapEntry], _ metric: ContainerMetric, _ labels: Labels,
        _ created: UInt64?, into writer: ExpositionWriter
    ) {
        switch metric.keys {
        case .key(let wanted):
            if let entry = entries.first(where: { $0.key == wanted }) {
                emit(writer, metric, labels, metric.conversion.value(entry.val), created)
            }
        case .diskTotal:
            if let hw = entries.first(where: { $0.key == "hw" }) {
                emit(writer, metric, labels, metric.conversion.value(hw.val), created)
                return
            }
            // No `hw` key: the same sum, over the keys portod would add up.
            var sum: UInt64 = 0
            var any = false
            for index in entries.indices where MapKeys.isPhysicalDisk(entries[index].key) {
                if Self.seenBefore(entries[index].key, in: entries, before: index) { continue }
                sum &+= entries[index].val
                any = true
            }
            if any { emit(writer, metric, labels, metric.conversion.value(sum), created) }
        default:
            for index in entries.indices {
                let key = entries[index].key
                guard let label = metric.keys.label(for: key) else { continue }
                if Self.seenBefore(key, in: entries, before: index) { continue }
                let value = metric.conversion.value(entries[index].val)
                if metric.isCounter {
                    writer.counter(metric.family, labels: labels, extra: label, value: value, created: created)
                } else {
                    writer.gauge(metric.family, labels: labels, extra: label, value: value)
                }
            }
        }
    }

    @inline(__always)
    private func emit(_ writer: ExpositionWriter, _ metric: ContainerMetric, _ labels: Labels, _ value: SampleValue, _ created: UInt64?) {
        if metric.isCounter {
            writer.counter(metric.family, labels: labels, value: value, created: created)
        } else {
            writer.gauge(metric.family, labels: labels, value: value)
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

    /// How a container's network namespace is set (its `net` property): only what
    /// ``netOwnership(_:)`` needs.
    enum NetMode: Sendable {
        /// `net` not answered.
        case unknown
        case inherited
        case host
        case own
    }

    /// The ``NetMode`` of a container's spec.
    static func netMode(_ spec: Porto_TContainerSpec) -> NetMode {
        guard spec.hasNet else { return .unknown }
        return netMode(spec.net)
    }

    static func netMode(_ net: Porto_TContainerNetConfig) -> NetMode {
        if net.inherited || net.cfg.first?.opt == "inherited" { return .inherited }
        if net.cfg.first?.opt == "host" { return .host }
        return .own
    }

    /// For each container, whether its network values are its own: true with its own netns or
    /// in the host netns (net `host`, or `inherited` all the way up to "/"), false when it
    /// inherits the netns of an ancestor that has its own (that ancestor's device counters).
    static func netOwnership(_ containers: [(name: String, mode: NetMode)]) -> [String: Bool] {
        var mode: [String: NetMode] = [:]
        mode.reserveCapacity(containers.count)
        for c in containers { mode[c.name] = c.mode }
        var out: [String: Bool] = [:]
        out.reserveCapacity(containers.count)
        for c in containers {
            let name = c.name
            if name == "/" { out[name] = true; continue }
            var current = name
            var own = true
            while current != "/" && !current.isEmpty {
                guard let m = mode[current] else { break }
                if m == .inherited {
                    current = ContainerNames.parent(of: current)
                    continue
                }
                // The netns comes from `current`: its own (fine for itself, not for a descendant), or the host's.
                own = (m == .host || m == .unknown || current == name)
                break
            }
            out[name] = own
        }
        return out
    }
}
