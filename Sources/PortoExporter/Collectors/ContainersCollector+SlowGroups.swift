import PortoWire
import Synchronization

/// The values of the slower groups kept between collections, per container.
final class SlowValues: Sendable {
    struct Value {
        /// The values read, as ``ContainersCollector/encoded(_:)`` bytes: serialised once when
        /// read, not at every collection that writes them.
        var container: [UInt8]
        var readAt: ContinuousClock.Instant
        /// The container's start time when read: a restart makes the values stale at once.
        var startTime: UInt64?
    }

    struct State {
        /// Collections so far: which quarter of the containers is read.
        var round: UInt64 = 0
        var values: [String: Value] = [:]
    }

    let state = Mutex(State())
}

extension ContainersCollector {
    /// The groups read at a slower cadence: process_count and thread_count (a freezer walk per
    /// container, 34 ms of a scrape at 171 containers), the io properties (21 ms; io_write reads
    /// memory.stat again) and the pressure ones (9 ms) cost portod 65 of the 130 ms of a scrape
    /// (docs/porto.md §7.1). Read every collection they alone would keep a scrape above a third
    /// of that; a quarter of them per collection keeps every scrape alike.
    static let slowGroups: Set<CollectorGroup> = [.process, .io, .pressure]

    /// Each container's slower groups are read every `slowSlices`-th collection: the values are
    /// up to `slowSlices` - 1 collections old, which `porto_exporter_values_age_seconds` shows.
    static let slowSlices: UInt64 = 4

    /// Which of the ``slowSlices`` collections reads the container: a hash of its name (FNV-1a),
    /// so that the set read changes only with the containers.
    static func slice(of name: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash % slowSlices
    }

    /// Reads the slower groups of this collection's quarter of the containers, and of those never
    /// read or restarted since (so the first collection reads all), with one `Get`; then writes
    /// every container's last values and the age of the oldest per group. A Get portod refuses
    /// keeps the older values.
    func writeSlowGroups(_ context: CollectContext, pass: ContainerPass, known: KnownProperties, into writer: ExpositionWriter) throws(PortoError) {
        let variables = Array(Set(slowMetrics.map(\.property))).sorted().filter { known.knows($0) }
        let now = context.now()
        let (round, cached) = slowValues.state.withLock { state -> (UInt64, [String: SlowValues.Value]) in
            state.round &+= 1
            return (state.round, state.values)
        }
        var read: [(name: String, startTime: UInt64?)] = []
        for entry in pass.entries {
            if let value = cached[entry.name], value.startTime == entry.startTime,
               Self.slice(of: entry.name) != round % Self.slowSlices { continue }
            read.append((entry.name, entry.startTime))
        }
        var values: [String: SlowValues.Value] = [:]
        values.reserveCapacity(pass.entries.count)
        for entry in pass.entries { if let value = cached[entry.name] { values[entry.name] = value } }
        if !read.isEmpty, !variables.isEmpty {
            do throws(PortoError) {
                // Kept as bytes, one container decoded at a time: the first collection reads every
                // container, and that answer decoded whole took 52 MB at 10,000 containers.
                let answer = try Self.getAnswer(context, Self.getRequest(read.map(\.name), variables))
                var startTimes: [String: UInt64?] = [:]
                for r in read { startTimes[r.name] = r.startTime }
                var entries: [(key: Range<Int>, value: UInt64)] = []
                for item in answer.entries {
                    let entry = try Self.decoded(item, of: answer, context)
                    guard let startTime = startTimes[entry.name] else { continue }
                    let bytes: [UInt8]
                    switch Self.laterBytes(entry, &entries) {
                    case .gone: continue
                    case .bytes(let b): bytes = b
                    case .other:
                        var one = Porto_TGetResponse()
                        one.list = [entry]
                        guard let container = LegacyContainerReader.containers(from: one).first else { continue }
                        bytes = Self.encoded(container.status)
                    }
                    values[entry.name] = SlowValues.Value(container: bytes, readAt: now, startTime: startTime)
                }
            } catch {
                guard case .porto = error else { throw error }
            }
        }
        slowValues.state.withLock { $0.values = values }

        var oldest: ContinuousClock.Instant?
        var later: [(ContainerPass.Entry, [UInt8])] = []
        later.reserveCapacity(pass.entries.count)
        for entry in pass.entries {
            guard let value = values[entry.name] else { continue }
            later.append((entry, value.container))
            if oldest.map({ value.readAt < $0 }) ?? true { oldest = value.readAt }
        }
        writeLater(slowMetrics, later, into: writer)
        guard let oldest else { return }
        let age = now - oldest
        let (seconds, attoseconds) = age.components
        let value: SampleValue = seconds < 0 ? .uint(0) : .scaled(UInt64(seconds) * 1_000 + UInt64(attoseconds / 1_000_000_000_000_000), decimals: 3)
        for group in Self.slowGroups.sorted() where slowMetrics.contains(where: { $0.group == group }) {
            writer.gauge(ExporterMetrics.valuesAge, extra: group.rawValue, value: value)
        }
    }

