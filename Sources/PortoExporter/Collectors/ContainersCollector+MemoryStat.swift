import PortoWire

extension ContainersCollector {
    /// The memory.stat-derived properties: portod re-reads and parses the whole memory.stat for
    /// each of them (49 of the 130 ms of a scrape at 171 containers, docs/porto.md §7.1), while one
    /// raw `memory.stat` costs 0.035 ms per container and holds them all (``MemoryStat``).
    static let memoryStatProperties: Set<String> = [
        "anon_usage", "cache_usage", "shmem_usage", "mlock_usage", "minor_faults", "major_faults", "memory_reclaimed",
    ]

    static let memoryStatVariable = Array("memory.stat".utf8)

    /// Writes the memory.stat-derived metrics and the working set of "/" and every container that
    /// owns its memory cgroup and has runtime values (a container that does not own it would read
    /// its ancestor's file, which the ownership filter drops anyway): one `Get` of `memory.stat`
    /// for all of them. Where a file cannot be read (an error other than the container being
    /// stopped or gone) or lacks a key, one `Get` of the derived properties for those containers
    /// instead. When portod refuses the whole Get, the derived properties go into
    /// ListContainersBy from the next collection on (``ConnectionState/Fallback/memoryStat``).
    func writeMemoryStat(_ context: CollectContext, pass: ContainerPass, known: KnownProperties, into writer: ExpositionWriter) throws(PortoError) {
        let owners = pass.entries.filter { $0.ownsMemory && $0.memoryUsage != nil }
        guard !owners.isEmpty else { return }
        var stats: [String: MemoryStat] = [:]
        stats.reserveCapacity(owners.count)
        var fallback: [String] = []
        do throws(PortoError) {
            // Read in place (``GetAnswer``): no String per container's file.
            let answer = try GetAnswer(try context.callRaw(Self.getRequest(owners.map(\.name), ["memory.stat"])))
            for entry in answer.entries {
                guard let value = try answer.value(of: Self.memoryStatVariable, in: entry) else { continue }
                if let error = value.error, error != .success {
                    // Stopped or destroyed since: no memory values at all, as with the properties.
                    if error != .invalidState && error != .containerDoesNotExist { fallback.append(entry.name) }
                } else if let stat = answer.bytes.withUnsafeBufferPointer({ MemoryStat(utf8: UnsafeBufferPointer(rebasing: $0[value.value ?? 0..<0])) }) {
                    stats[entry.name] = stat
                } else {
                    fallback.append(entry.name)
                }
            }
        } catch {
            guard case .porto = error else { throw error }
            context.connection.use(.memoryStat, connection: context.transport.connectionGeneration)
            fallback = owners.map(\.name)
        }
        var derived: [String: Porto_TContainerStatus] = [:]
        let variables = memoryStatMetrics.map(\.property).filter { known.knows($0) }
        if !fallback.isEmpty, !variables.isEmpty {
            do throws(PortoError) {
                let response = try context.call(Self.getRequest(fallback, Array(Set(variables)).sorted()))
                for container in LegacyContainerReader.containers(from: response.get) {
                    derived[container.spec.name] = container.status
                }
            } catch {
                guard case .porto = error else { throw error }
            }
        }
        // A file's figures are written straight from it, as the table writes the status fields
        // they stand for; the derived properties read instead go through the table, in the
        // containers' order.
        let figures = memoryStatMetrics.map { MemoryStat.statusProperties.firstIndex(of: $0.property) }
        var later: [(ContainerPass.Entry, [UInt8])] = []
        for owner in owners {
            if let stat = stats[owner.name] {
                if !later.isEmpty {
                    writeLater(memoryStatMetrics, later, into: writer)
                    later.removeAll()
                }
                writeFigures(stat, of: owner, figures, into: writer)
            } else if let status = derived[owner.name] {
                later.append((owner, Self.encoded(status)))
            }
        }
        writeLater(memoryStatMetrics, later, into: writer)
        for owner in owners {
            guard let stat = stats[owner.name], let usage = owner.memoryUsage else { continue }
            writer.gauge(MemoryStatMetrics.workingSet, labels: owner.labels, value: .uint(stat.workingSet(usage: usage)))
        }
    }

    /// The samples of `memoryStatMetrics` for `stat` of `owner`: what ``writeLater(_:_:into:)``
    /// writes of ``MemoryStat/statusBytes``. `figures` are the metrics' indices in
    /// ``MemoryStat/statusProperties``.
    func writeFigures(_ stat: MemoryStat, of owner: ContainerPass.Entry, _ figures: [Int?], into writer: ExpositionWriter) {
        let values = stat.statusValues
        for (metric, figure) in zip(memoryStatMetrics, figures) {
            guard let figure else { continue }
            if owner.inherited & metric.ownershipBit != 0 { continue }
            let created: UInt64? = switch metric.created {
            case .cgroup: owner.created?.cgroup
            case .netns: owner.created?.start
            case .creationTime: owner.created?.creation
            case nil: nil
            }
            emit(writer, metric, owner.labels, metric.conversion.value(values[figure]), created)
        }
    }

    /// `status` as the bytes of a `TContainer` holding only it, the form ``writeLater(_:_:into:)``
    /// reads.
    static func encoded(_ status: Porto_TContainerStatus) -> [UInt8] {
        var container = Porto_TContainer()
        container.status = status
        // A message built here always serialises.
        return (try? container.serializedBytes()) ?? []
    }

    /// Writes the samples of `metrics` for containers whose values were read after the pass:
    /// each item's bytes are a `TContainer` holding its status from that read (``encoded(_:)``),
    /// read by a collector of those metrics alone as the pass reads ListContainersBy's
    /// containers, with the ownership and `_created` times the pass worked out.
    func writeLater(_ metrics: [ContainerMetric], _ items: [(ContainerPass.Entry, [UInt8])], into writer: ExpositionWriter) {
        guard !items.isEmpty else { return }
        var times: [String: LaterTimes.Times] = [:]
        for (entry, _) in items { if let t = entry.created { times[entry.name] = t } }
        let collector = ContainersCollector(
            metrics: metrics, selection: ContainerSelection(), labels: LabelSelection(), laterTimes: LaterTimes(times))
        var scratch = Scratch(collector.plan)
        var previous: String?
        for (entry, bytes) in items {
            do {
                try bytes.withUnsafeBufferPointer { buffer throws(PortoError) in
                    try scratch.reader.read(buffer, 0..<buffer.count)
                    try collector.write(entry.name, &scratch, ownsNet: true, previous: &previous, inherited: entry.inherited, labels: entry.labels, into: writer)
                }
            } catch {
                // Bytes serialised here always read back.
                assertionFailure("container \(entry.name): \(error)")
            }
        }
    }

    /// `Get` of `variables` for the containers `names`.
    static func getRequest(_ names: [String], _ variables: [String]) -> Porto_TPortoRequest {
        var request = Porto_TPortoRequest()
        request.get.name = names
        request.get.variable = variables
        return request
    }
}
