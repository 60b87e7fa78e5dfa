/// One line of the control socket (`porto-sim --control PATH`), parsed.
///
/// The syntax, one command per line:
///
///     fault MODE...        replace the fault set (see FaultOptions.init(words:)); `fault none` clears it
///     oom NAME             OOM-kill a process in container NAME
///     oom-exit NAME        OOM-kill container NAME's main task: it dies with oom_killed, exit code -99
///     fail-start NAME      make container NAME fail to start
///     state NAME STATE     move container NAME to STATE (stopped, running, paused, dead...)
///     respawn NAME         portod respawns container NAME (cgroup counters carry on, netns ones reset)
///     restart              a portod reload: close every client connection, porto_starts + 1
///     stats                the request and cache counts, as one line of JSON
///
/// Each command is answered with one line: `ok`, the JSON of `stats`, or `error: MESSAGE`.
public enum ControlCommand: Equatable, Sendable {
    case fault(FaultOptions)
    case event(SimEvent)
    case stats

    /// The help text shown by `porto-sim --help` and in the README.
    public static let help = """
          fault MODE...     replace the fault set with one or more MODEs:
                              delay DURATION (200ms, 1.5s), hang, garbage, cut,
                              oversized, no-error, fail-lcb, close-after N,
                              fail (envelope error Unknown "injected failure"),
                              only METHOD (then delay, hang, garbage, cut,
                              oversized, no-error and fail hit METHOD only);
                            `fault none` clears it
          oom NAME          OOM-kill a process in container NAME
          oom-exit NAME     OOM-kill NAME's main task: NAME dies (oom_killed,
                            exit code -99), the kill counted as by `oom`
          fail-start NAME   make container NAME fail to start
          state NAME STATE  move container NAME to STATE (stopped, starting,
                            running, stopping, paused, dead, meta, respawning)
          respawn NAME      portod respawns container NAME: start_time now,
                            respawn_count + 1, cgroup counters carry on,
                            network device counters restart from 0
          restart           a portod reload: every connection is closed,
                            porto_starts + 1, uptime 0
          stats             the request and cache counts, as one line of JSON
        """

    /// Why a line was refused; the description follows `error: ` in the answer.
    public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Parses one line (surrounding white space is ignored).
    public init(line: String) throws(ParseError) {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
        guard let verb = words.first else { throw ParseError(description: "empty command") }
        let arguments = Array(words.dropFirst())
        func name() throws(ParseError) -> String {
            guard arguments.count == 1 else { throw ParseError(description: "\(verb): expected one container name") }
            return arguments[0]
        }
        func noArguments() throws(ParseError) {
            guard arguments.isEmpty else { throw ParseError(description: "\(verb) takes no arguments") }
        }
        switch verb {
        case "fault":
            do {
                self = .fault(try FaultOptions(words: arguments))
            } catch {
                throw ParseError(description: error.description)
            }
        case "oom":
            self = .event(.oomKill(try name()))
        case "oom-exit":
            self = .event(.oomExit(try name()))
        case "fail-start":
            self = .event(.failStart(try name()))
        case "state":
            guard arguments.count == 2, let state = SimState(rawValue: arguments[1]) else {
                let states = SimState.allCases.map(\.rawValue).joined(separator: ", ")
                throw ParseError(description: "state: expected a container name and one of \(states)")
            }
            self = .event(.setState(arguments[0], state))
        case "respawn":
            self = .event(.respawn(try name()))
        case "restart":
            try noArguments()
            self = .event(.restart)
        case "stats":
            try noArguments()
            self = .stats
        default:
            throw ParseError(description: "unknown command \(verb) (expected fault, oom, oom-exit, fail-start, state, respawn, restart or stats)")
        }
    }
}
