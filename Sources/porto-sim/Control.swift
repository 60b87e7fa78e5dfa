import ArgumentParser
import Foundation
import PortoSim

/// `porto-sim control`: sends one command to a running porto-sim's control socket.
struct Control: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send one command to a running porto-sim's control socket and print the answer.",
        discussion: """
            Exits 0 when the answer is "ok" or the stats JSON, 1 on "error: ...". Commands:

            \(ControlCommand.help)
            """
    )

    @Option(help: ArgumentHelp("The control socket (porto-sim --control PATH).", valueName: "path"))
    var socket: String

    @Option(help: ArgumentHelp("Give up after this many seconds.", valueName: "seconds"))
    var timeout = 10

    @Argument(parsing: .remaining, help: ArgumentHelp("The command, e.g. `fault delay 200ms` or `oom web`.", valueName: "command"))
    var command: [String]

    func validate() throws {
        let line = command.joined(separator: " ")
        do {
            _ = try ControlCommand(line: line)
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        let fd = try UnixSocket.connect(path: socket)
        defer { close(fd) }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        guard UnixSocket.writeAll(fd, Array((command.joined(separator: " ") + "\n").utf8)) else {
            throw Failure("could not send the command to \(socket)")
        }
        var answer: [UInt8] = []
        while !answer.contains(UInt8(ascii: "\n")) {
            guard let chunk = UnixSocket.read(fd, upTo: 4096) else {
                throw Failure("no answer from \(socket) within \(timeout) s")
            }
            if chunk.isEmpty { break }
            answer += chunk
        }
        let text = String(decoding: answer, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw Failure("\(socket) closed the connection without an answer") }
        if text.hasPrefix("error:") {
            FileHandle.standardError.write(Data((text + "\n").utf8))
            throw ExitCode.failure
        }
        print(text)
    }
}

/// A failure after the arguments were accepted (shown as "Error: ...", without the usage).
struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
