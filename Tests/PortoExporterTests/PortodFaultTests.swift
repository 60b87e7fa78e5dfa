import Foundation
import PortoSim
import PortoWire
import Testing
@testable import PortoExporter

/// portod misbehaving, with porto-sim's fault modes over a real unix socket and the
/// exporter's real client and collection. For each fault: the collection returns (its deadline is
/// honoured) with `porto_up 0` or the failing collector reported, nothing crashes, no file
/// descriptor leaks, and the first collection after recovery is complete.
@Suite struct PortodFaultTests {
    /// porto-sim, a client and a collection, in a temporary directory of their own.
    final class Rig {
        let dir: String
        let socketPath: String
        let host: SimHost
        var sim: SimServer?
        let client: PortoClient
        let collection: CollectorSet

        init(containers: Int = 30, churn: Bool = false, faults: FaultOptions = .none, timeout: Duration = .seconds(30)) throws {
            dir = try makeTemporaryDirectory()
            socketPath = dir + "/portod.socket"
            var options = SimOptions()
            options.containers = containers
            options.seed = 7
            options.churn = churn
            host = SimHost(options: options)
            sim = try SimServer.start(socketPath: socketPath, host: host, faults: faults)
            client = PortoClient(socketPath: socketPath, timeout: timeout)
            collection = CollectorSet(configuration: CollectionConfiguration(), transport: client)
        }

        deinit {
            client.close()
            sim?.stop()
            try? FileManager.default.removeItem(atPath: dir)
        }

        struct Scrape {
            var text: String
            var report: CollectionReport
            func failed(_ collector: String) -> Bool { report.results.contains { $0.collector == collector && $0.error != nil } }
            var porto_up: Bool { text.contains("\nporto_up 1\n") || text.hasPrefix("porto_up 1\n") }
        }

        /// One collection with a deadline `seconds` from now (generous by default: the machine
        /// running the tests may be busy, and a healthy collection must never be cut).
        func scrape(deadline seconds: Double = 30) -> Scrape {
            let writer = ExpositionWriter(format: .text)
            let report = collection.collect(into: writer, deadline: .now + .milliseconds(Int64(seconds * 1000)))
            return Scrape(text: String(decoding: writer.finish(), as: UTF8.self), report: report)
        }

