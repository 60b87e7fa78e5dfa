import Foundation
import PortoSim
import PortoWire
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
        let directory = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/portod.socket"
        let control = directory + "/control.socket"
        let stats = directory + "/stats.json"
        let process = Process()
        process.executableURL = try Self.binary()
        process.arguments = [
            "--socket", socket, "--control", control, "--stats-file", stats, "--containers", "30",
            "--seed", "7", "--fixed-clock", "1800000000", "--fault", "fail-lcb",
        ]
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }
        try #require(eventually(timeout: .seconds(30)) {
            FileManager.default.fileExists(atPath: socket) && FileManager.default.fileExists(atPath: control)
        })

        let client = try RawClient(socket)
        #expect(try client.call(Request.version)?.version.tag == "5.3.59")
        #expect(try client.call(Request.listContainersBy(["***"]))?.errorMsg == "injected failure")

        let controlled = try Self.run(["control", "--socket", control, "fault", "none"])
        #expect(controlled.status == 0 && controlled.out == "ok\n")
        let containers = try #require(try client.call(Request.listContainersBy(["***"]))).listContainersBy.containers
        #expect(containers.count == 31)

        let counted = try Self.run(["control", "--socket", control, "stats"])
        #expect(counted.out == #"{"connections":1,"requests":{"ListContainersBy":2,"Version":1},"total":3}"# + "\n")
        #expect(try String(contentsOfFile: stats, encoding: .utf8) == counted.out)

        let refused = try Self.run(["control", "--socket", control, "oom", "no-such-container"])
        #expect(refused.status == 1)
        #expect(refused.err.hasPrefix("error: oom no-such-container"))

        kill(process.processIdentifier, SIGTERM)
        #expect(eventually(timeout: .seconds(30)) { !process.isRunning })
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
        #expect(!FileManager.default.fileExists(atPath: socket))
        #expect(!FileManager.default.fileExists(atPath: control))
        #expect(client.readFrame() == .closed(partial: []))
    }

    @Test func noGetSystemServesAPortodOlderThan4_6() throws {
        let directory = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let socket = directory + "/portod.socket"
        let process = Process()
        process.executableURL = try Self.binary()
        process.arguments = ["--socket", socket, "--containers", "5", "--no-get-system"]
        let err = Pipe()
        process.standardError = err
        try process.run()
        defer {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }
        try #require(eventually(timeout: .seconds(30)) { FileManager.default.fileExists(atPath: socket) })

        let client = try RawClient(socket)
        let refused = try #require(try client.call(Request.getSystem))
        #expect(refused.error == .invalidMethod && refused.errorMsg == "invalid RPC method")
        #expect(try client.call(Request.listContainersBy(["***"]))?.error == .invalidMethod)
        #expect(try client.call(Request.version)?.version.tag == SimHost.tagBeforeGetSystem)
        let stat = try #require(try client.call(.with {
            $0.get.name = ["/"]
            $0.get.variable = ["porto_stat[restarts]"]
        })?.get.list.first?.keyval.first)
        #expect(!stat.hasError && UInt64(stat.value) != nil)

        kill(process.processIdentifier, SIGTERM)
        #expect(eventually(timeout: .seconds(30)) { !process.isRunning })
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(log.contains("no GetSystem"), "\(log)")
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
