import Foundation
import PortoSim
import PortoWire
import Testing

/// The server in front of the real synthetic host: what the host expects of the server (cache
/// rules, connection counts) and what docs/porto.md says about the pair.
@Suite struct SimServerHostTests {
    static let epoch: UInt64 = 1_800_000_000

    static func host(containers: Int = 40) -> SimHost {
        SimHost(options: SimOptions(containers: containers, clock: .fixed(epochSeconds: epoch)))
    }

    static func get(_ names: [String], _ variables: [String]) -> Porto_TPortoRequest {
        .with {
            $0.get.name = names
            $0.get.variable = variables
        }
    }

    @Test func everySuccessfulAnswerCarriesAnEmptyErrorMsg() throws {
        // portod sets the envelope's errorMsg on every answer, "" on success (docs/porto.md §1.3):
        // a client that tells "set" from "absent" sees the field on both paths (built and cached).
        let requests: [Porto_TPortoRequest] = [
            Request.version, Request.getSystem, Request.list("***"), Request.listContainersBy(["***"]),
            Self.get(["/"], ["state"]), .with { $0.getVolume = .init() }, .with { $0.listVolumes = .init() },
            .with { $0.listLayers = .init() }, .with { $0.listStorages = .init() }, .with { $0.listProperties = .init() },
        ]
        try withServer(host: Self.host()) { server, _ in
            let client = try RawClient(server.socketPath)
            for round in 0..<2 {
                for request in requests {
                    let response = try #require(try client.call(request), "\(request.methodName)")
                    #expect(response.error == .success, "\(request.methodName)")
                    #expect(response.hasErrorMsg && response.errorMsg.isEmpty, "\(request.methodName), round \(round)")
                }
            }
            #expect(server.cacheStatistics.hits > 0, "the second round came (partly) from the cache")
            let refused = try #require(try client.call(.with { $0.setSystem = .init() }))
            #expect(refused.error == .permission && refused.errorMsg == "Write access denied")
        }
    }

    @Test func namelessListContainersByFilterClosesTheConnection() throws {
        // docs/porto.md §0: a ListContainersBy filter without `name` got 0 bytes back and EOF.
        try withServer(host: Self.host()) { server, _ in
            let client = try RawClient(server.socketPath)
            try client.send(Request.listContainersBy([nil]))
            #expect(client.readFrame() == .closed(partial: []))
            let fresh = try RawClient(server.socketPath)
            let containers = try #require(try fresh.call(Request.listContainersBy(["***"]))).listContainersBy.containers
            #expect(containers.contains { $0.spec.name == "/" })
        }
    }

    @Test func repeatedListContainersByComesFromTheCache() throws {
        try withServer(host: Self.host(containers: 10_000)) { server, _ in
            let client = try RawClient(server.socketPath, timeout: .seconds(60))
            let request = Request.listContainersBy(["***"])
            let first = try #require(try client.call(request))
            #expect(first.listContainersBy.containers.count > 10_000)
            for _ in 0..<3 { #expect(try client.call(request) == first) }
            #expect(server.cacheStatistics == (hits: 3, misses: 1))
        }
    }

    @Test func getSystemIsNeverCachedAndCountsCachedRequests() throws {
        try withServer(host: Self.host()) { server, _ in
            let client = try RawClient(server.socketPath)
            let before = try #require(try client.call(Request.getSystem)).getSystem.requestCompleted
            _ = try client.call(Request.version)
            _ = try client.call(Request.version)  // from the cache
            let after = try #require(try client.call(Request.getSystem)).getSystem.requestCompleted
            // The first GetSystem, then both Versions: the cached one is counted too.
            #expect(after - before == 3)
            #expect(server.cacheStatistics.hits == 1)
        }
    }

    /// porto_stat holds the request counters too: on a portod without GetSystem it is what an
    /// exporter reads them from (docs/porto.md §8), so the cache must not freeze them for a second.
    @Test func portoStatIsNeverCached() throws {
        let host = SimHost(options: SimOptions(containers: 10, noGetSystem: true, clock: .fixed(epochSeconds: Self.epoch)))
        try withServer(host: host) { server, _ in
            let client = try RawClient(server.socketPath)
            func completed() throws -> String? {
                try client.call(Self.get(["/"], ["porto_stat[requests_completed]"]))?.get.list.first?.keyval.first?.value
            }
            let first = try #require(try completed().flatMap { UInt64($0) })
            #expect(try client.call(Request.getSystem)?.error == .invalidMethod)
            #expect(try completed() == String(first + 2))
            #expect(server.cacheStatistics.hits == 0)
        }
    }

    @Test func getSystemCountsOpenConnections() throws {
        try withServer(host: Self.host()) { server, _ in
            let first = try RawClient(server.socketPath)
            let second = try RawClient(server.socketPath)
            _ = try second.call(Request.version)
            #expect(eventually { server.openConnections == 2 })
            #expect(try first.call(Request.getSystem)?.getSystem.clientCount == 2)
        }
    }

    @Test func restartIsSeenAsANewPortodStart() throws {
        try withServer(host: Self.host()) { server, _ in
            let client = try RawClient(server.socketPath)
            let before = try #require(try client.call(Request.getSystem)).getSystem
            server.restart()
            #expect(client.readFrame() == .closed(partial: []))
            let after = try #require(try RawClient(server.socketPath).call(Request.getSystem)).getSystem
            #expect(after.portoStarts == before.portoStarts + 1)
            #expect(after.portoUptime == 0)
        }
    }

    @Test func controlEventsReachTheHost() throws {
        try withServer(host: Self.host()) { server, _ in
            let client = try RawClient(server.socketPath)
            let request = Self.get(["web"], ["oom_kills"])
            func oomKills() throws -> String? {
                try client.call(request)?.get.list.first?.keyval.first?.value
            }
            #expect(try oomKills() == "0")
            #expect(server.perform(line: "oom web") == "ok")
            #expect(try oomKills() == "1")
            #expect(server.perform(line: "oom no-such-container").hasPrefix("error: "))
            #expect(server.perform(line: "state web dead") == "ok")
            #expect(try client.call(Self.get(["web"], ["state"]))?.get.list.first?.keyval.first?.value == "dead")
        }
    }
}