        /// The collection of a healthy portod: every collector succeeded, and the containers
        /// porto-sim serves are there.
        func expectComplete(_ scrape: Scrape, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(scrape.report.up, sourceLocation: sourceLocation)
            #expect(scrape.report.success, "\(scrape.report.results.filter { $0.error != nil })", sourceLocation: sourceLocation)
            #expect(scrape.text.contains("porto_up 1"), sourceLocation: sourceLocation)
            #expect(!scrape.text.contains("porto_exporter_collector_success{collector=") || !scrape.text.contains("porto_exporter_collector_success{collector=\"containers\"} 0"),
                    sourceLocation: sourceLocation)
            #expect(scrape.text.contains("porto_container_state{"), sourceLocation: sourceLocation)
        }
    }

    /// Open file descriptors of this process. Tests run in parallel, so a leak is judged on a
    /// fault repeated many times: a leak of one fd per collection would show as dozens.
    static func openFDs() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
    }

    /// Repeats a faulty collection `times` and checks the fd count did not grow with it.
    static func expectNoFDGrowth(times: Int = 40, _ body: () -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
        body()   // warm-up: lazily opened descriptors
        let before = openFDs()
        for _ in 0..<times { body() }
        // Other tests open and close sockets at the same time, so one reading can catch dozens of
        // theirs. A leak stays; their descriptors come and go: judge on the lowest of several
        // readings over up to 10 s. A per-collection leak would add `times` descriptors.
        var after = openFDs()
        for _ in 0..<100 where after - before >= times / 2 {
            usleep(100_000)
            after = min(after, openFDs())
        }
        #expect(after - before < times / 2, "fds \(before) -> \(after) over \(times) faulty collections", sourceLocation: sourceLocation)
    }

    /// Repeats a faulty collection `times` and checks that the client kept no connection: judged
    /// on the connections porto-sim still has open (a client that leaked a descriptor leaves the
    /// server's end open too; unlike the process's fd count, tests running beside this one do not
    /// disturb it), and, for faults where porto-sim closes its end itself (a cut frame, a close
    /// after N requests) and so cannot see a leak, also on the process's fd count.
    static func expectNoConnectionLeak(_ sim: SimServer?, times: Int, serverCloses: Bool = false, _ body: () -> Void,
                                       sourceLocation: SourceLocation = #_sourceLocation) {
        guard let sim, !serverCloses else { return expectNoFDGrowth(times: times, body, sourceLocation: sourceLocation) }
        for _ in 0..<times { body() }
        var open = sim.openConnections
        for _ in 0..<50 where open > 1 {   // the server notices a close within its read loop
            usleep(100_000)
            open = sim.openConnections
        }
        #expect(open <= 1, "porto-sim still has \(open) connections open after \(times) faulty collections", sourceLocation: sourceLocation)
    }

    // MARK: - portod unreachable

    @Test func socketMissing() throws {
        let rig = try Rig()
        rig.sim?.stop()
        rig.sim = nil
        let s = rig.scrape()
        #expect(!s.report.up)
        #expect(s.text.contains("porto_up 0"))
        guard case .socket(.unreachable, _)? = s.report.connectionError else {
            Issue.record("expected unreachable, got \(String(describing: s.report.connectionError))")
            return
        }
        Self.expectNoFDGrowth { _ = rig.scrape() }
        // portod comes back on the same path: the first collection is complete.
        rig.sim = try SimServer.start(socketPath: rig.socketPath, host: rig.host)
        rig.expectComplete(rig.scrape())
    }

    @Test func permissionDenied() throws {
        // Tests run as root, whom no file mode stops. The filesystem uid is per thread on Linux,
        // and moving it off 0 drops the file capabilities (capabilities(7)): this thread then
        // connects as `nobody` would, while the rest of the test process stays root.
        let rig = try Rig()
        chmod(rig.dir, 0o755)
        chmod(rig.socketPath, 0o600)
        let s = Self.asNobody { rig.scrape() }
        #expect(!s.report.up)
        #expect(s.text.contains("porto_up 0"))
        guard case .socket(.permissionDenied, _)? = s.report.connectionError else {
            Issue.record("expected permission denied, got \(String(describing: s.report.connectionError))")
            return
        }
        Self.expectNoFDGrowth { _ = Self.asNobody { rig.scrape() } }
        chmod(rig.socketPath, 0o666)
        rig.expectComplete(Self.asNobody { rig.scrape() })
    }

    /// Runs `body` on this thread with filesystem uid 65534 (when root; as is otherwise).
    static func asNobody<T>(_ body: () -> T) -> T {
        typealias SetFSUID = @convention(c) (UInt32) -> Int32
        guard getuid() == 0, let symbol = dlsym(nil, "setfsuid") else { return body() }
        let setfsuid = unsafeBitCast(symbol, to: SetFSUID.self)
        _ = setfsuid(65534)
        defer { _ = setfsuid(0) }
        return body()
    }

    // MARK: - portod misbehaving

    @Test func hangingPortodIsCutAtTheDeadline() throws {
        var faults = FaultOptions()
        faults.hang = true
        let rig = try Rig(faults: faults, timeout: .seconds(30))
        let s = rig.scrape(deadline: 1)
        #expect(!s.report.up)
        #expect(s.text.contains("porto_up 0"))
        #expect(s.report.results.allSatisfy { $0.error != nil })
        #expect(s.report.results.contains { if case .timeout? = $0.error { true } else { false } })
        Self.expectNoConnectionLeak(rig.sim, times: 6) { _ = rig.scrape(deadline: 0.3) }
        rig.sim?.setFaults(.none)
        rig.expectComplete(rig.scrape())
    }

    @Test func slowPortodFailsOnlyWhatDidNotFit() throws {
        var faults = FaultOptions()
        faults.delay = .milliseconds(400)
        faults.onlyMethod = "ListContainersBy"
        let rig = try Rig(faults: faults)
        let s = rig.scrape(deadline: 0.3)
        #expect(s.report.up, "GetSystem answered quickly")
        #expect(s.failed("containers"))
        #expect(s.text.contains("porto_exporter_collector_success{collector=\"containers\"} 0"))
        rig.sim?.setFaults(.none)
        rig.expectComplete(rig.scrape())
    }

    @Test(arguments: ["garbage", "cutFrame", "oversizedPrefix", "noErrorField"])
    func brokenAnswers(fault: String) throws {
        var faults = FaultOptions()
        switch fault {
        case "garbage": faults.garbage = true
        case "cutFrame": faults.cutFrame = true
        case "oversizedPrefix": faults.oversizedPrefix = true
        default: faults.noErrorField = true
        }
        let rig = try Rig(faults: faults)
        let s = rig.scrape()
        #expect(s.report.results.allSatisfy { $0.error != nil }, "\(fault): \(s.report.results)")
        #expect(s.text.contains("porto_up 0") || s.text.contains("} 0\n"), "\(fault)")
        Self.expectNoConnectionLeak(rig.sim, times: fault == "cutFrame" ? 60 : 20, serverCloses: fault == "cutFrame") { _ = rig.scrape() }
        rig.sim?.setFaults(.none)
        rig.expectComplete(rig.scrape())
    }

    @Test func listContainersByFailing() throws {
        var faults = FaultOptions()
        faults.failListContainersBy = true
        let rig = try Rig(faults: faults)
        let s = rig.scrape()
        #expect(s.report.up)
        #expect(s.failed("containers"))
        #expect(!s.failed("daemon"))
        #expect(s.text.contains("porto_up 1\n"))
        #expect(rig.sim?.requestCounts["Get"] == nil, "an envelope error other than InvalidMethod is not a reason to fall back")
        rig.sim?.setFaults(.none)
        rig.expectComplete(rig.scrape())
    }

    @Test func portodRestartingMidScrape() throws {
        // The connection is closed after every second request: mid-collection, as a reload does.
        var faults = FaultOptions()
        faults.closeAfterRequests = 2
        let rig = try Rig(faults: faults)
        for _ in 0..<5 {
            let s = rig.scrape()
            #expect(s.report.up)
        }
        Self.expectNoConnectionLeak(rig.sim, times: 60, serverCloses: true) { _ = rig.scrape() }
        // A restart between collections: the client reconnects, the next collection is complete.
        rig.sim?.setFaults(.none)
        _ = rig.scrape()
        rig.sim?.restart()
        rig.expectComplete(rig.scrape())
        #expect(rig.scrape().text.contains("porto_daemon_porto_starts_total"))
    }

    @Test(arguments: [false, true])
    func containersVanishingBetweenListAndRead(legacy: Bool) throws {
        // Every third container is destroyed after the list and before it is read: Get answers
        // ContainerDoesNotExist on each of its variables, ListContainersBy an entry with only its
        // name and that error (docs/porto.md §1.3). Neither may fail the collection or leave a sample.
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var options = SimOptions()
        options.containers = 40
        options.legacy = legacy
        let host = VanishingHost(SimHost(options: options))
        let sim = try SimServer.start(socketPath: dir + "/portod.socket", host: host)
        defer { sim.stop() }
        let client = PortoClient(socketPath: dir + "/portod.socket", timeout: .seconds(30))
        defer { client.close() }
        let collection = CollectorSet(configuration: CollectionConfiguration(), transport: client)
        let writer = ExpositionWriter(format: .text)
        let report = collection.collect(into: writer, deadline: .now + .seconds(30))
        let text = String(decoding: writer.finish(), as: UTF8.self)
        #expect(report.success, "\(report.results.filter { $0.error != nil })")
        let vanished = host.vanished
        #expect(!vanished.isEmpty, "the fake made containers vanish")
        for name in vanished {
            let lines = text.split(separator: "\n").filter { $0.contains("name=\"\(name)\"") }
            #expect(lines.isEmpty, "\(name) vanished but is exported: \(lines.prefix(3))")
        }
        #expect(text.contains("porto_container_state{"), "the others are exported")
        #expect(sim.requestCounts[legacy ? "Get" : "ListContainersBy", default: 0] > 0)
    }

    // MARK: - Read-only, and nothing secret

    @Test func onlyReadRequestsAreSent() throws {
        let rig = try Rig()
        rig.expectComplete(rig.scrape())
        let readOnly: Set<String> = ["Version", "GetSystem", "List", "Get", "ListContainersBy", "ListVolumes",
                                     "GetVolume", "ListLayers", "ListStorages", "ListProperties"]
        let sent = Set(try #require(rig.sim).requestCounts.keys)
        #expect(sent.isSubset(of: readOnly), "\(sent.subtracting(readOnly))")
    }

    @Test func nothingSecretIsExported() throws {
        let rig = try Rig(containers: 60)
        let s = rig.scrape()
        rig.expectComplete(s)
        // Ask porto-sim for every container's command, env and labels, and look for them.
        let names = try rig.client.list()
        let response = try rig.client.get(names: names, variables: ["command", "env", "env_secret", "labels", "cwd", "root"])
        var secrets: Set<String> = []
        for container in response.list {
            for value in container.keyval where !value.value.isEmpty {
                if value.variable == "labels" {
                    for pair in value.value.split(separator: ";") {
                        let v = pair.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
                        if v.count >= 4 { secrets.insert(v) }
                    }
                } else if value.value.count >= 4, value.value != "/" {
                    secrets.insert(value.value)
                }
            }
        }
        #expect(!secrets.isEmpty, "porto-sim serves commands and labels to look for")
        // A value is exported if it is a whole label value; a command line or an environment
        // entry (they hold `/` or `=`) also must not appear anywhere, not even inside text.
        func escaped(_ v: String) -> String {
            v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n")
        }
        for secret in secrets where !names.contains(where: { $0.contains(secret) }) {
            #expect(!s.text.contains("=\"\(escaped(secret))\""), "\(secret.debugDescription) is exported as a label value")
            if secret.contains("/") || secret.contains("=") {
                #expect(!s.text.contains(secret), "\(secret.debugDescription) is exported")
            }
        }
    }
}

