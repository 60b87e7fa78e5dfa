import ArgumentParser
import PortoExporter

/// The HTTP serving flags, named as in node_exporter and the exporter-toolkit.
struct WebOptions: ParsableArguments {
    @Option(name: .customLong("web.listen-address"),
            help: ArgumentHelp("Address to listen on for the web interface and telemetry; repeat for several. ':PORT' listens on every interface (IPv6 and IPv4).", valueName: "host:port"))
    var listenAddresses: [String] = [":\(MetricsServer.defaultPort)"]

    @Option(name: .customLong("web.telemetry-path"), help: "Path under which to expose metrics.")
    var telemetryPath = "/metrics"

    @Option(name: .customLong("web.config.file"),
            help: ArgumentHelp("Path to a web configuration file (exporter-toolkit format) enabling TLS and/or basic authentication.", valueName: "path"))
    var configFile: String?

    @Option(name: .customLong("web.max-requests"),
            help: "Maximum number of scrapes served at once; more are answered 503. 0 means no limit.")
    var maxRequests = 40

    @Flag(name: .customLong("web.disable-exporter-metrics"),
          help: "Exclude the exporter's own process metrics and Porto RPC latency histogram from /metrics.")
    var disableExporterMetrics = false

    func validate() throws {
        for address in listenAddresses where ListenAddress(address) == nil {
            throw ValidationError("--web.listen-address \(address): expected host:port, :port or [ipv6]:port")
        }
        guard telemetryPath.hasPrefix("/"), !telemetryPath.contains("?"), telemetryPath.count > 1,
              !["/-/healthy", "/-/ready"].contains(telemetryPath)
        else { throw ValidationError("--web.telemetry-path must be a path such as /metrics (not / or /-/...)") }
        guard maxRequests >= 0 else { throw ValidationError("--web.max-requests must not be negative") }
    }

    var addresses: [ListenAddress] { listenAddresses.compactMap(ListenAddress.init) }
}
