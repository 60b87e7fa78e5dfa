import ArgumentParser
import Dispatch
import Foundation
import PortoSim

/// `porto-sim [serve]`: builds the host and serves it until SIGTERM or SIGINT.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a synthetic host on a unix socket (the default subcommand).",
        discussion: """
            SIGTERM or SIGINT removes the socket files and exits 0; SIGUSR1 rewrites the stats file.
            """
    )

    @Option(help: ArgumentHelp("The unix socket to serve on (mode 0666; a stale socket file is replaced, the directory must exist).", valueName: "path"))
    var socket: String

    @Option(help: "Containers besides the root \"/\".")
    var containers = 50

    @Option(help: "Seed of every generated name, rate and value.")
    var seed: UInt64 = 1

    @Flag(help: "Destroy and replace some containers every few seconds, as on a busy host.")
    var churn = false

    @Flag(help: "Behave like a portod older than 5.0: ListContainersBy fails with InvalidMethod.")
    var legacy = false

    @Flag(help: ArgumentHelp(
        "Behave like a portod older than 4.6 (implies --legacy): GetSystem fails with InvalidMethod.",
        discussion: "So do AsyncWait, NewVolume and GetVolume; the daemon counters are in Get / porto_stat (with `restarts`), Version says \(SimHost.tagBeforeGetSystem)."))
    var noGetSystem = false

    @Flag(help: "Put the memory controller on cgroup v2: memory.stat has v2 keys, memory_reclaimed is 0.")
    var cgroupV2 = false

    @Option(help: ArgumentHelp(
        "Properties this portod does not know, comma-separated, as an older portod (repeatable).",
        discussion: "Get answers them InvalidProperty, ListContainersBy with a status.error entry; ListProperties leaves them out."))
    var unknownProperties: [String] = []

    @Option(help: ArgumentHelp("Freeze the clock at this Unix time (seconds), for golden files.", valueName: "epoch"))
    var fixedClock: UInt64?

    @Option(help: ArgumentHelp("Write the request and response-cache counts as JSON to this file before every reply (and on SIGUSR1).", valueName: "path"))
    var statsFile: String?

    @Option(help: ArgumentHelp("Listen for control commands on this unix socket (see porto-sim --help).", valueName: "path"))
    var control: String?

    @Option(help: ArgumentHelp("Delay every reply (milliseconds, or with a unit: 200ms, 1.5s).", valueName: "duration"))
    var delay: String?

    @Option(help: ArgumentHelp("Inject a fault (repeatable): hang, garbage, cut, oversized, no-error, fail-lcb, fail.", valueName: "mode"))
    var fault: [String] = []

    @Option(help: ArgumentHelp("Apply --delay and --fault only to requests of this method (e.g. GetSystem).", valueName: "method"))
    var faultMethod: String?

    @Option(help: ArgumentHelp("Close each connection after this many requests.", valueName: "n"))
    var closeAfter: Int?

    @Flag(help: "Do not rebuild recently asked answers in the background as the clock ticks (every answer is then built by the first request of each second).")
    var noRefresh = false

    /// The fault flags, in the control socket's syntax.
    var faultWords: [String] {
        var words = fault
        if let delay { words += ["delay", delay] }
        if let closeAfter { words += ["close-after", String(closeAfter)] }
        if let faultMethod { words += ["only", faultMethod] }
        return words
    }

    func validate() throws {
        guard containers >= 0 else { throw ValidationError("--containers must be 0 or more") }
        for mode in fault where !["hang", "garbage", "cut", "oversized", "no-error", "fail-lcb", "fail"].contains(mode) {
            throw ValidationError("unknown --fault \(mode) (expected hang, garbage, cut, oversized, no-error, fail-lcb or fail)")
        }
        if !faultWords.isEmpty {
            do {
                _ = try FaultOptions(words: faultWords)
            } catch {
                throw ValidationError(error.description)
            }
        }
    }

    func run() throws {
        let faults = faultWords.isEmpty ? FaultOptions.none : try FaultOptions(words: faultWords)
        let options = SimOptions(
            containers: containers, seed: seed, churn: churn, legacy: legacy, noGetSystem: noGetSystem,
            cgroupV2: cgroupV2, unknownProperties: Set(unknownProperties.flatMap { $0.split(separator: ",").map(String.init) }),
            clock: fixedClock.map { .fixed(epochSeconds: $0) } ?? .system)

        // Signals are handled on a queue, not by the default action, so that the sockets are removed.
        for number in [SIGTERM, SIGINT, SIGUSR1] { signal(number, SIG_IGN) }

        let host = SimHost(options: options)
        let server = try SimServer.start(
            socketPath: socket, host: host, faults: faults, statsFile: statsFile,
            refresh: noRefresh ? .off : .standard)
        let controlServer: ControlServer?
        do {
            controlServer = try control.map { try ControlServer(path: $0, server: server) }
        } catch {
            server.stop()
            throw error
        }
        // Created only now: libdispatch traps when a source that was never resumed is released.
        let done = DispatchSemaphore(value: 0)
        let sources = [SIGTERM, SIGINT, SIGUSR1].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            if number == SIGUSR1 {
                source.setEventHandler { server.writeStatsFile() }
            } else {
                source.setEventHandler { done.signal() }
            }
            source.resume()
            return source
        }
        FileHandle.standardError.write(Data("""
            porto-sim: serving \(containers) containers (seed \(seed)\(churn ? ", churn" : "")\
            \(legacy ? ", legacy" : "")\(noGetSystem ? ", no GetSystem" : "")\(cgroupV2 ? ", cgroup v2" : "")\(noRefresh ? ", no refresh" : "")) on \(socket)\(control.map { ", control on \($0)" } ?? ""); \
            faults: \(faults)

            """.utf8))
        done.wait()
        sources.forEach { $0.cancel() }
        controlServer?.stop()
        server.stop()
        let cache = server.cacheStatistics
        let refresh = server.refreshStatistics
        FileHandle.standardError.write(Data("""
            porto-sim: stopped; cached answers: \(cache.hits) sent from the cache (\(server.staleHits) of them the \
            previous second's during a refresh), \(cache.misses) built by their request; the refresher built \
            \(refresh.answers) in \(refresh.refreshes) refreshes

            """.utf8))
    }
}
