import ArgumentParser
import PortoExporter
import PortoWire

#if canImport(Glibc)
import Glibc
#endif

/// How the exporter reaches portod and what it collects (owner: collectors; the serving mode
/// reads `socket` and `timeout` too).
struct CollectionOptions: ParsableArguments {
    @Option(name: .customLong("porto.socket"), help: ArgumentHelp("Path of portod's socket.", valueName: "path"))
    var socket = "/run/portod.socket"

    @Option(name: .customLong("porto.timeout"),
            help: ArgumentHelp("Deadline of a collection in seconds, when Prometheus does not send X-Prometheus-Scrape-Timeout-Seconds.", valueName: "seconds"))
    var timeout: Double = 10

    // MARK: Groups (--collector.<group> / --no-collector.<group>)

    @Flag(name: .customLong("collector.daemon"), inversion: .prefixedNo, help: help(.daemon)) var daemon = CollectorGroup.daemon.enabledByDefault
    @Flag(name: .customLong("collector.cpu"), inversion: .prefixedNo, help: help(.cpu)) var cpu = CollectorGroup.cpu.enabledByDefault
    @Flag(name: .customLong("collector.memory"), inversion: .prefixedNo, help: help(.memory)) var memory = CollectorGroup.memory.enabledByDefault
    @Flag(name: .customLong("collector.io"), inversion: .prefixedNo, help: help(.io)) var io = CollectorGroup.io.enabledByDefault
    @Flag(name: .customLong("collector.net"), inversion: .prefixedNo, help: help(.net)) var net = CollectorGroup.net.enabledByDefault
    @Flag(name: .customLong("collector.pressure"), inversion: .prefixedNo, help: help(.pressure)) var pressure = CollectorGroup.pressure.enabledByDefault
    @Flag(name: .customLong("collector.process"), inversion: .prefixedNo, help: help(.process)) var process = CollectorGroup.process.enabledByDefault
    @Flag(name: .customLong("collector.limits"), inversion: .prefixedNo, help: help(.limits)) var limits = CollectorGroup.limits.enabledByDefault
    @Flag(name: .customLong("collector.state"), inversion: .prefixedNo, help: help(.state)) var state = CollectorGroup.state.enabledByDefault
    @Flag(name: .customLong("collector.vm"), inversion: .prefixedNo, help: help(.vm)) var vm = CollectorGroup.vm.enabledByDefault
    @Flag(name: .customLong("collector.volumes"), inversion: .prefixedNo, help: help(.volumes)) var volumes = CollectorGroup.volumes.enabledByDefault
    @Flag(name: .customLong("collector.layers"), inversion: .prefixedNo, help: help(.layers)) var layers = CollectorGroup.layers.enabledByDefault
    @Flag(name: .customLong("collector.storages"), inversion: .prefixedNo, help: help(.storages)) var storages = CollectorGroup.storages.enabledByDefault

    // MARK: Containers

    @Option(name: .customLong("container.include"),
            help: ArgumentHelp("Export only containers matching this Porto mask (***, prefix***, ***suffix, or a glob where * does not cross /); repeatable.", valueName: "mask"))
    var include: [String] = []

    @Option(name: .customLong("container.exclude"),
            help: ArgumentHelp("Do not export containers matching this Porto mask; repeatable; wins over --container.include.", valueName: "mask"))
    var exclude: [String] = []

    @Option(name: .customLong("container.max-depth"),
            help: ArgumentHelp("Export containers down to this level only (\"/\" is 0, first-level containers 1).", valueName: "n"))
    var maxDepth: Int?

    @Option(name: .customLong("container.labels"),
            help: ArgumentHelp("Porto label keys (or globs such as 'INFRA.*') exported in porto_container_labels; comma-separated, repeatable. None by default.", valueName: "keys"))
    var labelKeys: [String] = []

    @Flag(name: .customLong("web.enable-openmetrics-text-created-samples"),
          help: "Write a _created sample for each container counter in OpenMetrics answers (off by default: Prometheus 2.x stores each as a series of its own; named after client_golang's EnableOpenMetricsTextCreatedSamples).")
    var createdSamples = false

    // MARK: One-shot modes

    @Flag(name: .customLong("once"), help: "Collect once, print the exposition to stdout and exit (non-zero with a one-line error when portod cannot be reached).")
    var once = false

    @Option(name: .customLong("format"), help: "Exposition format for --once.")
    var format: OnceFormat = .text

    @Flag(name: .customLong("print-metrics-md"), help: "Print METRICS.md (the catalogue of every metric) and exit.")
    var printMetricsMarkdown = false

    enum OnceFormat: String, ExpressibleByArgument, CaseIterable {
        case text, openmetrics
        var exposition: ExpositionFormat { self == .text ? .text : .openMetrics }
    }

    private static func help(_ group: CollectorGroup) -> ArgumentHelp {
        ArgumentHelp("The \(group.rawValue) group: \(group.summary).")
    }

    func validate() throws {
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--porto.timeout must be between 0 and 3600 seconds") }
        if let maxDepth, maxDepth < 0 { throw ValidationError("--container.max-depth must be 0 or more") }
    }

    var timeoutDuration: Duration { .milliseconds(Int64(timeout * 1000)) }

    /// The collection configuration these flags describe.
    var configuration: CollectionConfiguration {
        let flags: [(CollectorGroup, Bool)] = [
            (.daemon, daemon), (.cpu, cpu), (.memory, memory), (.io, io), (.net, net), (.pressure, pressure),
            (.process, process), (.limits, limits), (.state, state), (.vm, vm), (.volumes, volumes),
            (.layers, layers), (.storages, storages),
        ]
        return CollectionConfiguration(
            groups: Set(flags.filter(\.1).map(\.0)),
            containers: ContainerSelection(include: include, exclude: exclude, maxDepth: maxDepth),
            labels: LabelSelection(patterns: labelKeys.flatMap { $0.split(separator: ",").map(String.init) }.filter { !$0.isEmpty }),
            createdSamples: createdSamples)
    }

    /// Runs `--print-metrics-md` or `--once` when asked; returns false when the exporter should serve.
    func runStandalone() throws -> Bool {
        if printMetricsMarkdown {
            print(MetricsCatalog.markdown(), terminator: "")
            return true
        }
        guard once else { return false }
        let client = PortoClient(socketPath: socket, timeout: timeoutDuration)
        defer { client.close() }
        let collection = CollectorSet(configuration: configuration, transport: client)
        let writer = ExpositionWriter(format: format.exposition)
        let report = collection.collect(into: writer, deadline: .now + timeoutDuration)
        guard report.up else {
            let reason = report.connectionError.map { "\($0)" } ?? "no answer"
            Self.writeAll(fd: 2, Array("porto-exporter: cannot reach portod at \(socket): \(reason)\n".utf8))
            throw ExitCode(1)
        }
        writer.write { chunk in Self.writeAll(fd: 1, chunk) }
        return true
    }
}

extension CollectionOptions {
    /// Writes every byte to a file descriptor (retrying short writes and EINTR).
    static func writeAll(fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { writeAll(fd: fd, $0) }
    }

    static func writeAll(fd: Int32, _ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += n
        }
    }
}
