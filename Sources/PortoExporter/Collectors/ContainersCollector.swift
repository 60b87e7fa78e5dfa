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
/// Memory (docs/porto.md §7.1): the 7 memory.stat-derived properties make portod re-read
/// memory.stat for each, so on this path they are read as one `Get` of the raw `memory.stat` of
/// "/" and every memory-cgroup owner after the answer (``writeMemoryStat(_:pass:known:into:)``),
/// which also gives the working set. The process, io and pressure groups, the costliest left, are
/// read for a quarter of the containers per collection (``writeSlowGroups(_:pass:known:into:)``).
/// Properties portod does not list (ListProperties, once per connection) are never asked.
///
/// Double counting (docs/porto.md §4): a nested container that does not own a controller reads its
/// ancestor's cgroup. A sample whose metric has a controller is written only if the container owns
/// it (its `cgroups` entry for that controller is not `inherited`); network samples only for a
/// container with its own network namespace or in the host's (where the values are its own
/// sockets'). Values still include descendants: never add levels together.
struct ContainersCollector: Collector {
    let name = "containers"
    /// ListContainersBy (or Get) over every container: the costly request, run last with all the time left.
    var isCheap: Bool { false }
    let metrics: [ContainerMetric]
    /// The ListContainersBy property names, sorted.
    let properties: [String]
    let selection: ContainerSelection
    let labelSelection: LabelSelection
    let needsCgroups: Bool
    let needsNet: Bool
    /// Where each field is read (``ContainerReader``).
    let plan: ReadPlan
    /// Whether counters get `_created` (``CollectionConfiguration/createdSamples``); then
    /// `created` remembers, per container, when its cgroups were made.
    let created: CreatedTimes?
    /// The memory group's metrics read from memory.stat on the ListContainersBy path.
    let memoryStatMetrics: [ContainerMetric]
    /// The metrics read at a slower cadence (``slowGroups``) on the ListContainersBy path.
    let slowMetrics: [ContainerMetric]
    let slowValues = SlowValues()
    /// Whether `porto_container_info` and `porto_container_labels` are written: not by the
    /// collectors that write the memory.stat and slower groups' samples after the pass.
    let writesMetadata: Bool
    /// For those: the `_created` times the pass worked out, per container.
    let laterTimes: LaterTimes?

    init(groups: Set<CollectorGroup>, selection: ContainerSelection, labels: LabelSelection, createdSamples: Bool = false) {
        self.init(metrics: ContainerMetrics.all.filter { groups.contains($0.group) }, selection: selection, labels: labels,
                  createdSamples: createdSamples)
    }

    /// A collector of `metrics`; with `laterTimes` it writes their samples only, `_created` from
    /// `laterTimes` when it holds any.
    init(metrics: [ContainerMetric], selection: ContainerSelection, labels: LabelSelection, createdSamples: Bool = false,
         laterTimes: LaterTimes? = nil) {
        self.metrics = metrics
        self.writesMetadata = laterTimes == nil
        self.laterTimes = laterTimes
        var props = Set(metrics.map(\.property))
        needsCgroups = metrics.contains { $0.controller != nil && $0.controller != .netns }
        needsNet = metrics.contains { $0.controller == .netns }
        if needsCgroups { props.insert("cgroups") }
        if needsNet { props.insert("net") }
        created = createdSamples && metrics.contains(where: { $0.created != nil }) ? CreatedTimes() : nil
        if created != nil {
            // respawn_count tells a respawn (cgroups kept) from a stop and start (docs/porto.md §3.4).
            props.formUnion(["start_time", "creation_time", "respawn_count"])
        }
        // A restart (a new start_time) makes the slower groups' kept values stale at once.
        if metrics.contains(where: { Self.slowGroups.contains($0.group) }) { props.insert("start_time") }
        if !labels.isEmpty { props.insert("labels") }
        if props.isEmpty { props.insert("state") }  // something cheap, for the info metric
        properties = props.sorted()
        plan = ReadPlan(metrics)
        memoryStatMetrics = metrics.filter { Self.memoryStatProperties.contains($0.property) }
        slowMetrics = metrics.filter { Self.slowGroups.contains($0.group) }
        self.selection = selection
        self.labelSelection = labels
    }

