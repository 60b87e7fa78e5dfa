#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Everything a ``PortoClient`` call can fail with.
///
/// After a `.socket`, `.timeout` or `.decode` error the client has closed its connection (the
/// stream can no longer be trusted); the next call opens a new one. After a `.porto` error the
/// connection stays open: portod answered, and the stream is in step.
public enum PortoError: Error, Sendable, Equatable, CustomStringConvertible {
    /// portod answered with an envelope error other than `Success`, with its `errorMsg` (free text
    /// meant for people). A response without the `error` field is reported as `.lostError`, the
    /// field's declared default (docs/porto.md §1.3): it is never taken as success.
    case porto(Porto_EError, message: String)
    /// The socket failed: see ``SocketFailure``. `message` names the operation, path and errno.
    case socket(SocketFailure, message: String)
    /// The call's deadline passed (connect, write and read share one deadline). The connection was
    /// closed: a late answer would otherwise be taken as the answer to the next request.
    case timeout(String)
    /// The bytes received are not a Porto response: a malformed varint32 prefix, a frame over the
    /// 32 MiB limit (refused before its body is read), or a body that is not a `TPortoResponse`.
    /// Also used when a request cannot be encoded or is itself over the limit.
    case decode(String)

    /// One line for logs: the kind of failure, then the detail (portod's code and errorMsg, the
    /// errno text, or what the deadline was spent on).
    public var description: String {
        switch self {
        case .porto(let code, let message):
            let text = message.isEmpty ? "" : ": \(message)"
            return "portod error \(code) (\(code.rawValue))\(text)"
        case .socket(let failure, let message):
            return "porto socket \(failure): \(message)"
        case .timeout(let message):
            return "porto timeout: \(message)"
        case .decode(let message):
            return "porto protocol error: \(message)"
        }
    }
}

/// How the connection to portod failed, in the terms a caller acts on.
public enum SocketFailure: Sendable, Equatable, CustomStringConvertible {
    /// No socket at the path (ENOENT, ENOTDIR): portod is not running or the path is wrong. A full
    /// portod stop removes the socket file (docs/porto.md §1.7).
    case unreachable
    /// The socket file exists but nobody listens on it (ECONNREFUSED).
    case refused
    /// The caller may not reach the socket (EACCES, EPERM). portod's own socket is mode 0666, so
    /// this usually means a directory on the path, a chroot or a security module.
    case permissionDenied
    /// portod closed the connection (EOF, ECONNRESET or EPIPE) between frames: after a reload or
    /// restart, when it could not parse the request, or when it refused the client (docs/porto.md §1.1).
    case closed
    /// The connection ended inside a frame: a response was cut short.
    case closedMidFrame
    /// Any other errno, for example ENAMETOOLONG for a path longer than `sun_path`.
    case other(errno: Int32)

    /// A short human name of the failure; `.other` includes the errno's text.
    public var description: String {
        switch self {
        case .unreachable: return "unreachable"
        case .refused: return "connection refused"
        case .permissionDenied: return "permission denied"
        case .closed: return "closed by portod"
        case .closedMidFrame: return "closed in the middle of a frame"
        case .other(let code): return "error \(code) (\(String(cString: strerror(code))))"
        }
    }

    /// The failure a `connect(2)` errno stands for.
    static func connect(errno code: Int32) -> SocketFailure {
        switch code {
        case ENOENT, ENOTDIR: return .unreachable
        case ECONNREFUSED: return .refused
        case EACCES, EPERM: return .permissionDenied
        default: return .other(errno: code)
        }
    }

    /// The failure a `send(2)`/`recv(2)` errno stands for on an established connection;
    /// `midFrame` is true when part of a frame has already been read.
    static func transfer(errno code: Int32, midFrame: Bool) -> SocketFailure {
        switch code {
        case ECONNRESET, EPIPE: return midFrame ? .closedMidFrame : .closed
        default: return .other(errno: code)
        }
    }
}

/// The text of an errno, for messages.
func errnoText(_ code: Int32) -> String {
    "\(String(cString: strerror(code))) (errno \(code))"
}
