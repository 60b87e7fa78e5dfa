import Foundation
import PortoSim
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The `porto-sim` executable, run as a subprocess: flags, control subcommand, signals.
///
/// It is looked up beside the test bundle (`swift build --build-tests` builds every product into
/// the same directory); a missing binary fails the test rather than skipping it.
@Suite struct SimServerExecutableTests {
    static func binary() throws -> URL {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = executable.deletingLastPathComponent()
        // Inside `X.xctest/` on some layouts: climb until porto-sim is found or the root is reached.
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("porto-sim")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        Issue.record("porto-sim not found beside \(executable.path): run `swift build --build-tests` first")
        throw CancellationError()
    }

    /// Runs porto-sim with `arguments` and waits (at most `timeout`) for it to exit.
    static func run(_ arguments: [String], timeout: Duration = .seconds(30)) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = try binary()
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let finished = eventually(timeout: timeout) { !process.isRunning }
        if !finished { process.terminate() }
        process.waitUntilExit()
        #expect(finished, "porto-sim \(arguments) did not exit within \(timeout)")
        return (process.terminationStatus,
                String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
                String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    @Test func servesControlsAndStopsOnSIGTERM() throws {
        let sim = try SimProcess([
            "--containers", "30", "--seed", "7", "--fixed-clock", "1800000000", "--fault", "fail-lcb",
        ])
        let client = try RawClient(sim.socket)
        #expect(try client.call(Request.version)?.version.tag == "5.3.59")
        #expect(try client.call(Request.listContainersBy(["***"]))?.errorMsg == "injected failure")

        let controlled = try sim.control("fault", "none")
        #expect(controlled.status == 0 && controlled.out == "ok\n")
        let containers = try #require(try client.call(Request.listContainersBy(["***"]))).listContainersBy.containers
        #expect(containers.count == 31)

        // The failed ListContainersBy was not looked up in the cache. The refresher's counts
        // depend on when it first ran (see statsFileHasTheCacheCountsAndSIGUSR1RewritesIt).
        var answer = try Self.json(try sim.control("stats").out)
        #expect(answer["cache"] as? [String: Int] == ["hits": 0, "misses": 2, "stale": 0])
        #expect(answer["requests"] as? [String: Int] == ["ListContainersBy": 2, "Version": 1])
        #expect(answer["connections"] as? Int == 1 && answer["total"] as? Int == 3)
        var written = try sim.statsFile()
        answer["refresh"] = nil
        written["refresh"] = nil
        #expect(NSDictionary(dictionary: written) == NSDictionary(dictionary: answer))

        let refused = try sim.control("oom", "no-such-container")
        #expect(refused.status == 1)
        #expect(refused.err.hasPrefix("error: oom no-such-container"))

        sim.stop()
        #expect(!FileManager.default.fileExists(atPath: sim.socket))
        #expect(!FileManager.default.fileExists(atPath: sim.controlSocket))
        #expect(client.readFrame() == .closed(partial: []))
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    /// The stats file holds the response cache's and the refresher's counts; a request rewrites
    /// it, and so does SIGUSR1 when only the refresher worked since.
    @Test func statsFileHasTheCacheCountsAndSIGUSR1RewritesIt() throws {
        // A fixed clock: the host's generation changes only with the event the test sends.
        let sim = try SimProcess(["--containers", "30", "--fixed-clock", "1800000000"])
        func live() throws -> [String: Any] { try Self.json(try sim.control("stats").out) }
        func answers(_ stats: [String: Any]) -> Int { (stats["refresh"] as? [String: Int])?["answers"] ?? -1 }

        let client = try RawClient(sim.socket)
        _ = try client.call(Request.version)
        _ = try client.call(Request.version)                       // from the cache
        _ = try client.call(Request.listContainersBy(["***"]))
        // No waiting: the file is current (the cache lookups included) once the reply has arrived.
        #expect(try sim.statsFile()["cache"] as? [String: Int] == ["hits": 1, "misses": 2, "stale": 0])

        // An event: the refresher rebuilds both answers for the new generation; no request rewrites the file.
        let before = try sim.statsFile()
        #expect(try sim.control("oom", "web").status == 0)
        try #require(eventually(timeout: .seconds(30)) { (try? answers(live())) ?? 0 >= answers(before) + 2 })
        #expect(answers(try sim.statsFile()) == answers(before))
        kill(sim.process.processIdentifier, SIGUSR1)
        try #require(eventually(timeout: .seconds(30)) { (try? answers(sim.statsFile())) ?? 0 >= answers(before) + 2 })
        let rewritten = try sim.statsFile()
        #expect(NSDictionary(dictionary: rewritten) == NSDictionary(dictionary: try live()))
        #expect(rewritten["cache"] as? [String: Int] == ["hits": 1, "misses": 2, "stale": 0])
        #expect((rewritten["refresh"] as? [String: Int])?["refreshes"] ?? 0 >= 1)
    }

    @Test func noGetSystemServesAPortodOlderThan4_6() throws {
        let sim = try SimProcess(["--containers", "5", "--no-get-system"])
        let client = try RawClient(sim.socket)
        let refused = try #require(try client.call(Request.getSystem))
        #expect(refused.error == .invalidMethod && refused.errorMsg == "invalid RPC method")
        #expect(try client.call(Request.listContainersBy(["***"]))?.error == .invalidMethod)
        #expect(try client.call(Request.version)?.version.tag == SimHost.tagBeforeGetSystem)
        let stat = try #require(try client.call(.with {
            $0.get.name = ["/"]
            $0.get.variable = ["porto_stat[restarts]"]
        })?.get.list.first?.keyval.first)
        #expect(!stat.hasError && UInt64(stat.value) != nil)
        #expect(sim.stop().contains("no GetSystem"))
    }

    @Test(arguments: [
        ["--containers", "30"],  // no --socket
        ["--socket", "/tmp/x.socket", "--fault", "sometimes"],
        ["--socket", "/tmp/x.socket", "--delay", "soon"],
        ["--socket", "/tmp/x.socket", "--close-after", "0"],
        ["--socket", "/tmp/x.socket", "--no-such-flag"],
        ["--socket", "/no/such/directory/portod.socket"],
        ["control", "--socket", "/tmp/x.socket", "reboot"],
    ])
    func refusesBadFlagsClearly(arguments: [String]) throws {
        let result = try Self.run(arguments)
        #expect(result.status != 0)
        #expect(result.err.contains("Error: "))
    }
}