    func collect(_ context: CollectContext, into writer: ExpositionWriter) throws(PortoError) {
        let generation = context.transport.connectionGeneration
        let known = try knownProperties(context)
        if !context.connection.uses(.containers, connection: generation) {
            let viaMemoryStat = !memoryStatMetrics.isEmpty && !context.connection.uses(.memoryStat, connection: generation)
            let pass = viaMemoryStat || !slowMetrics.isEmpty ? ContainerPass() : nil
            var skipped = viaMemoryStat ? Self.memoryStatProperties : []
            skipped.formUnion(slowMetrics.map(\.property))
            do {
                // A scope of its own: the answer's bytes are freed before the Gets that follow
                // (the process's peak memory is while they are read).
                let answer: [UInt8]
                do throws(PortoError) {
                    answer = try context.callRaw(
                        listContainersByRequest(properties.filter { known.knows($0) && !skipped.contains($0) }), fallsBack: true)
                } catch {
                    guard case .porto(.invalidMethod, _) = error else { throw error }
                    context.connection.use(.containers, connection: generation)
                    context.note("containers-get", "portod has no ListContainersBy (older than 5.0): reading containers with Get")
                    return try collectLegacy(context, known: known, into: writer)
                }
                do throws(PortoError) {
                    try write(answer: consume answer, pass: pass, into: writer, context: context)
                } catch {
                    context.answerUndecodable(error, method: "ListContainersBy")
                    throw error
                }
            }
            if let pass {
                if viaMemoryStat { try writeMemoryStat(context, pass: pass, known: known, into: writer) }
                if !slowMetrics.isEmpty { try writeSlowGroups(context, pass: pass, known: known, into: writer) }
            }
            return
        }
        try collectLegacy(context, known: known, into: writer)
    }

    /// What ListContainersBy is asked for: `properties` less the unknown ones (ListProperties, asked
    /// once per connection; a portod that cannot answer it is asked for everything).
    private func knownProperties(_ context: CollectContext) throws(PortoError) -> KnownProperties {
        let generation = context.transport.connectionGeneration
        if let known = context.connection.knownProperties(connection: generation) { return known }
        var request = Porto_TPortoRequest()
        request.listProperties = Porto_TListPropertiesRequest()
        let known: KnownProperties
        do throws(PortoError) {
            known = KnownProperties(names: Set(try context.call(request, fallsBack: true).listProperties.list.map(\.name)))
        } catch {
            guard case .porto = error else { throw error }
            known = KnownProperties(names: nil)
        }
        context.connection.setKnownProperties(known, connection: generation)
        return known
    }

    /// `ListContainersBy ***` with the table's properties.
    var listContainersByRequest: Porto_TPortoRequest { listContainersByRequest(properties) }

    /// `ListContainersBy ***` with `properties`.
    func listContainersByRequest(_ properties: [String]) -> Porto_TPortoRequest {
        var request = Porto_TPortoRequest()
        var filter = Porto_TListContainersFilter()
        filter.name = "***"  // upstream-required: without it portod closes the connection
        request.listContainersBy.filters = [filter]
        request.listContainersBy.fieldOptions.properties = properties
        return request
    }

    /// Reads every container through `Get` (portod without ListContainersBy) and writes them.
    private func collectLegacy(_ context: CollectContext, known: KnownProperties, into writer: ExpositionWriter) throws(PortoError) {
        let response = try context.call(LegacyContainerReader.request(properties: properties.filter { known.knows($0) }))
        var unknown = Set<String>()
        var undecodable: [String: String] = [:]
        var containers = LegacyContainerReader.containers(from: response.get, unknownProperties: &unknown, undecodable: &undecodable)
        Self.noteUnknown(unknown, context)
        if !undecodable.isEmpty {
            // Property names only: a value (a label map) may hold anything.
            context.note("undecodable-values", "portod values not understood: those samples are left out", level: .warning,
                         metadata: ["properties": "\(undecodable.keys.sorted().joined(separator: ","))"])
        }
        containers.sort { $0.spec.name.utf8.lexicographicallyPrecedes($1.spec.name.utf8) }
        write(containers, into: writer)
    }

    /// Writes the samples of an encoded ListContainersBy answer (a TPortoResponse), reading each
    /// container's fields straight from the answer's bytes (``ListContainersByAnswer``,
    /// ``ContainerReader``). Throws `.decode` for malformed bytes: the containers before the
    /// malformed one are written by then. Properties portod does not know are logged once per
    /// connection through `context`.
    func write(answer bytes: consuming [UInt8], pass: ContainerPass? = nil, into writer: ExpositionWriter, context: CollectContext? = nil) throws(PortoError) {
        var bytes = bytes
        let entries: [ListContainersByAnswer.Entry]
        do {
            let answer = try ListContainersByAnswer(bytes, withNet: needsNet)
            entries = Self.sortedByName(answer.entries)
            if let context, let first = entries.first {
                // portod adds the same InvalidProperty entries to every container (docs/porto.md §1.3):
                // the first container tells them all, decoded whole once per scrape.
                var scratch: [UInt8] = []
                let container = try answer.container(first, scratch: &scratch)
                Self.noteUnknown(Set(container.status.error.compactMap(Self.unknownProperty)), context)
            }
        }
        // In portod's order (by name, docs/porto.md §2.3), the bytes behind the container being
        // read are given back as the pass goes (``ReadBytes``).
        let inOrder = zip(entries, entries.dropFirst()).allSatisfy { $0.range.upperBound <= $1.range.lowerBound }
        let netOwn = needsNet ? Self.netOwnershipInOrder(entries.map { ($0.name, $0.net.map(Self.netMode) ?? .unknown) }) : []
        var previous: String?
        var scratch = Scratch(plan)
        created?.beginCollection()
        defer { created?.endCollection() }
        // Mutable access makes the buffer this function's own (copied if a caller still holds it).
        try bytes.withUnsafeMutableBufferPointer { buffer throws(PortoError) in
            let readOnly = UnsafeBufferPointer(buffer)
            var read = ReadBytes(UnsafeMutableRawBufferPointer(buffer))
            for (i, entry) in entries.enumerated() {
                if inOrder { read.passed(entry.range.lowerBound) }
                try scratch.reader.read(readOnly, entry.range)
                try write(entry.name, &scratch, ownsNet: needsNet ? netOwn[i] : true, previous: &previous, pass: pass, into: writer)
            }
        }
    }

