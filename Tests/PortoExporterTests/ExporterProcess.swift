import Foundation
import Testing
@testable import PortoExporter

/// The built `porto-exporter` binary as a subprocess, its stderr in a file, on a free port.
final class ExporterProcess {
    let process = Process()
    let dir: TempDirectory   // kept alive as long as the process: it holds the log
    let log: String
    private(set) var port: UInt16 = 0

    /// `.build/debug/porto-exporter`, beside the test bundle (`swift build --build-tests` builds it).
    static var binary: String {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = testBinary.deletingLastPathComponent()
        // The bundle may be a directory (…PackageTests.xctest/…); walk up to the bin path.
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("porto-exporter").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return testBinary.deletingLastPathComponent().appendingPathComponent("porto-exporter").path
    }

    /// Spawns the binary with an empty signal mask (as systemd does), or with SIGTERM and SIGINT
    /// blocked (`spawnWithStopSignalsBlocked`): the child inherits the spawning thread's mask.
    /// `environment`: variables set (a nil value removes one) over the test's own.
    init(socket: String, dir: TempDirectory, extra: [String], environment: [String: String?] = [:],
         spawnWithStopSignalsBlocked: Bool = false) throws {
        self.dir = dir
        let binary = Self.binary
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build porto-exporter first: \(binary)")
        log = dir.file("exporter.log")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--porto.socket", socket, "--web.listen-address", "127.0.0.1:0"] + extra
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = FileHandle.nullDevice
        var env = ProcessInfo.processInfo.environment
        for (name, value) in environment { env[name] = value }
        process.environment = env
        var mask = sigset_t(), saved = sigset_t()
        sigemptyset(&mask)
        if spawnWithStopSignalsBlocked {
            sigaddset(&mask, SIGTERM)
            sigaddset(&mask, SIGINT)
        }
        pthread_sigmask(SIG_SETMASK, &mask, &saved)
        defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
        try process.run()
    }

    var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// Waits for the "listening" log line and takes the port from it.
    func waitUntilListening(timeout: Double = 30) throws {
        try waitUntil(timeout: timeout) {
            guard let line = logText.split(separator: "\n").first(where: { $0.contains("msg=listening") }),
                  let range = line.range(of: "address=127.0.0.1:") else { return false }
            port = UInt16(line[range.upperBound...].prefix { $0.isNumber }) ?? 0
            return port != 0
        }
    }

    func signal(_ number: Int32) throws {
        try #require(Glibc.kill(process.processIdentifier, number) == 0)
    }

    /// The process ends within `seconds`, by exiting with status 0.
    func requireExit0(within seconds: Double, sourceLocation: SourceLocation = #_sourceLocation) throws {
        do {
            try waitUntil(timeout: seconds) { !process.isRunning }
        } catch {
            Issue.record("porto-exporter still running \(seconds) s after the signal; \(status); log:\n\(logText)", sourceLocation: sourceLocation)
            throw error
        }
        #expect(process.terminationReason == .exit, "log:\n\(logText)", sourceLocation: sourceLocation)
        #expect(process.terminationStatus == 0, "log:\n\(logText)", sourceLocation: sourceLocation)
    }

    /// The process's state and signal masks, from /proc, for failure messages.
    var status: String {
        let text = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { $0.hasPrefix("State") || $0.hasPrefix("Sig") || $0.hasPrefix("ShdPnd") || $0.hasPrefix("Threads") }
            .joined(separator: " ")
    }

    func kill() {
        if process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

extension ExporterProcess {
    /// Starts the binary on `socket` (see ``init(socket:dir:extra:environment:spawnWithStopSignalsBlocked:)``),
    /// waits until it listens, runs `body` with it, then stops it with SIGTERM and requires exit
    /// status 0 within 20 s. Killed if `body` throws.
    static func withRunning<R>(
        socket: String, dir: TempDirectory, extra: [String] = [], environment: [String: String?] = [:],
        _ body: (ExporterProcess) throws -> R
    ) throws -> R {
        let exporter = try ExporterProcess(socket: socket, dir: dir, extra: extra, environment: environment)
        defer { exporter.kill() }
        try exporter.waitUntilListening()
        let result = try body(exporter)
        try exporter.signal(SIGTERM)
        try exporter.requireExit0(within: 20)
        return result
    }

    /// One `GET /metrics`, required to answer 200: its body.
    func scrape(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let r = try HTTPTestClient(port: port, timeout: 30).request("GET", "/metrics")
        try #require(r.status == 200, "log:\n\(logText)", sourceLocation: sourceLocation)
        return r.text
    }
}
