import Foundation
import PortoSim
import Testing
@testable import PortoExporter

/// The built `porto-exporter` binary under SIGTERM/SIGINT when portod is not there or hangs, and
/// when the signal comes early: whatever portod does, a signal stops the exporter within a bounded
/// time with status 0.
@Suite struct ShutdownTests {
    enum Portod: String, CaseIterable, CustomTestStringConvertible {
        case missing        // no socket file at the path
        case refusing       // a socket file nobody listens on (portod stopped, socket left behind)
        case hanging        // porto-sim's hang fault: accepts, reads, never answers
        var testDescription: String { rawValue }
    }

    @Test(arguments: Portod.allCases)
    func sigtermAfterAScrapeExits0(portod: Portod) throws {
        let dir = try TempDirectory()
        let socket = dir.file("portod.socket")
        let sim = try Self.prepare(portod, socket: socket)
        defer { sim?.stop() }
        let exporter = try ExporterProcess(socket: socket, dir: dir, extra: ["--porto.timeout", "2"])
        defer { exporter.kill() }
        try exporter.waitUntilListening()

        let scrape = try HTTPTestClient(port: exporter.port, timeout: 30).request("GET", "/metrics")
        #expect(scrape.status == 200)
        #expect(scrape.text.contains("\nporto_up 0\n"))

        try exporter.signal(SIGTERM)
        try exporter.requireExit0(within: 20)
    }

    /// The signal lands while a collection is blocked in portod (hang) or failing (missing): the
    /// scrape in flight is answered, then the process exits 0.
    @Test(arguments: [(Portod.hanging, SIGTERM), (.hanging, SIGINT), (.missing, SIGTERM)])
    func aSignalDuringABlockedCollectionExits0(portod: Portod, signalNumber: Int32) throws {
        let dir = try TempDirectory()
        let socket = dir.file("portod.socket")
        let sim = try Self.prepare(portod, socket: socket)
        defer { sim?.stop() }
        let exporter = try ExporterProcess(socket: socket, dir: dir, extra: ["--porto.timeout", "3"])
        defer { exporter.kill() }
        try exporter.waitUntilListening()

        let inFlight = try HTTPTestClient(port: exporter.port, timeout: 30)
        try inFlight.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        if let sim {
            try waitUntil { sim.requestCounts.values.reduce(0, +) > 0 }   // the collection is blocked in portod
        }
        try exporter.signal(signalNumber)
        if sim != nil {
            // The collection is known to be in flight: the scrape must be answered.
            let r = try inFlight.readResponse()
            #expect(r.status == 200)
            #expect(r.text.contains("\nporto_up 0\n"))
        } else if let r = try? inFlight.readResponse() {
            // With portod missing nothing shows that the exporter took the request before the
            // signal: it may race the shutdown and be refused (connection closed). If answered,
            // the answer must be right; either way the process must exit 0.
            #expect(r.status == 200)
            #expect(r.text.contains("\nporto_up 0\n"))
        }
        try exporter.requireExit0(within: 20)
    }

    /// A signal that comes while the exporter is still starting is not lost: it stops the exporter
    /// once it has started (exit 0). The process is spawned with SIGTERM blocked, as by a parent
    /// thread that blocks it (dispatch workers block every signal; the child keeps the mask): the
    /// signal is pending from exec on, like one that lands before main with an empty mask. Several
    /// delays, to land before, during and after main's set-up.
    @Test(arguments: [0, 2, 5, 10, 20, 40, 80])
    func anEarlySignalIsNotLost(delayMilliseconds: Int) throws {
        let dir = try TempDirectory()
        let exporter = try ExporterProcess(socket: dir.file("portod.socket"), dir: dir, extra: [], spawnWithStopSignalsBlocked: true)
        defer { exporter.kill() }
        usleep(useconds_t(delayMilliseconds * 1000))
        try exporter.signal(SIGTERM)
        try exporter.requireExit0(within: 20)
        #expect(exporter.logText.contains("msg=stopped"))
    }

    static func prepare(_ portod: Portod, socket: String) throws -> SimServer? {
        switch portod {
        case .missing:
            return nil
        case .refusing:
            // Bound, never listening, closed: connect() is refused (ECONNREFUSED).
            let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            try #require(fd >= 0)
            defer { close(fd) }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (i, byte) in socket.utf8.prefix(raw.count - 1).enumerated() { raw[i] = byte }
            }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            try #require(bound == 0)
            return nil
        case .hanging:
            return try SimServer.start(socketPath: socket, host: SimHost(options: SimOptions(containers: 5, seed: 2)),
                                       faults: FaultOptions(hang: true))
        }
    }
}

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
