import ArgumentParser
import Foundation
import PortoSim
import PortoWire

/// `porto-sim bench`: what building answers costs porto-sim, in-process, on a manual clock that
/// ticks before each round (so every round builds a new second's world and answers).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print how long porto-sim takes to build its answers (one new clock second per round).",
        discussion: """
            Per round: the world of a new second (SimHost.prepare), the ListContainersBy answer \
            encoded straight to bytes (what the server sends) and through SwiftProtobuf messages \
            (the message path tests use), and GetSystem. Medians over the rounds, CPU time of this \
            thread. The default properties are those of porto-exporter's default collectors.
            """
    )

    /// porto-exporter's default ListContainersBy properties (Collectors/ContainersCollector).
    static let exporterProperties = [
        "anon_usage", "cache_usage", "cgroups", "cpu_guarantee", "cpu_guarantee_total", "cpu_limit", "cpu_limit_total",
        "cpu_pressure", "cpu_throttled", "cpu_usage", "cpu_usage_system", "creation_time", "exit_code", "hugetlb_limit",
        "io_ops", "io_pressure", "io_read", "io_read_ops", "io_time", "io_write", "io_write_ops", "labels", "major_faults",
        "memory_limit", "memory_limit_total", "memory_pressure", "memory_reclaimed", "memory_usage", "minor_faults",
        "mlock_usage", "net", "net_bytes", "net_drops", "net_overlimits", "net_packets", "net_rx_bytes", "net_rx_drops",
        "net_rx_overlimits", "net_rx_packets", "net_tx_bytes", "net_tx_drops", "net_tx_packets", "oom_killed", "oom_kills",
        "oom_kills_total", "process_count", "respawn_count", "shmem_usage", "start_time", "state", "thread_count",
        "thread_limit",
    ]

    @Option(help: "Containers besides the root \"/\".")
    var containers = 10_000

    @Option(help: "Seed of the synthetic host.")
    var seed: UInt64 = 1

    @Option(help: "Rounds (each on a new second of the clock).")
    var rounds = 5

    @Option(help: ArgumentHelp("ListContainersBy properties, comma-separated (default: porto-exporter's).", valueName: "list"))
    var properties: String?

    @Flag(help: "Skip the message path (to profile what porto-sim runs).")
    var bytesOnly = false

    func run() throws {
        let clock = SimManualClock(epochSeconds: 1_800_000_000)
        let host = SimHost(options: SimOptions(containers: containers, seed: seed, clock: .manual(clock)))
        var lcb = Porto_TPortoRequest()
        var filter = Porto_TListContainersFilter()
        filter.name = "***"
        lcb.listContainersBy.filters = [filter]
        lcb.listContainersBy.fieldOptions.properties = properties.map { $0.split(separator: ",").map(String.init) } ?? Self.exporterProperties
        var system = Porto_TPortoRequest()
        system.getSystem = Porto_TGetSystemRequest()

        var world: [Double] = [], bytes: [Double] = [], messages: [Double] = [], getSystem: [Double] = []
        var size = 0
        for _ in 0..<max(rounds, 1) {
            clock.advance(by: 1)
            world.append(Self.cpuMilliseconds { host.prepare() })
            bytes.append(Self.cpuMilliseconds { size = host.encodedAnswer(to: lcb, counting: false).body?.count ?? 0 })
            if !bytesOnly {
                messages.append(Self.cpuMilliseconds { _ = try? host.respond(to: lcb)?.serializedBytes() as [UInt8]? })
            }
            getSystem.append(Self.cpuMilliseconds { _ = host.encodedAnswer(to: system, counting: false) })
        }
        print("porto-sim bench: \(containers) containers, seed \(seed), \(lcb.listContainersBy.fieldOptions.properties.count) properties, "
            + "ListContainersBy answer \(size) bytes; median of \(world.count) rounds, ms of CPU")
        print("world of a new second          \(Self.median(world))")
        print("ListContainersBy, bytes        \(Self.median(bytes))   (what porto-sim sends)")
        if !messages.isEmpty {
            print("ListContainersBy, messages     \(Self.median(messages))   (SwiftProtobuf messages, then encoded)")
        }
        print("GetSystem                      \(Self.median(getSystem))")
    }

    static func median(_ values: [Double]) -> String {
        let sorted = values.sorted()
        return String(format: "%9.2f", sorted[sorted.count / 2])
    }

    /// CPU time of this thread spent in `body`, in milliseconds.
    static func cpuMilliseconds(_ body: () -> Void) -> Double {
        func now() -> Double {
            var t = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
            return Double(t.tv_sec) * 1e3 + Double(t.tv_nsec) / 1e6
        }
        let start = now()
        body()
        return now() - start
    }
}