/// porto-sim's host, with every third container destroyed between a list and a read.
final class VanishingHost: SimResponder, @unchecked Sendable {
    private let host: SimHost
    private let lock = NSLock()
    private var gone: Set<String> = []

    init(_ host: SimHost) { self.host = host }

    var vanished: Set<String> { lock.withLock { gone } }
    var generation: UInt64 { host.generation }
    func inject(_ event: SimEvent) -> Bool { host.inject(event) }
    func canCache(_ request: Porto_TPortoRequest) -> Bool { false }

    func respond(to request: Porto_TPortoRequest) -> Porto_TPortoResponse? {
        guard var response = host.respond(to: request) else { return nil }
        if request.hasGet {
            // A Get of every container (the legacy read) makes some vanish; a Get of named ones
            // after ListContainersBy (memory.stat, the slower groups) finds the vanished gone.
            let readsAll = request.get.name.contains("***")
            let gone = lock.withLock { self.gone }
            for i in response.get.list.indices {
                let name = response.get.list[i].name
                if readsAll {
                    guard i % 3 == 1, name != "/" else { continue }
                    lock.withLock { _ = self.gone.insert(name) }
                } else if !gone.contains(name) {
                    continue
                }
                for j in response.get.list[i].keyval.indices {
                    response.get.list[i].keyval[j].value = ""
                    response.get.list[i].keyval[j].error = .containerDoesNotExist
                    response.get.list[i].keyval[j].errorMsg = "container not found"
                }
            }
        }
        if request.hasListContainersBy {
            for i in response.listContainersBy.containers.indices where i % 3 == 1 {
                let name = response.listContainersBy.containers[i].spec.name
                guard name != "/" else { continue }
                lock.withLock { _ = gone.insert(name) }
                var entry = Porto_TContainer()
                entry.spec.name = name
                entry.error.error = .containerDoesNotExist
                entry.error.msg = "container not found"
                response.listContainersBy.containers[i] = entry
            }
        }
        return response
    }
}