/// porto-sim run as a subprocess in a fresh directory, serving `portod.socket` with a control
/// socket and a stats file there; ready once both sockets exist. Killed when released.
final class SimProcess {
    let directory: String
    let process = Process()
    private let log: String
    var socket: String { directory + "/portod.socket" }
    var controlSocket: String { directory + "/control.socket" }
    var statsPath: String { directory + "/stats.json" }

    /// Starts `porto-sim --socket … --control … --stats-file …` followed by `arguments`.
    init(_ arguments: [String]) throws {
        directory = try makeTemporaryDirectory()
        log = directory + "/sim.log"
        process.executableURL = try SimServerExecutableTests.binary()
        process.arguments = ["--socket", socket, "--control", controlSocket, "--stats-file", statsPath] + arguments
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try process.run()
        guard eventually(timeout: .seconds(30), {
            FileManager.default.fileExists(atPath: socket) && FileManager.default.fileExists(atPath: controlSocket)
        }) else {
            terminate()
            Issue.record("porto-sim \(arguments) did not create its sockets within 30 s")
            throw CancellationError()
        }
    }

    deinit {
        terminate()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func terminate() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    /// `porto-sim control --socket … WORDS…`.
    func control(_ words: String...) throws -> (status: Int32, out: String, err: String) {
        try SimServerExecutableTests.run(["control", "--socket", controlSocket] + words)
    }

    /// The stats file, parsed.
    func statsFile() throws -> [String: Any] {
        try SimServerExecutableTests.json(try String(contentsOfFile: statsPath, encoding: .utf8))
    }

    /// SIGTERM: porto-sim must exit 0 within 30 s. Returns what it wrote to stderr.
    @discardableResult
    func stop(sourceLocation: SourceLocation = #_sourceLocation) -> String {
        Glibc.kill(process.processIdentifier, SIGTERM)
        #expect(eventually(timeout: .seconds(30)) { !process.isRunning }, sourceLocation: sourceLocation)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, sourceLocation: sourceLocation)
        return (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
    }
}