    /// A `Get` answer kept as bytes (``GetAnswer``); a malformed one counts as an undecodable
    /// answer, as ``CollectContext/call(_:fallsBack:)`` counts it.
    static func getAnswer(_ context: CollectContext, _ request: Porto_TPortoRequest) throws(PortoError) -> GetAnswer {
        let bytes = try context.callRaw(request)
        do throws(PortoError) {
            return try GetAnswer(bytes)
        } catch {
            context.answerUndecodable(error, method: "Get")
            throw error
        }
    }

    /// One container of `answer`, decoded alone: the message decoding the whole answer gives it.
    static func decoded(_ entry: GetAnswer.Entry, of answer: GetAnswer, _ context: CollectContext) throws(PortoError) -> Porto_TGetResponse.TContainerGetListResponse {
        do {
            return try Porto_TGetResponse.TContainerGetListResponse(serializedBytes: answer.bytes[entry.range])
        } catch {
            let failure = PortoError.decode("Get response: container \(entry.name) is not a TContainerGetListResponse: \(error)")
            context.answerUndecodable(failure, method: "Get")
            throw failure
        }
    }

    /// What ``laterBytes(_:_:)`` makes of a container of a `Get` answer.
    enum LaterBytes {
        /// ContainerDoesNotExist: destroyed since the pass, left out.
        case gone
        /// Its values as ``StatusBytes``.
        case bytes([UInt8])
        /// A value this reading leaves to ``LegacyContainerReader`` (a property other than a
        /// uint64 or a `TUintMap` of the status, a variable asked twice, text that is not ASCII).
        case other
    }

    /// One container of the slower groups' `Get` answer as ``StatusBytes``: the fields
    /// ``LegacyContainerReader`` would set (a value with an error or not understood leaves its
    /// field unset), without a `TContainer` built and serialised per container (that was half
    /// of a scrape's CPU at 1,000 containers). `entries` is scratch space.
    static func laterBytes(_ entry: Porto_TGetResponse.TContainerGetListResponse, _ entries: inout [(key: Range<Int>, value: UInt64)]) -> LaterBytes {
        if entry.keyval.contains(where: { $0.hasError && $0.error == .containerDoesNotExist }) { return .gone }
        var out = StatusBytes()
        var written: [Int] = []
        for keyval in entry.keyval {
            if keyval.hasError, keyval.error != .success { continue }
            guard keyval.hasValue else { continue }
            guard let field = LegacyContainerReader.fieldsByProperty[keyval.variable],
                  !LegacyContainerReader.specialProperties.contains(keyval.variable) else {
                if LegacyContainerReader.isSpecial(keyval.variable) { return .other }
                continue  // not one of ours
            }
            var value = keyval.value
            let result: Bool? = value.withUTF8 { utf8 in
                switch field {
                case .status(let number, _):
                    guard !written.contains(number) else { return nil }
                    guard let v = LegacyValueParser.uint(utf8) else { return false }
                    out.uint(number, v)
                    written.append(number)
                    return true
                case .map(let number, _):
                    guard !written.contains(number) else { return nil }
                    entries.removeAll(keepingCapacity: true)
                    guard let parsed = LegacyValueParser.asciiUIntMap(utf8, into: &entries) else { return nil }
                    guard parsed else { return false }
                    out.uintMap(number, utf8, entries)
                    written.append(number)
                    return true
                default:
                    return nil
                }
            }
            if result == nil { return .other }
        }
        return .bytes(out.container)
    }
}
