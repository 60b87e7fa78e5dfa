import ArgumentParser

/// How the exporter reaches portod and what it collects. (Owner: collectors; the http engineer
/// added the two flags the serving mode needs.)
struct CollectionOptions: ParsableArguments {
    @Option(name: .customLong("porto.socket"), help: ArgumentHelp("Path of portod's socket.", valueName: "path"))
    var socket = "/run/portod.socket"

    @Option(name: .customLong("porto.timeout"),
            help: ArgumentHelp("Deadline of a collection in seconds, when Prometheus does not send X-Prometheus-Scrape-Timeout-Seconds.", valueName: "seconds"))
    var timeout: Double = 10

    func validate() throws {
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--porto.timeout must be between 0 and 3600 seconds") }
    }

    var timeoutDuration: Duration { .milliseconds(Int64(timeout * 1000)) }
}
