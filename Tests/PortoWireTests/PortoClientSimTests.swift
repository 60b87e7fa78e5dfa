import Foundation
import PortoSim
import Testing
@testable import PortoWire

/// Every typed call of PortoClient against the simulated host (PortoSim's model), served over a
/// real unix socket, and checked against what docs/porto.md says portod answers.
@Suite struct PortoClientSimTests {
    /// A client connected to a fresh simulated host of `containers` containers.
    static func withSim<T>(containers: Int = 30, legacy: Bool = false,
                           _ body: (PortoClient, FakePortoServer) throws -> T) throws -> T {
        let host = SimHost(options: SimOptions(containers: containers, seed: 7, legacy: legacy,
                                               clock: .fixed(epochSeconds: 1_780_000_000)))
        let server = try FakePortoServer([[.serve(host)], [.serve(host)]])
        defer { server.stop() }
        let client = PortoClient(socketPath: server.path)
        defer { client.close() }
        return try body(client, server)
    }

    @Test func version() throws {
        try Self.withSim { client, _ in
            let version = try client.version()
            #expect(version.tag == "5.3.59")
            #expect(!version.revision.isEmpty)
        }
    }

    @Test func getSystem() throws {
        try Self.withSim { client, _ in
            let system = try client.getSystem()
            #expect(system.portoVersion == "5.3.59")
            #expect(system.containerLimit == 3000)
            #expect(system.containerCount > 0)
            #expect(system.requestQueued >= 1)  // counts the GetSystem itself (docs/porto.md §5.1)
        }
    }

    @Test func listNeverIncludesRoot() throws {
        try Self.withSim { client, _ in
            let all = try client.list()
            #expect(!all.isEmpty)
            #expect(!all.contains("/"))
            #expect(try client.list(mask: "***") == all)
            let firstLevel = try client.list(mask: "*")
            #expect(!firstLevel.isEmpty)
            #expect(firstLevel.allSatisfy { !$0.contains("/") })
            #expect(all.contains { $0.contains("/") }, "the sim nests containers")
        }
    }

    @Test func getWithMaskExcludesRootAndPerValueErrorsDoNotFailTheCall() throws {
        try Self.withSim { client, _ in
            let masked = try client.get(names: ["***"], variables: ["state"])
            #expect(!masked.list.isEmpty)
            #expect(!masked.list.map(\.name).contains("/"))
            let named = try client.get(names: ["/", "no-such-container"], variables: ["state"],
                                       sync: true, real: true, nonblock: true)
            let byName = Dictionary(named.list.map { ($0.name, $0.keyval) }, uniquingKeysWith: { a, _ in a })
            #expect(byName["/"]?.first?.value == "meta")
            #expect(byName["no-such-container"]?.first?.error == .containerDoesNotExist)
        }
    }

    @Test func listContainersByStartsWithRootAndFillsFilterName() throws {
        try Self.withSim { client, server in
            let containers = try client.listContainersBy(filters: [Porto_TListContainersFilter()],
                                                         properties: ["state", "level"])
            #expect(containers.first?.spec.name == "/")
            let names = try client.list()
            #expect(containers.count == names.count + 1)
            #expect(server.requests.first?.listContainersBy.filters.first?.name == "***")
            let missing = try client.listContainersBy(
                filters: [Porto_TListContainersFilter.with { $0.name = "no-such" }], properties: ["state"])
            #expect(missing.map(\.error.error) == [.containerDoesNotExist])
        }
    }

    @Test func aFilterWithoutNameSentRawMakesPortodCloseTheConnection() throws {
        try Self.withSim { client, server in
            // What the typed call protects against (docs/porto.md §0): no reply, EOF.
            var request = Porto_TPortoRequest()
            request.listContainersBy.filters = [Porto_TListContainersFilter()]
            let error = #expect(throws: PortoError.self) { try client.call(request) }
            guard case .socket(.closed, _) = error else {
                Issue.record("expected closed, got \(String(describing: error))")
                return
            }
            let tag = try client.version().tag
            #expect(tag == "5.3.59")
            #expect(server.accepts == 2)
        }
    }

    @Test func legacyPortodAnswersListContainersByWithInvalidMethod() throws {
        try Self.withSim(legacy: true) { client, _ in
            let error = #expect(throws: PortoError.self) {
                try client.listContainersBy(properties: ["state"])
            }
            guard case .porto(.invalidMethod, _) = error else {
                Issue.record("expected invalidMethod, got \(String(describing: error))")
                return
            }
            let tag = try client.version().tag
            #expect(tag == "5.3.59", "the connection stays usable")
        }
    }

    @Test func listProperties() throws {
        try Self.withSim { client, _ in
            let properties = try client.listProperties()
            #expect(properties.contains { $0.name == "cpu_usage" })
            #expect(properties.contains { $0.name == "state" })
        }
    }

    @Test func volumes() throws {
        try Self.withSim { client, _ in
            let listed = try client.listVolumes()
            #expect(!listed.isEmpty)
            #expect(listed.allSatisfy { $0.properties["id"] != nil && $0.properties["backend"] != nil })
            let specs = try client.getVolume()
            #expect(specs.count == listed.count)
            let path = try #require(listed.first?.path)
            #expect(try client.listVolumes(path: path).map(\.path) == [path])
            #expect(try client.getVolume(paths: [path]).map(\.path) == [path])
        }
    }

    @Test func layersAndStorages() throws {
        try Self.withSim { client, _ in
            let layers = try client.listLayers()
            #expect(!layers.layers.isEmpty)
            #expect(try client.listLayers(place: "/place", mask: "no-such-*").layers.isEmpty)
            let storages = try client.listStorages()
            #expect(!storages.storages.isEmpty || !storages.metaStorages.isEmpty)
            _ = try client.listStorages(place: "/place", mask: "a/")
        }
    }

    @Test func theWholeSessionUsesOneConnection() throws {
        try Self.withSim { client, server in
            _ = try client.version()
            _ = try client.listProperties()
            for _ in 0..<3 {
                _ = try client.listContainersBy(properties: ["state"])
                _ = try client.getSystem()
            }
            #expect(server.accepts == 1)
            #expect(client.connectionsOpened == 1)
        }
    }
}
