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
        let text = try ExporterProcess.withRunning(socket: socket, dir: dir, extra: ["--porto.timeout", "2"]) { try $0.scrape() }
        #expect(text.contains("\nporto_up 0\n"))
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

    /// libmicrohttpd says nothing on stderr at start-up (its logger is given first).
    @Test func startUpPrintsNoLibmicrohttpdWarning() throws {
        let dir = try TempDirectory()
        let log = try ExporterProcess.withRunning(socket: dir.file("portod.socket"), dir: dir, extra: ["--log.level", "debug"]) {
            _ = try $0.scrape()
            return $0.logText
        }
        #expect(log.contains("msg=listening"))
        #expect(!log.contains("is not the first option"), "\(log)")
        #expect(!log.contains("MHD_OPTION"), "\(log)")
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