    /// The containers in the order the exporter writes them: by name (byte order), equal names
    /// in portod's order (the first is written). portod sends them sorted already
    /// (docs/porto.md §2.3), so this is usually a check.
    static func sortedByName(_ entries: [ListContainersByAnswer.Entry]) -> [ListContainersByAnswer.Entry] {
        var i = 1
        while i < entries.count, compare(entries[i].name, entries[i - 1].name) >= 0 { i += 1 }
        if i >= entries.count { return entries }
        // Sorted as (name, position) pairs: stable whatever the sort algorithm.
        return entries.indices.sorted { a, b in
            let x = entries[a].name.utf8, y = entries[b].name.utf8
            return x.lexicographicallyPrecedes(y) || (x.elementsEqual(y) && a < b)
        }.map { entries[$0] }
    }

    /// The property an `InvalidProperty` "Unknown property X" entry names (nil for other errors).
    static func unknownProperty(_ error: Porto_TError) -> String? {
        guard error.error == .invalidProperty else { return nil }
        let prefix = "Unknown property "
        return error.msg.hasPrefix(prefix) ? String(error.msg.dropFirst(prefix.count)) : error.msg
    }

    /// Logs, once per connection, the properties portod does not know (an older portod): their
    /// samples are missing, which is not a failure.
    static func noteUnknown(_ unknown: Set<String>, _ context: CollectContext) {
        guard !unknown.isEmpty else { return }
        context.note("unknown-properties", "portod does not know these properties: their samples are left out",
                     metadata: ["properties": "\(unknown.sorted().joined(separator: ","))"])
    }

    /// Writes the samples of `containers` (sorted by name): each is serialised and read like a
    /// ListContainersBy answer's container, so that both paths read the table one way.
    func write(_ containers: [Porto_TContainer], into writer: ExpositionWriter) {
        let netOwn = needsNet ? Self.netOwnership(containers.map { ($0.spec.name, Self.netMode($0.spec)) }) : [:]
        var previous: String?
        var scratch = Scratch(plan)
        created?.beginCollection()
        defer { created?.endCollection() }
        for container in containers {
            do {
                let bytes: [UInt8] = try container.serializedBytes()
                try bytes.withUnsafeBufferPointer { buffer throws(PortoError) in
                    try scratch.reader.read(buffer, 0..<buffer.count)
                    try write(container.spec.name, &scratch, ownsNet: netOwn[container.spec.name] ?? true, previous: &previous, into: writer)
                }
            } catch {
                // A message built here always serialises and reads back.
                assertionFailure("container \(container.spec.name): \(error)")
            }
        }
    }

    /// Where the collector reads each field (``ContainerReader/Layout``): one slot per metric, in
    /// the table's order, and the fields read besides them.
    final class ReadPlan: Sendable {
        let layout: ContainerReader.Layout
        let metrics: [Int]
        let startTime: Int
        let creationTime: Int
        let cgroups: Int
        let labels: Int
        let respawnCount: Int
        /// The slot of `memory_usage`, when a metric reads it (for the working set).
        let memoryUsage: Int?
        /// Whether a metric reads the controller owners (the `cgroups` slot's paths).
        let readsOwners: Bool

        init(_ metrics: [ContainerMetric]) {
            let layout = ContainerReader.Layout()
            let slots = metrics.map { metric in
                let wire = metric.field.wire
                return layout.add(wire.message, wire.number, wire.kind)
            }
            self.metrics = slots
            memoryUsage = metrics.firstIndex { $0.property == "memory_usage" }.map { slots[$0] }
            startTime = layout.add(.status, 20, .varint)
            creationTime = layout.add(.status, 19, .varint)
            cgroups = layout.add(.status, 24, .lengthDelimited)
            labels = layout.add(.spec, 4, .lengthDelimited)
            respawnCount = layout.add(.spec, 36, .varint)
            let cgroupsSlot = cgroups
            readsOwners = zip(metrics, slots).contains { metric, slot in
                if case .controllerOwners = metric.field { slot == cgroupsSlot } else { false }
            }
            self.layout = layout
        }
    }

