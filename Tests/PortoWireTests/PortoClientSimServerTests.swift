import Foundation
import PortoSim
import Testing
@testable import PortoWire

/// PortoClient against porto-sim's server (in-process): restarts, stops, and each fault mode the
/// simulator offers, with the request counts it keeps showing that nothing was sent twice.
@Suite struct PortoClientSimServerTests {
    /// A running SimServer on a fresh socket, stopped (and its directory removed) after `body`.
    static func withServer<T>(faults: FaultOptions = .none,
                              _ body: (SimServer, String) throws -> T) throws -> T {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/portod.socket"
        let host = SimHost(options: SimOptions(containers: 20, seed: 3))
        let server = try SimServer.start(socketPath: path, host: host, faults: faults)
        defer { server.stop() }
        return try body(server, path)
    }

    /// The PortoError `body` throws, or nil when it succeeds.
    static func expectFailure(_ body: () throws -> Void) -> PortoError? {
        do {
            try body()
            return nil
        } catch {
            return error as? PortoError
        }
    }

    /// The kind of a failure, for tables of expected outcomes.
    static func kind(_ error: PortoError?) -> String {
        switch error {
        case nil: return "success"
        case .porto(let code, _)?: return "\(code)"
        case .socket(.closedMidFrame, _)?: return "closedMidFrame"
        case .socket(let failure, _)?: return "\(failure)"
        case .timeout?: return "timeout"
        case .decode?: return "decode"
        }
    }

    @Test func reconnectsAfterPortodRestart() throws {
        try Self.withServer { server, path in
            let client = PortoClient(socketPath: path)
            let before = try client.getSystem()
            server.restart()  // like a reload: every connection sees EOF, the socket stays
            #expect(eventually { server.openConnections == 0 })
            let after = try client.getSystem()
            #expect(after.portoStarts == before.portoStarts + 1)
            #expect(client.connectionsOpened == 2)
            #expect(server.requestCounts["GetSystem"] == 2, "the request went out once")
        }
    }

    @Test func reconnectsAfterStopAndStartOnTheSamePath() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/portod.socket"
        let host = SimHost(options: SimOptions(containers: 10, seed: 5))
        let first = try SimServer.start(socketPath: path, host: host)
        let client = PortoClient(socketPath: path)
        #expect(try client.version().tag == "5.3.59")
        first.stop()  // a full stop removes the socket file (docs/porto.md §1.7)
        let error = Self.expectFailure { _ = try client.version() }
        guard case .socket(.unreachable, _) = error else {
            Issue.record("expected unreachable, got \(String(describing: error))")
            return
        }
        let second = try SimServer.start(socketPath: path, host: host)
        defer { second.stop() }
        #expect(try client.list().count == 10)
        #expect(second.requestCounts == ["List": 1])
    }

    @Test func closeAfterEachRequestIsSurvivedWithoutResending() throws {
        var faults = FaultOptions.none
        faults.closeAfterRequests = 1
        try Self.withServer(faults: faults) { server, path in
            let client = PortoClient(socketPath: path)
            for _ in 0..<5 {
                #expect(eventually { server.openConnections == 0 })
                _ = try client.version()
            }
            #expect(server.requestCounts["Version"] == 5)
            #expect(server.connectionCount == 5)
        }
    }

    @Test func hangIsCutByTheDeadlineAndTheNextCallUsesANewConnection() throws {
        var faults = FaultOptions.none
        faults.hang = true
        faults.onlyMethod = "GetSystem"
        try Self.withServer(faults: faults) { server, path in
            let client = PortoClient(socketPath: path, timeout: .milliseconds(200))
            let started = ContinuousClock.now
            let error = Self.expectFailure { _ = try client.getSystem() }
            #expect(started.duration(to: .now) < .seconds(5))
            guard case .timeout = error else {
                Issue.record("expected a timeout, got \(String(describing: error))")
                return
            }
            let tag = try client.version().tag
            #expect(tag == "5.3.59")
            #expect(server.connectionCount == 2)
            #expect(server.requestCounts["GetSystem"] == 1)
        }
    }

    @Test func delayLongerThanTheTimeoutIsATimeout() throws {
        var faults = FaultOptions.none
        faults.delay = .seconds(2)
        try Self.withServer(faults: faults) { _, path in
            let error = Self.expectFailure {
                _ = try PortoClient(socketPath: path, timeout: .milliseconds(150)).version()
            }
            guard case .timeout = error else {
                Issue.record("expected a timeout, got \(String(describing: error))")
                return
            }
        }
    }

    @Test func eachReplyFaultGivesItsError() throws {
        let cases: [(String, (inout FaultOptions) -> Void, String)] = [
            ("garbage", { $0.garbage = true }, "decode"),
            ("cutFrame", { $0.cutFrame = true }, "closedMidFrame"),
            ("oversizedPrefix", { $0.oversizedPrefix = true }, "decode"),
            ("noErrorField", { $0.noErrorField = true }, "lostError"),
        ]
        for (name, apply, expected) in cases {
            var faults = FaultOptions.none
            apply(&faults)
            try Self.withServer(faults: faults) { server, path in
                // A long deadline: the oversized prefix must be refused at once, not waited out.
                let client = PortoClient(socketPath: path, timeout: .seconds(30))
                let error = Self.expectFailure { _ = try client.version() }
                #expect(Self.kind(error) == expected, "\(name): \(String(describing: error))")
                #expect(server.requestCounts["Version"] == 1, "\(name): sent once")
            }
        }
    }

    @Test func failingListContainersByIsAnEnvelopeErrorAndKeepsTheConnection() throws {
        var faults = FaultOptions.none
        faults.failListContainersBy = true
        try Self.withServer(faults: faults) { server, path in
            let client = PortoClient(socketPath: path)
            let error = Self.expectFailure { _ = try client.listContainersBy(properties: ["state"]) }
            #expect(error == .porto(.unknown, message: FaultOptions.injectedFailureMessage))
            let system = try client.getSystem()
            #expect(system.portoVersion == "5.3.59")
            #expect(server.connectionCount == 1)
        }
    }

    @Test func everyTypedCallAgainstTheServer() throws {
        try Self.withServer { server, path in
            let client = PortoClient(socketPath: path)
            _ = try client.version()
            _ = try client.getSystem()
            _ = try client.listProperties()
            let names = try client.list()
            let values = try client.get(names: ["/"] + names, variables: ["state"])
            #expect(values.list.count == names.count + 1)
            let containers = try client.listContainersBy(properties: ["state"])
            #expect(containers.first?.spec.name == "/")
            _ = try client.listVolumes()
            _ = try client.getVolume()
            _ = try client.listLayers()
            _ = try client.listStorages()
            #expect(server.requestCounts == [
                "Version": 1, "GetSystem": 1, "ListProperties": 1, "List": 1, "Get": 1,
                "ListContainersBy": 1, "ListVolumes": 1, "GetVolume": 1, "ListLayers": 1, "ListStorages": 1,
            ])
            #expect(server.connectionCount == 1)
        }
    }
}
