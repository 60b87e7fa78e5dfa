import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The control socket of `porto-sim --control PATH`: a unix socket that takes ``ControlCommand``
/// lines and answers each with one line (`ok`, JSON for `stats`, or `error: MESSAGE`).
///
/// A client may send one command and close, or several lines on one connection; a command sent
/// without a final newline is carried out when the client shuts down its side of the connection.
/// Lines longer than 64 KiB close the connection.
public final class ControlServer: @unchecked Sendable {
    /// The control socket's path.
    public let path: String
    private let listener: SocketListener

    /// Starts taking commands for `server` on `path` (mode 0666, stale socket replaced).
    ///
    /// - Throws: ``SocketSetupError`` when the socket cannot be created.
    public init(path: String, server: SimServer) throws(SocketSetupError) {
        self.path = path
        listener = try SocketListener(path: path) { [server] fd in Self.serve(fd, server: server) }
    }

    /// Stops taking commands and removes the socket file. Idempotent.
    public func stop() {
        listener.stop()
    }

    private static func serve(_ fd: Int32, server: SimServer) {
        var pending: [UInt8] = []
        var finished = false
        while !finished {
            guard let chunk = UnixSocket.read(fd, upTo: 4096) else { return }
            if chunk.isEmpty {
                finished = true
                if pending.isEmpty { return }
                pending.append(UInt8(ascii: "\n"))
            }
            pending += chunk
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                if line.allSatisfy(\.isWhitespace) { continue }
                guard UnixSocket.writeAll(fd, Array((server.perform(line: line) + "\n").utf8)) else { return }
            }
            if pending.count > 64 << 10 { return }
        }
    }
}