    /// What a collection reuses from one container to the next (nothing allocated per field).
    struct Scratch {
        var reader: ContainerReader
        var entries: [(key: UnsafeBufferPointer<UInt8>, value: UInt64)] = []
        var cgroups: [(controller: UnsafeBufferPointer<UInt8>, inherited: Bool)] = []
        var vm = [UInt64](repeating: 0, count: 16)
        var error = [UInt64](repeating: 0, count: 2)
        var cgroupPaths: [(controller: UnsafeBufferPointer<UInt8>, path: UnsafeBufferPointer<UInt8>, inherited: Bool)] = []
        var owner: [UInt8] = []

        init(_ plan: ReadPlan) { reader = ContainerReader(plan.layout) }
    }

    /// Writes the samples of the container in `scratch.reader`, named `name`. `previous` is the
    /// name of the container written before it (containers come sorted by name: a repeated name is
    /// skipped); `ownsNet` is its ``netOwnership(_:)`` in the whole answer (true when no net metric
    /// is enabled); `pass` notes the container for the requests that follow the answer; `inherited`
    /// and `labels`, when given, are the container's ``inheritedMask(_:_:)`` and `name` label as
    /// the pass worked them out.
    func write(
        _ name: String, _ scratch: inout Scratch, ownsNet: Bool, previous: inout String?, pass: ContainerPass? = nil,
        inherited knownInherited: UInt8? = nil, labels knownLabels: Labels? = nil, into writer: ExpositionWriter
    ) throws(PortoError) {
        // Read through `scratch` rather than a copy of the reader (each copy retained its arrays).
        if scratch.reader.hasError, scratch.reader.errorCode != 0 { return }  // a filter that matched nothing (0: Success)
        if name == previous { return }  // never the same series twice
        previous = name
        guard selection.selects(name) else { return }
        let labels = knownLabels ?? Labels(name: name)
        let inherited: UInt8
        // With the owners written too, the entries are read once with their paths; where that
        // fails, as before (the same samples, the same error at the same sample).
        var pathsRead = false
        if let knownInherited {
            inherited = knownInherited
        } else if needsCgroups, plan.readsOwners, name != "/" {
            scratch.cgroupPaths.removeAll(keepingCapacity: true)
            do {
                try scratch.reader.cgroupPaths(plan.cgroups, into: &scratch.cgroupPaths)
                pathsRead = true
            } catch {
                scratch.cgroupPaths.removeAll(keepingCapacity: true)
            }
            inherited = pathsRead ? Self.mask(scratch.cgroupPaths) : try inheritedMask(name, &scratch)
        } else {
            inherited = needsCgroups ? try inheritedMask(name, &scratch) : 0
        }
        var startTime: UInt64?
        var creationTime: UInt64?
        var cgroupTime: UInt64?
        if let created {
            startTime = scratch.reader.uint64(plan.startTime)
            creationTime = scratch.reader.uint64(plan.creationTime)
            cgroupTime = created.cgroupTime(name: name, creation: creationTime, start: startTime, respawns: scratch.reader.uint64(plan.respawnCount))
        } else if let times = laterTimes?.times[name] {
            (startTime, creationTime, cgroupTime) = (times.start, times.creation, times.cgroup)
        }
        pass?.note(name, labels: labels, inherited: inherited, startTime: scratch.reader.uint64(plan.startTime),
                   created: created == nil ? nil : (startTime, creationTime, cgroupTime),
                   memoryUsage: plan.memoryUsage.flatMap { scratch.reader.uint64($0) })

        if writesMetadata, knownLabels == nil {
            Self.writeInfo(name, labels: labels, into: writer)
        } else if writesMetadata {
            writer.gauge(ContainerMetadataMetrics.info, labels: Labels([
                "name": name, "parent": ContainerNames.parent(of: name), "level": String(ContainerNames.level(of: name)),
            ]), value: .uint(1))
        }
        if writesMetadata, !labelSelection.isEmpty, let map = try scratch.reader.stringMap(plan.labels) {
            let pairs = labelSelection.labels(from: map.map { (key: $0.0, value: $0.1) })
            if !pairs.isEmpty {
                writer.gauge(ContainerMetadataMetrics.labels, labels: Labels(pairs: [("name", name)] + pairs), value: .uint(1))
            }
        }

        var vmPresent: UInt64?
        var vmRead = false
        var entriesSlot = -1
        // The table is walked once per container: through buffer pointers, and with everything the
        // loop needs precomputed in the (class) entries, so that nothing is copied per metric.
        try metrics.withUnsafeBufferPointer { table throws(PortoError) in
            try plan.metrics.withUnsafeBufferPointer { slots throws(PortoError) in
                for i in 0..<table.count {
                    // Not retained and released per metric: `metrics` holds every entry for the whole walk.
                    var failure: PortoError?
                    Unmanaged.passUnretained(table[i])._withUnsafeGuaranteedRef { metric in
                        do throws(PortoError) {
                            let slot = slots[i]
                            guard scratch.reader.has(slot) else {
                                if case .startFailed = metric.field { writer.gauge(metric.family, labels: labels, value: .uint(0)) }
                                return
                            }
                            if metric.controller == .netns, !ownsNet { return }
                            if inherited & metric.ownershipBit != 0 { return }
                            let created: UInt64? = switch metric.created {
                            case .cgroup: cgroupTime
                            case .netns: startTime
                            case .creationTime: creationTime
                            case nil: nil
                            }
                            switch metric.field {
                            case .status, .spec:
                                if let v = scratch.reader.uint64(slot) { emit(writer, metric, labels, metric.conversion.value(v), created) }
                            case .statusCores, .specCores:
                                if let v = scratch.reader.double(slot) { emit(writer, metric, labels, .double(v), created) }
                            case .statusInt:
                                if let v = scratch.reader.int32(slot) { emit(writer, metric, labels, .int(Int64(v)), created) }
                            case .statusBool:
                                if let v = scratch.reader.bool(slot) { emit(writer, metric, labels, .bool(v), created) }
                            case .vm(let number, _, _):
                                if !vmRead {
                                    for k in scratch.vm.indices { scratch.vm[k] = 0 }
                                    vmPresent = try scratch.reader.scalars(slot, into: &scratch.vm)
                                    vmRead = true
                                }
                                if let present = vmPresent, present & (1 << UInt64(number)) != 0 {
                                    emit(writer, metric, labels, .uint(scratch.vm[number]), created)
                                }
                            case .state:
                                guard let current = try scratch.reader.string(slot) else { return }
                                var known = false
                                let states = ContainerMetrics.stateBytes
                                for k in states.indices {
                                    let isCurrent = Self.equal(states[k], current)
                                    known = known || isCurrent
                                    writer.add(metric.family, labels: labels, sharedExtras: states, at: k, value: .bool(isCurrent))
                                }
                                if !known {
                                    writer.add(metric.family, labels: labels, extraUTF8: current, value: .uint(1), created: nil)
                                }
                            case .startFailed:
                                writer.gauge(metric.family, labels: labels, value: .bool(try Self.startError(slot, &scratch) != 0))
                            case .startErrorName:
                                let code = try Self.startError(slot, &scratch)
                                guard code != 0 else { return }
                                let errorName = Porto_EError(rawValue: Int(truncatingIfNeeded: code))?.portoName ?? "Error\(code)"
                                writer.gauge(metric.family, labels: labels, extra: errorName, value: .uint(1))
                            case .controllerOwners:
                                if !pathsRead || slot != plan.cgroups {
                                    scratch.cgroupPaths.removeAll(keepingCapacity: true)
                                    try scratch.reader.cgroupPaths(slot, into: &scratch.cgroupPaths)
                                }
                                Self.writeOwners(scratch.cgroupPaths, of: name, labels: labels, metric, into: writer, owner: &scratch.owner)
                            case .map:
                                // One map feeds several families (total, per disk, ...): read it once.
                                if slot != entriesSlot {
                                    scratch.entries.removeAll(keepingCapacity: true)
                                    try scratch.reader.uintMap(slot, into: &scratch.entries)
                                    entriesSlot = slot
                                }
                                writeMap(scratch.entries, metric, labels, created, into: writer)
                            }
                        } catch {
                            failure = error
                        }
                    }
                    if let failure { throw failure }
                }
            }
        }
    }

