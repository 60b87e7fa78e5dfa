import ArgumentParser
import PortoExporter

/// porto-exporter: a Prometheus exporter for Porto. Flags only; the serving mode is in Serve.swift.
@main
struct PortoExporterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "porto-exporter",
        abstract: "Prometheus exporter for Porto, the Linux container manager.",
        version: "porto-exporter \(BuildInfo.version) (revision \(BuildInfo.revision), swift \(BuildInfo.swiftVersion))"
    )

    @OptionGroup(title: "Porto") var collection: CollectionOptions
    @OptionGroup(title: "Web") var web: WebOptions
    @OptionGroup(title: "Logging") var log: LogOptions

    /// Set on first use, which `main` makes the first thing the process does.
    static let mallocArenas = MallocArenas.configure()

    static func main() {
        StopSignals.block()  // before any other thread exists: see StopSignals
        _ = mallocArenas  // before libmicrohttpd or Dispatch start a thread
        main(nil)
    }

    func run() throws {
        if collection.once || collection.printMetricsMarkdown { StopSignals.unblock() }
        if try collection.runStandalone() { return }  // --once, --print-metrics-md
        let logger = log.bootstrap()
        Self.mallocArenas.log(to: logger)
        try Serve(collection: collection, web: web, logger: logger).run()
    }
}
