import ArgumentParser
import PortoSim

/// porto-sim: a simulated portod. `serve` (the default) runs it; `control` talks to a running one.
@main
struct PortoSimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "porto-sim",
        abstract: "A simulated portod: a synthetic Porto host served over Porto's wire protocol.",
        discussion: """
            Serves a deterministic synthetic host (nested containers in every state, labels, io and \
            net maps, volumes) on a unix socket, for tests, demos and benchmarks of Porto clients. \
            Run `porto-sim serve --help` for the flags.

            With --control PATH it also listens on a second unix socket for line commands, one per \
            line, each answered with one line: "ok", JSON (stats) or "error: MESSAGE". Send them with \
            `porto-sim control --socket PATH COMMAND...`, socat or a few lines of python.

            \(ControlCommand.help)

            Examples:
              porto-sim --socket /tmp/portod.socket --containers 1000 --churn \\
                --control /tmp/sim.control --stats-file /tmp/sim.stats.json
              porto-sim control --socket /tmp/sim.control oom web
              porto-sim control --socket /tmp/sim.control fault delay 200ms only GetSystem
              echo stats | socat - UNIX-CONNECT:/tmp/sim.control
            """,
        subcommands: [Serve.self, Control.self, Bench.self],
        defaultSubcommand: Serve.self
    )
}
