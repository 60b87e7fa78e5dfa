import PortoExporter
import PortoWire

/// Differential: an encoded `TContainer` read by ``ContainerReader`` (the exporter's hot path)
/// against the same bytes decoded by SwiftProtobuf. Every field the metric table reads (and the
/// name, times, cgroups, labels and error the collector reads besides) must come out the same,
/// presence included; where SwiftProtobuf decodes the bytes the reader must not throw. Where
/// SwiftProtobuf refuses them, the reader may read them (it does not look at the fields it does not
/// read) or throw, but never trap.
///
/// Every slot is added in one initialiser: globals initialise lazily on first use, so separate
/// globals would add their slots only after a reader had copied the layout.
let (layout, metricSlots, startTime, creationTime, cgroupsSlot, labelsSlot) = {
    let layout = ContainerReader.Layout()
    let metricSlots = ContainerMetrics.all.map { metric in
        let wire = metric.field.wire
        return layout.add(wire.message, wire.number, wire.kind)
    }
    let startTime = layout.add(.status, 20, .varint)
    let creationTime = layout.add(.status, 19, .varint)
    let cgroupsSlot = layout.add(.status, 24, .lengthDelimited)
    let labelsSlot = layout.add(.spec, 4, .lengthDelimited)
    return (layout, metricSlots, startTime, creationTime, cgroupsSlot, labelsSlot)
}()

/// Field numbers present in `bytes` (an encoded message) with wire type `wireType`: what a
/// decoded proto2 message has set (an unknown field of the same number has another wire type).
func present(_ bytes: [UInt8], wireType: Int) -> Set<Int> {
    var reader = WireReader(bytes)
    var out: Set<Int> = []
    while let field = try! reader.next() {
        let type = switch field.value {
        case .varint: 0
        case .fixed64: 1
        case .bytes: 2
        case .fixed32: 5
        case .group: 3
        }
        if type == wireType { out.insert(field.number) }
    }
    return out
}

