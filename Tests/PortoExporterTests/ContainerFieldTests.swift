import PortoWire
import Testing
@testable import PortoExporter

/// The table's field descriptors: each field number is its key path's field (the legacy path sets
/// fields through the key path, the collector reads them by number).
@Suite struct ContainerFieldTests {
    /// The one field of an encoded message: its number and wire type.
    static func onlyField(_ bytes: [UInt8]) throws -> (number: Int, wireType: Int) {
        var reader = WireReader(bytes)
        let field = try #require(try reader.next())
        #expect(try reader.next() == nil)
        let wireType = switch field.value {
        case .varint: 0
        case .fixed64: 1
        case .bytes: 2
        case .fixed32: 5
        case .group: 3
        }
        return (field.number, wireType)
    }

    @Test(arguments: ContainerMetrics.all.map(\.family.name))
    func fieldNumberIsTheKeyPathsField(family: String) throws {
        let metric = try #require(ContainerMetrics.all.first { $0.family.name == family })
        var status = Porto_TContainerStatus()
        var spec = Porto_TContainerSpec()
        var map = Porto_TUintMap()
        map.map = [.init()]
        switch metric.field {
        case .status(_, let path): status[keyPath: path] = 7
        case .spec(_, let path): spec[keyPath: path] = 7
        case .statusCores(_, let path): status[keyPath: path] = 1.5
        case .specCores(_, let path): spec[keyPath: path] = 1.5
        case .statusInt(_, let path): status[keyPath: path] = -3
        case .statusBool(_, let path): status[keyPath: path] = true
        case .map(_, let path): status[keyPath: path] = map
        case .vm(let number, let path, let key):
            var vm = Porto_TVmStat()
            vm[keyPath: path] = 9
            let field = try Self.onlyField(try vm.serializedBytes())
            #expect(field.number == number, "\(family): TVmStat key \(key)")
            #expect(field.wireType == 0)
            status.virtualMemory = vm
        case .state: status.state = "running"
        case .startFailed, .startErrorName:
            var error = Porto_TError()
            error.error = .invalidCommand
            status.startError = error
        case .controllerOwners:
            var cgroups = Porto_TContainerCgroups()
            cgroups.cgroup = [.init()]
            status.cgroups = cgroups
        }
        let wire = metric.field.wire
        let bytes: [UInt8] = wire.message == .status ? try status.serializedBytes() : try spec.serializedBytes()
        let field = try Self.onlyField(bytes)
        #expect(field.number == wire.number, "\(family): the key path sets field \(field.number)")
        #expect(field.wireType == Int(wire.kind.rawValue), "\(family): wire type")
    }
}
