import PortoSim
import PortoWire
import Testing
@testable import PortoExporter

#if canImport(Glibc)
import Glibc
#endif

/// Collections over a real socket (PortoClient) against porto-sim's server, counted by its
/// per-method request counters. What a faulty or absent portod does to a collection is
/// PortodFaultTests'.
@Suite struct SimServerCollectionTests {
    /// A fresh socket path in its own temporary directory (tests run in parallel).
    static func socketPath() throws -> String {
        "\(try makeTemporaryDirectory())/portod.socket"
    }

    static func start(faults: FaultOptions = .none) throws -> (SimServer, String) {
        let path = try socketPath()
        let host = SimHost(options: SimOptions(containers: 30, seed: 3, clock: .fixed(epochSeconds: 1_780_000_000)))
        return (try SimServer.start(socketPath: path, host: host, faults: faults), path)
    }

    static func collect(_ config: CollectionConfiguration, socket: String, timeout: Duration = .seconds(10)) -> (String, CollectionReport) {
        let client = PortoClient(socketPath: socket, timeout: timeout)
        defer { client.close() }
        let writer = ExpositionWriter(format: .text)
        let report = CollectorSet(configuration: config, transport: client).collect(into: writer, deadline: .now + timeout)
        return (String(decoding: writer.finish(), as: UTF8.self), report)
    }

    @Test func oneCollectionIsOneRequestPerCollector() throws {
        let (server, socket) = try Self.start()
        defer { server.stop() }
        let (text, report) = Self.collect(CollectionConfiguration(), socket: socket)
        #expect(report.up && report.success)
        #expect(text.contains("porto_up 1\n"))
        // The containers collector: ListProperties (once per connection), the containers, then
        // memory.stat of the memory owners and the slower groups of a quarter of the containers
        // (all of them in the first collection).
        #expect(server.requestCounts == [
            "GetSystem": 1, "ListProperties": 1, "ListContainersBy": 1, "Get": 2, "GetVolume": 1, "ListLayers": 1, "ListStorages": 1,
        ])
    }

    static let groupCases: [(Set<CollectorGroup>, [String: Int])] = [
        ([.daemon], ["GetSystem": 1]),
        ([.memory], ["ListProperties": 1, "ListContainersBy": 1, "Get": 1]),
        ([.volumes, .layers], ["GetVolume": 1, "ListLayers": 1]),
        ([], ["Version": 1]),  // only to know whether portod is up
    ]

    @Test(arguments: groupCases)
    func disabledCollectorsAskPortodForNothing(groups: Set<CollectorGroup>, expected: [String: Int]) throws {
        let (server, socket) = try Self.start()
        defer { server.stop() }
        _ = Self.collect(CollectionConfiguration(groups: groups), socket: socket)
        #expect(server.requestCounts == expected)
    }

    /// The Get fallback belongs to the connection it was decided on. A portod upgrade closes the
    /// connection and the client reconnects and resends without an error; the fallback must not
    /// outlive the old portod.
    @Test func getFallbackEndsWhenTheClientSilentlyReconnectsToAnUpgradedPortod() throws {
        let path = try Self.socketPath()
        let clock = SimClock.fixed(epochSeconds: 1_780_000_000)
        let old = try SimServer.start(socketPath: path, host: SimHost(options: SimOptions(containers: 10, seed: 3, legacy: true, clock: clock)))
        let client = PortoClient(socketPath: path, timeout: .seconds(10))
        defer { client.close() }
        let collection = CollectorSet(configuration: CollectionConfiguration(groups: [.daemon, .memory]), transport: client)
        func collect() -> (String, CollectionReport) {
            let writer = ExpositionWriter(format: .text)
            let report = collection.collect(into: writer, deadline: .now + .seconds(10))
            return (String(decoding: writer.finish(), as: UTF8.self), report)
        }
        for _ in 0..<2 {
            let (text, report) = collect()
            #expect(report.success)
            #expect(text.contains("porto_container_memory_usage_bytes{name=\"/\"}"))
        }
        #expect(old.requestCounts == ["GetSystem": 2, "ListProperties": 1, "ListContainersBy": 1, "Get": 2], "fallback decided once, kept")
        old.stop()

        let upgraded = try SimServer.start(socketPath: path, host: SimHost(options: SimOptions(containers: 10, seed: 3, clock: clock)))
        defer { upgraded.stop() }
        let (text, report) = collect()
        #expect(report.success, "the reconnect was silent: nothing failed")
        #expect(client.connectionsOpened == 2)
        #expect(text.contains("porto_container_memory_usage_bytes{name=\"/\"}"))
        // ListProperties again on the new connection; the Get is memory.stat's, not the fallback's.
        #expect(upgraded.requestCounts == ["GetSystem": 1, "ListProperties": 1, "ListContainersBy": 1, "Get": 1], "ListContainersBy once portod has it")
        _ = collect()
        #expect(upgraded.requestCounts == ["GetSystem": 2, "ListProperties": 1, "ListContainersBy": 2, "Get": 2])
    }
}