func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String { String(decoding: bytes, as: UTF8.self) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzContainerReader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var reader = ContainerReader(layout)
    let decoded = try? Porto_TContainer(serializedBytes: bytes)
    bytes.withUnsafeBufferPointer { buffer in
        do {
            try reader.read(buffer, 0..<buffer.count)
        } catch {
            precondition(decoded == nil, "the reader refused a TContainer SwiftProtobuf decodes: \(error)")
            return
        }
        guard let container = decoded else {
            // Refused by SwiftProtobuf: reading what the table reads must not trap either.
            var entries: [(key: UnsafeBufferPointer<UInt8>, value: UInt64)] = []
            var cgroups: [(controller: UnsafeBufferPointer<UInt8>, inherited: Bool)] = []
            var vm = [UInt64](repeating: 0, count: 16)
            // Each accessor on the slots of its kind, as the collector calls them (another
            // kind is a programming error the reader traps on).
            for (metric, slot) in zip(ContainerMetrics.all, metricSlots) {
                switch metric.field {
                case .state: _ = try? reader.string(slot)
                case .map: _ = try? reader.uintMap(slot, into: &entries)
                case .vm: _ = try? reader.scalars(slot, into: &vm)
                default: _ = reader.uint64(slot)
                }
            }
            _ = try? reader.cgroups(cgroupsSlot, into: &cgroups)
            _ = try? reader.stringMap(labelsSlot)
            return
        }
        let status = container.status, spec = container.spec
        let statusBytes: [UInt8] = try! status.serializedBytes()
        let specBytes: [UInt8] = try! spec.serializedBytes()
        let statusSet = (0..<6).map { present(statusBytes, wireType: $0) }
        let specSet = (0..<6).map { present(specBytes, wireType: $0) }
        func isSet(_ message: ContainerReader.Message, _ number: Int, _ kind: ContainerReader.Kind) -> Bool {
            (message == .status ? statusSet : specSet)[Int(kind.rawValue)].contains(number)
        }
        do {
            // The name, the error, the times.
            let name = try reader.stringValue(layout.name)
            precondition(name == (spec.hasName ? spec.name : nil))
            precondition(reader.hasError == container.hasError)
            if container.hasError {
                // An unknown code stays an unknown field (a proto2 enum): `hasError` says whether a known one came.
                precondition(reader.errorCode == (container.error.hasError ? Int32(container.error.error.rawValue) : nil))
            }
            precondition(reader.uint64(startTime) == (status.hasStartTime ? status.startTime : nil))
            precondition(reader.uint64(creationTime) == (status.hasCreationTime ? status.creationTime : nil))
            // cgroups
            var cgroups: [(controller: UnsafeBufferPointer<UInt8>, inherited: Bool)] = []
            let hasCgroups = try reader.cgroups(cgroupsSlot, into: &cgroups)
            precondition(hasCgroups == status.hasCgroups)
            precondition(cgroups.map { string($0.controller) } == status.cgroups.cgroup.map(\.controller))
            precondition(cgroups.map(\.inherited) == status.cgroups.cgroup.map(\.inherited))
            // labels
            let labels = try reader.stringMap(labelsSlot)
            precondition((labels != nil) == spec.hasLabels)
            if let labels {
                precondition(labels.map(\.0) == spec.labels.map.map(\.key) && labels.map(\.1) == spec.labels.map.map(\.val))
            }
            // Every field of the table.
            var entries: [(key: UnsafeBufferPointer<UInt8>, value: UInt64)] = []
            var vm = [UInt64](repeating: 0, count: 16)
            for (metric, slot) in zip(ContainerMetrics.all, metricSlots) {
                let wire = metric.field.wire
                let set = isSet(wire.message, wire.number, wire.kind)
                precondition(reader.has(slot) == set, "\(metric.family.name): presence")
                switch metric.field {
                case .status(_, let path): precondition(reader.uint64(slot) == (set ? status[keyPath: path] : nil))
                case .spec(_, let path): precondition(reader.uint64(slot) == (set ? spec[keyPath: path] : nil))
                case .statusCores(_, let path):
                    precondition(reader.double(slot)?.bitPattern == (set ? status[keyPath: path].bitPattern : nil))
                case .specCores(_, let path):
                    precondition(reader.double(slot)?.bitPattern == (set ? spec[keyPath: path].bitPattern : nil))
                case .statusInt(_, let path): precondition(reader.int32(slot) == (set ? status[keyPath: path] : nil))
                case .statusBool(_, let path): precondition(reader.bool(slot) == (set ? status[keyPath: path] : nil))
                case .state:
                    let state = try reader.string(slot).map(string)
                    precondition(state == (set ? status.state : nil))
                case .map(_, let path):
                    entries.removeAll()
                    let present = try reader.uintMap(slot, into: &entries)
                    precondition(present == set)
                    let map = status[keyPath: path].map
                    precondition(entries.map { string($0.key) } == map.map(\.key), "\(metric.family.name): keys")
                    precondition(entries.map(\.value) == map.map(\.val), "\(metric.family.name): values")
                case .startFailed, .startErrorName, .controllerOwners:
                    break  // a message field: its presence is checked above
                case .vm(let number, let path, _):
                    for i in vm.indices { vm[i] = 0 }
                    let bits = try reader.scalars(slot, into: &vm)
                    precondition((bits != nil) == set)
                    if let bits {
                        let vmSet = present(try! status.virtualMemory.serializedBytes(), wireType: 0)
                        precondition((bits & (1 << UInt64(number)) != 0) == vmSet.contains(number))
                        if vmSet.contains(number) { precondition(vm[number] == status.virtualMemory[keyPath: path]) }
                    }
                }
            }
        } catch {
            preconditionFailure("the reader refused a field of a TContainer SwiftProtobuf decodes: \(error)")
        }
    }
    return 0
}
