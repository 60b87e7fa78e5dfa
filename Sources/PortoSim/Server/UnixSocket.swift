#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why the simulator could not set up or reach a unix socket.
public enum SocketSetupError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The path does not fit in `sockaddr_un.sun_path` (107 bytes on Linux).
    case pathTooLong(String)
    /// Something other than a socket already sits at the path; it is left alone.
    case notASocket(String)
    /// Another server already accepts connections at the path.
    case inUse(String)
    /// A system call failed; `errno` says why.
    case system(call: String, path: String, errno: Int32)

    public var description: String {
        switch self {
        case .pathTooLong(let path):
            return "socket path is too long (at most \(UnixSocket.maxPathLength) bytes): \(path)"
        case .notASocket(let path):
            return "\(path) exists and is not a socket; refusing to remove it"
        case .inUse(let path):
            return "another server is already listening on \(path)"
        case .system(let call, let path, let code):
            return "\(call)(\(path)) failed: \(String(cString: strerror(code)))"
        }
    }
}

/// Thin wrappers over the POSIX calls the simulator needs for AF_UNIX stream sockets.
///
/// Every write uses `MSG_NOSIGNAL`, so a peer that went away gives `EPIPE` instead of killing the
/// process with SIGPIPE.
public enum UnixSocket {
    /// The longest path `sockaddr_un` can hold, without its terminating NUL.
    public static let maxPathLength = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    private static var streamType: Int32 {
        #if canImport(Glibc) || canImport(Musl)
        return Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        #else
        return SOCK_STREAM
        #endif
    }

    private static func withAddress<R>(
        _ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R
    ) throws(SocketSetupError) -> R {
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count <= maxPathLength else { throw .pathTooLong(path) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
    }

    /// Connects to the unix socket at `path` and returns the connected descriptor.
    ///
    /// - Throws: ``SocketSetupError/system(call:path:errno:)`` with `ENOENT`, `ECONNREFUSED`,
    ///   `EACCES`... when the connection fails; ``SocketSetupError/pathTooLong(_:)``.
    public static func connect(path: String) throws(SocketSetupError) -> Int32 {
        let fd = socket(AF_UNIX, streamType, 0)
        guard fd >= 0 else { throw .system(call: "socket", path: path, errno: errno) }
        let result: Int32
        do {
            result = try withAddress(path) { Glibc.connect(fd, $0, $1) }
        } catch {
            _ = close(fd)
            throw error
        }
        guard result == 0 else {
            let code = errno
            _ = close(fd)
            throw .system(call: "connect", path: path, errno: code)
        }
        return fd
    }

    /// Creates a listening socket at `path` with mode 0666, like portod's.
    ///
    /// A stale socket file left by a dead server is removed first. Anything else at the path (a
    /// regular file, a directory, a live server) is an error. The parent directory must exist.
    public static func listen(path: String, backlog: Int32 = 1000) throws(SocketSetupError) -> Int32 {
        var info = stat()
        if lstat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFSOCK else { throw .notASocket(path) }
            if let live = try? connect(path: path) {
                _ = close(live)
                throw .inUse(path)
            }
            guard unlink(path) == 0 || errno == ENOENT else {
                throw .system(call: "unlink", path: path, errno: errno)
            }
        }
        let fd = socket(AF_UNIX, streamType, 0)
        guard fd >= 0 else { throw .system(call: "socket", path: path, errno: errno) }
        do {
            let bound = try withAddress(path) { bind(fd, $0, $1) }
            guard bound == 0 else { throw SocketSetupError.system(call: "bind", path: path, errno: errno) }
            guard chmod(path, 0o666) == 0 else {
                throw SocketSetupError.system(call: "chmod", path: path, errno: errno)
            }
            guard Glibc.listen(fd, backlog) == 0 else {
                throw SocketSetupError.system(call: "listen", path: path, errno: errno)
            }
        } catch let error as SocketSetupError {
            _ = close(fd)
            throw error
        } catch {
            _ = close(fd)
            throw .system(call: "bind", path: path, errno: EINVAL)
        }
        return fd
    }

    /// Writes all of `bytes`, retrying short writes and `EINTR`. Returns false when the peer is gone
    /// or the socket was shut down.
    @discardableResult
    public static func writeAll<C: Collection>(_ fd: Int32, _ bytes: C) -> Bool where C.Element == UInt8 {
        let array = Array(bytes)
        return array.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n > 0 {
                    offset += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    return false
                }
            }
            return true
        }
    }

    /// Reads at most `count` bytes. Returns an empty array at EOF, nil on error (including a socket
    /// shut down by another thread with `ECONNRESET`).
    public static func read(_ fd: Int32, upTo count: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, count, 0) }
            if n >= 0 {
                buffer.removeSubrange(n...)
                return buffer
            }
            if errno != EINTR { return nil }
        }
    }
}
