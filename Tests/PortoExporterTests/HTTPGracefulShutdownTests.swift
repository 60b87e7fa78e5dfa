import Foundation
import PortoSim
import Testing
@testable import PortoExporter

/// The built `porto-exporter` binary as a subprocess against porto-sim's server (in-process, on a
/// unix socket): a signal during a slow scrape lets the scrape finish in full, refuses new
/// connections, and exits 0.
@Suite struct HTTPGracefulShutdownTests {
    /// `.build/debug/porto-exporter` (see ExporterProcess).
    static var binary: String { ExporterProcess.binary }

    @Test(arguments: [SIGTERM, SIGINT])
    func aSignalLetsTheScrapeInFlightFinishAndExits0(signalNumber: Int32) throws {
        let binary = Self.binary
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build porto-exporter first: \(binary)")
        let dir = try TempDirectory()
        let socket = dir.file("portod.socket")
        let sim = try SimServer.start(socketPath: socket, host: SimHost(options: SimOptions(containers: 20, seed: 3)))
        defer { sim.stop() }

        let log = dir.file("exporter.log")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--porto.socket", socket, "--web.listen-address", "127.0.0.1:0", "--porto.timeout", "20"]
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate(); process.waitUntilExit() } }

        var port: UInt16 = 0
        try waitUntil(timeout: 30) {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            guard let line = text.split(separator: "\n").first(where: { $0.contains("msg=listening") }),
                  let range = line.range(of: "address=127.0.0.1:") else { return false }
            port = UInt16(line[range.upperBound...].prefix { $0.isNumber }) ?? 0
            return port != 0
        }
        // A keep-alive connection, open before the signal, asks again during the shutdown.
        let keptAlive = try HTTPTestClient(port: port, timeout: 30)
        let first = try keptAlive.request("GET", "/metrics")
        #expect(first.text.contains("\nporto_up 1\n"))

        // Every answer of portod now takes 700 ms: a collection takes a few seconds.
        sim.setFaults(FaultOptions(delay: .milliseconds(700)))
        let before = sim.requestCounts.values.reduce(0, +)
        let inFlight = try HTTPTestClient(port: port, timeout: 30)
        try inFlight.send("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Prometheus-Scrape-Timeout-Seconds: 25\r\n\r\n")
        try waitUntil { sim.requestCounts.values.reduce(0, +) > before }   // the collection has begun
        #expect(kill(process.processIdentifier, signalNumber) == 0)

        // New connections are refused while the scrape in flight goes on.
        try waitUntil { (try? HTTPTestClient(port: port, timeout: 2)) == nil }
        // ... and a scrape on a connection that was already open is refused, not suspended
        // (libmicrohttpd aborts the process if it stops with a suspended connection).
        let late = try keptAlive.request("GET", "/metrics")
        #expect(late.status == 503)
        #expect(late.text == "Shutting down\n")
        let r = try inFlight.readResponse()
        #expect(r.status == 200)
        #expect(r.text.contains("\nporto_up 1\n"))
        #expect(r.text.contains("porto_exporter_collector_success{collector=\"containers\"} 1\n"))
        #expect(r.text.contains("porto_exporter_collector_success{collector=\"daemon\"} 1\n"))

        try waitUntil(timeout: 30) { !process.isRunning }
        #expect(process.terminationReason == .exit)
        #expect(process.terminationStatus == 0)
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(text.contains("msg=stopped"))
    }
}