    /// `porto_container_info` of `name`, whose `name` label is `labels`: its parent and level
    /// (``ContainerNames``) worked out on the name's bytes, appended without a `Labels` made.
    static func writeInfo(_ name: String, labels: Labels, into writer: ExpositionWriter) {
        var name = name
        name.withUTF8 { utf8 in
            var level = 0
            var parent = UnsafeBufferPointer(rebasing: utf8[0..<0])
            var isRoot = false
            if !(utf8.count == 1 && utf8[0] == UInt8(ascii: "/")) {
                var last = -1
                level = 1
                for i in utf8.indices where utf8[i] == UInt8(ascii: "/") {
                    level += 1
                    last = i
                }
                if last >= 0 { parent = UnsafeBufferPointer(rebasing: utf8[0..<last]) } else { isRoot = true }
            }
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: NumberWriter.maxLength) { digits in
                let count = NumberWriter.write(UInt64(level), at: digits.baseAddress!)
                let levelBytes = UnsafeBufferPointer(start: digits.baseAddress, count: count)
                if isRoot {
                    rootName.withUnsafeBufferPointer {
                        writer.gauge(ContainerMetadataMetrics.info, labels: labels, "parent", $0, "level", levelBytes, value: .uint(1))
                    }
                } else {
                    writer.gauge(ContainerMetadataMetrics.info, labels: labels, "parent", parent, "level", levelBytes, value: .uint(1))
                }
            }
        }
    }

    static let rootName: [UInt8] = [UInt8(ascii: "/")]

    /// The samples of one `TUintMap` metric of one container: the keys its ``MapKeys`` selects,
    /// each once, in portod's order.
    private func writeMap(
        _ entries: [(key: UnsafeBufferPointer<UInt8>, value: UInt64)], _ metric: ContainerMetric, _ labels: Labels,
        _ created: UInt64?, into writer: ExpositionWriter
    ) {
        Self.mapSamples(entries, metric) { value, extra in
            if let extra {
                writer.add(metric.family, labels: labels, extraUTF8: extra, value: value, created: metric.isCounter ? created : nil)
            } else {
                emit(writer, metric, labels, value, created)
            }
        }
    }

    /// The samples of one `TUintMap` metric: each value with its extra label's value (UTF-8, not
    /// escaped; nil for a family without an extra label).
    @inline(__always)
    static func mapSamples(
        _ entries: [(key: UnsafeBufferPointer<UInt8>, value: UInt64)], _ metric: ContainerMetric,
        _ sample: (SampleValue, UnsafeBufferPointer<UInt8>?) -> Void
    ) {
        switch metric.keys {
        case .key:
            guard let wanted = metric.keyBytes else { return }
            if let entry = entries.first(where: { Self.equal(wanted, $0.key) }) {
                sample(metric.conversion.value(entry.value), nil)
            }
        case .diskTotal:
            if let hw = entries.first(where: { Self.equal(Self.hwKey, $0.key) }) {
                sample(metric.conversion.value(hw.value), nil)
                return
            }
            // No `hw` key: the same sum, over the keys portod would add up.
            var sum: UInt64 = 0
            var any = false
            for index in entries.indices where MapKeys.isPhysicalDisk(entries[index].key) {
                if Self.seenBefore(entries[index].key, in: entries, before: index) { continue }
                sum &+= entries[index].value
                any = true
            }
            if any { sample(metric.conversion.value(sum), nil) }
        default:
            for index in entries.indices {
                let key = entries[index].key
                guard let label = metric.keys.label(for: key) else { continue }
                if Self.seenBefore(key, in: entries, before: index) { continue }
                sample(metric.conversion.value(entries[index].value), label)
            }
        }
    }

    static let hwKey = Array("hw".utf8)

    /// Whether `a` and `b` hold the same bytes.
    @inline(__always)
    static func equal(_ a: [UInt8], _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        a.withUnsafeBufferPointer { equal($0, b) }
    }

    @inline(__always)
    static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        var i = 0
        while i < a.count {
            if a[i] != b[i] { return false }
            i += 1
        }
        return true
    }

    @inline(__always)
    func emit(_ writer: ExpositionWriter, _ metric: ContainerMetric, _ labels: Labels, _ value: SampleValue, _ created: UInt64?) {
        writer.add(metric.family, labels: labels, value: value, created: metric.isCounter ? created : nil)
    }

    /// The error code (`TError.error`, field 1) of `start_error`; 0 (Success) when unset.
    static func startError(_ slot: Int, _ scratch: inout Scratch) throws(PortoError) -> UInt64 {
        scratch.error[1] = 0
        guard let present = try scratch.reader.scalars(slot, into: &scratch.error), present & 2 != 0 else { return 0 }
        return scratch.error[1]
    }

    /// `porto_container_controller_owner`: for each controller the ownership filter uses, the
    /// container whose cgroup the container reads (docs/porto.md §4). Porto names its cgroups
    /// `porto%a%b` after the container `a/b`; the mount point itself is "/"'s. `labels` are the
    /// container's (`name`).
    static func writeOwners(
        _ cgroups: [(controller: UnsafeBufferPointer<UInt8>, path: UnsafeBufferPointer<UInt8>, inherited: Bool)],
        of name: String, labels: Labels, _ metric: ContainerMetric, into writer: ExpositionWriter, owner scratch: inout [UInt8]
    ) {
        var name = name
        name.withUTF8 { name in
            for cg in cgroups {
                // Controllers are ASCII: split on bytes (a String per cgroup and per piece cost more
                // than the rest of the container); as Characters otherwise. Most cgroups hold no
                // controller the filter uses: their owner is not worked out.
                let ascii = isASCII(cg.controller)
                if ascii, bits(cg.controller) == 0 { continue }
                scratch.removeAll(keepingCapacity: true)
                if !cg.inherited {
                    scratch.append(contentsOf: name)
                } else if !Self.owner(ofInherited: cg.path, into: &scratch) {
                    continue  // a path this reading does not understand: no guess
                }
                scratch.withUnsafeBufferPointer { owner in
                    func write(_ controller: UnsafeBufferPointer<UInt8>) {
                        writer.gauge(metric.family, labels: labels, "controller", controller, "owner", owner, value: .uint(1))
                    }
                    if ascii {
                        var start = 0
                        for i in 0...cg.controller.count where i == cg.controller.count || cg.controller[i] == UInt8(ascii: ",") {
                            let piece = UnsafeBufferPointer(rebasing: cg.controller[start..<i])
                            start = i + 1
                            if bit(piece) != 0 { write(piece) }
                        }
                    } else {
                        for controller in String(decoding: cg.controller, as: UTF8.self).split(separator: ",") where bit(String(controller)) != 0 {
                            var controller = String(controller)
                            controller.withUTF8 { write($0) }
                        }
                    }
                }
            }
        }
    }

    /// ``owner(ofInherited:)`` as UTF-8 appended to `out`; false for nil.
    static func owner(ofInherited path: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) -> Bool {
        guard isASCII(path) else {
            guard let owner = owner(ofInherited: path) else { return false }
            out.append(contentsOf: owner.utf8)
            return true
        }
        if let encoded = portoComponent(path) {
            // Appended at once, then `%` turned into `/` in place (not an append per byte).
            let start = out.count
            out.append(contentsOf: UnsafeBufferPointer(rebasing: encoded))
            out.withUnsafeMutableBufferPointer { bytes in
                for k in start..<bytes.count where bytes[k] == UInt8(ascii: "%") { bytes[k] = UInt8(ascii: "/") }
            }
            return true
        }
        guard let owner = owner(ofInherited: path) else { return false }
        out.append(contentsOf: owner.utf8)
        return true
    }

    /// The owner of a cgroup `path` a container inherits: the container named by its last
    /// component `porto%a%b`, "/" for a path without "porto", nil for other paths.
    static func owner(ofInherited path: UnsafeBufferPointer<UInt8>) -> String? {
        guard isASCII(path) else {
            let path = String(decoding: path, as: UTF8.self)
            if let last = path.split(separator: "/").last, last.hasPrefix("porto%") {
                return last.dropFirst(6).split(separator: "%", omittingEmptySubsequences: false).joined(separator: "/")
            }
            return path.contains("porto") ? nil : "/"
        }
        // The same reading on bytes (where a byte is a Character).
        if let encoded = portoComponent(path) {
            return String(decoding: encoded.map { $0 == UInt8(ascii: "%") ? UInt8(ascii: "/") : $0 }, as: UTF8.self)
        }
        var i = 0
        while i + 5 <= path.count {
            if equal(portoWord, UnsafeBufferPointer(rebasing: path[i..<i + 5])) { return nil }
            i += 1
        }
        return "/"
    }

    /// In an ASCII cgroup `path`, what follows `porto%` in its last component (trailing slashes
    /// ignored): the owner's name with `%` for `/`; nil when the last component is not `porto%...`.
    private static func portoComponent(_ path: UnsafeBufferPointer<UInt8>) -> Slice<UnsafeBufferPointer<UInt8>>? {
        var end = path.count
        while end > 0, path[end - 1] == UInt8(ascii: "/") { end -= 1 }
        var start = end
        while start > 0, path[start - 1] != UInt8(ascii: "/") { start -= 1 }
        let last = UnsafeBufferPointer(rebasing: path[start..<end])
        guard last.count >= portoPrefix.count, equal(portoPrefix, UnsafeBufferPointer(rebasing: last[0..<portoPrefix.count])) else { return nil }
        return last[portoPrefix.count...]
    }

    static let portoPrefix = Array("porto%".utf8)
    static let portoWord = Array("porto".utf8)

    @inline(__always)
    static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        for b in bytes where b >= 0x80 { return false }
        return true
    }

    /// Whether a map key repeats an earlier one (a map key is written once).
    private static func seenBefore(_ key: UnsafeBufferPointer<UInt8>, in entries: [(key: UnsafeBufferPointer<UInt8>, value: UInt64)], before index: Int) -> Bool {
        var i = 0
        while i < index {
            if equal(entries[i].key, key) { return true }
            i += 1
        }
        return false
    }

    /// The controllers the container does not own (its `cgroups` entries marked inherited), as
    /// bits (``bit(_:)``). "/" owns everything. A controller without an entry counts as owned
    /// (its values are absent anyway).
    func inheritedMask(_ name: String, _ scratch: inout Scratch) throws(PortoError) -> UInt8 {
        guard name != "/" else { return 0 }
        scratch.cgroups.removeAll(keepingCapacity: true)
        try scratch.reader.cgroups(plan.cgroups, into: &scratch.cgroups)
        var mask: UInt8 = 0
        for cg in scratch.cgroups where cg.inherited { mask |= Self.bits(cg.controller) }
        return mask
    }

    /// ``inheritedMask(_:_:)`` of entries read with their paths.
    static func mask(_ cgroups: [(controller: UnsafeBufferPointer<UInt8>, path: UnsafeBufferPointer<UInt8>, inherited: Bool)]) -> UInt8 {
        var mask: UInt8 = 0
        for cg in cgroups where cg.inherited { mask |= Self.bits(cg.controller) }
        return mask
    }

    /// The ``bit(_:)``s of the controllers of a `cgroups` entry ("cpu,cpuacct": each controller
    /// of a co-mounted hierarchy).
    static func bits(_ controllers: UnsafeBufferPointer<UInt8>) -> UInt8 {
        var bits: UInt8 = 0
        var start = 0
        var i = 0
        while i <= controllers.count {
            if i == controllers.count || controllers[i] == UInt8(ascii: ",") {
                bits |= bit(UnsafeBufferPointer(rebasing: controllers[start..<i]))
                start = i + 1
            }
            i += 1
        }
        return bits
    }

    /// ``bit(_:)`` of a controller name's bytes: compared in place, by length first (this runs for
    /// every controller of every container).
    static func bit(_ controller: UnsafeBufferPointer<UInt8>) -> UInt8 {
        switch controller.count {
        case 3: equal("cpu", controller) ? 2 : 0
        case 5: equal("blkio", controller) ? 8 : 0
        case 6: equal("memory", controller) ? 4 : 0
        case 7: equal("cpuacct", controller) ? 1 : 0
        default: 0
        }
    }

    @inline(__always)
    static func equal(_ a: StaticString, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        a.withUTF8Buffer { equal($0, b) }
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
        netMode(ListContainersByAnswer.NetSummary(net))
    }

    static func netMode(_ net: ListContainersByAnswer.NetSummary) -> NetMode {
        if net.inherited || net.firstOption == "inherited" { return .inherited }
        if net.firstOption == "host" { return .host }
        return .own
    }

    /// For each container, whether its network values are its own: true with its own netns or
    /// in the host netns (net `host`, or `inherited` all the way up to "/"), false when it
    /// inherits the netns of an ancestor that has its own (that ancestor's device counters).
    static func netOwnership(_ containers: [(name: String, mode: NetMode)]) -> [String: Bool] {
        var out: [String: Bool] = [:]
        out.reserveCapacity(containers.count)
        for (c, own) in zip(containers, netOwnershipInOrder(containers)) { out[c.name] = own }
        return out
    }

    /// ``netOwnership(_:)`` as an array in the containers' order. A container whose own `net`
    /// is not inherited owns its values: only the others look their ancestors up (by name), unless
    /// a name repeats (then the last of its entries tells its mode, as in a dictionary).
    static func netOwnershipInOrder(_ containers: [(name: String, mode: NetMode)]) -> [Bool] {
        var repeats = false
        for i in containers.indices.dropFirst() where containers[i].name == containers[i - 1].name { repeats = true; break }
        if repeats { return netOwnershipByName(containers) }
        var out = [Bool](repeating: true, count: containers.count)
        var index: [String: Int]?
        // Per container, once worked out: whether the netns its inheriting descendants reach is
        // the host's (``ownsNet(_:_:)`` walks the ancestors again for every container).
        var hostLike: [Bool?] = []
        for (i, c) in containers.enumerated() where c.mode == .inherited && c.name != "/" && !c.name.isEmpty {
            if index == nil {
                var all: [String: Int] = [:]
                all.reserveCapacity(containers.count)
                for (k, c) in containers.enumerated() { all[c.name] = k }
                index = all
                hostLike = [Bool?](repeating: nil, count: containers.count)
            }
            out[i] = reachesHostNet(from: ContainerNames.parent(of: c.name), containers, index!, &hostLike)
        }
        return out
    }

    /// Whether a container inheriting its netns from `name` has the host's (or one not known):
    /// ``ownsNet(_:_:)`` from the parent on, remembered for every container on the way.
    private static func reachesHostNet(
        from name: String, _ containers: [(name: String, mode: NetMode)], _ index: [String: Int], _ hostLike: inout [Bool?]
    ) -> Bool {
        var current = name
        var walked: [Int] = []
        var result = true
        while current != "/" && !current.isEmpty {
            guard let i = index[current] else { break }
            if let known = hostLike[i] {
                result = known
                break
            }
            walked.append(i)
            let mode = containers[i].mode
            if mode == .inherited {
                current = ContainerNames.parent(of: current)
                continue
            }
            result = mode == .host || mode == .unknown
            break
        }
        for i in walked { hostLike[i] = result }
        return result
    }

    /// The reading of ``netOwnership(_:)`` for every container by name.
    static func netOwnershipByName(_ containers: [(name: String, mode: NetMode)]) -> [Bool] {
        var mode: [String: NetMode] = [:]
        mode.reserveCapacity(containers.count)
        for c in containers { mode[c.name] = c.mode }
        return containers.map { $0.name == "/" ? true : ownsNet($0.name, mode) }
    }

    private static func ownsNet(_ name: String, _ mode: [String: NetMode]) -> Bool {
        var current = name
        while current != "/" && !current.isEmpty {
            guard let m = mode[current] else { break }
            if m == .inherited {
                current = ContainerNames.parent(of: current)
                continue
            }
            // The netns comes from `current`: its own (fine for itself, not for a descendant), or the host's.
            return m == .host || m == .unknown || current == name
        }
        return true
    }
}
