import Foundation
import PortoWire
#if canImport(Glibc)
import Glibc
#endif

/// A listening unix socket that serves each accepted connection on its own thread.
///
/// The listener owns every connection descriptor: a handler only reads and writes it, and the
/// listener closes it when the handler returns. ``shutdownConnections()`` wakes every handler
/// (their reads see EOF, their writes fail) without closing a descriptor under them, so a
/// descriptor number is never reused while a handler may still use it.
final class SocketListener: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private let inode: UInt64
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let handler: @Sendable (Int32) -> Void
    private let state = NSCondition()
    private var open: Set<Int32> = []
    private var running = 0
    private var stopped = false
    private let acceptFinished = DispatchSemaphore(value: 0)

    /// Starts listening on `path` (see ``UnixSocket/listen(path:backlog:)``) and accepting on a
    /// background thread; `handler` runs once per connection, on that connection's own thread.
    init(path: String, handler: @escaping @Sendable (Int32) -> Void) throws(SocketSetupError) {
        self.path = path
        self.handler = handler
        fd = try UnixSocket.listen(path: path)
        var info = stat()
        inode = lstat(path, &info) == 0 ? UInt64(info.st_ino) : 0
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else {
            let code = errno
            _ = close(fd)
            _ = unlink(path)
            throw .system(call: "pipe", path: path, errno: code)
        }
        wakeRead = pipeEnds[0]
        wakeWrite = pipeEnds[1]
        for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "porto-sim accept"
        thread.start()
    }

    private func acceptLoop() {
        defer { acceptFinished.signal() }
        while true {
            var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                return
            }
            if fds[1].revents != 0 { return }
            let connection = accept(fd, nil, nil)
            if connection < 0 {
                switch errno {
                case EINTR, EAGAIN, ECONNABORTED: continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM: usleep(10_000); continue
                default: return
                }
            }
            // accept4 is not visible from Swift (a GNU extension); children (tests run the
            // executable) must not inherit connections, or clients would never see EOF.
            _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
            state.lock()
            if stopped {
                state.unlock()
                _ = close(connection)
                return
            }
            open.insert(connection)
            running += 1
            state.unlock()
            let thread = Thread { [self] in
                handler(connection)
                state.lock()
                open.remove(connection)
                _ = shutdown(connection, Int32(SHUT_RDWR))
                _ = close(connection)
                running -= 1
                state.broadcast()
                state.unlock()
            }
            thread.name = "porto-sim connection"
            thread.start()
        }
    }

    /// Shuts down every open connection: their clients see EOF, their handlers return. The
    /// listener keeps accepting new connections.
    func shutdownConnections() {
        state.lock()
        for connection in open { _ = shutdown(connection, Int32(SHUT_RDWR)) }
        state.unlock()
    }

    /// Stops accepting, removes the socket file (unless something else replaced it), shuts down
    /// every connection and waits (at most `timeout`) for their handlers to return. Idempotent.
    func stop(timeout: Duration = .seconds(5)) {
        state.lock()
        if stopped {
            state.unlock()
            return
        }
        stopped = true
        state.unlock()
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
        acceptFinished.wait()
        var info = stat()
        if lstat(path, &info) == 0 && UInt64(info.st_ino) == inode {
            _ = unlink(path)
        }
        _ = close(fd)
        _ = close(wakeRead)
        _ = close(wakeWrite)
        shutdownConnections()
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) * 1e-18
        let deadline = Date(timeIntervalSinceNow: seconds)
        state.lock()
        while running > 0 && state.wait(until: deadline) {}
        state.unlock()
    }
}

/// Reads length-prefixed frames from a connection, one at a time, like portod's `ReadRequest`.
struct FrameReader {
    let fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    private var chunk = [UInt8](repeating: 0, count: 64 << 10)

    init(fd: Int32) { self.fd = fd }

    /// The body of the next frame, or nil at EOF, on a read error, a malformed length prefix or
    /// one over ``Framing/maxFrameLength`` (whose body is never read): the caller then closes the
    /// connection without a reply, as portod does.
    mutating func next() -> [UInt8]? {
        while true {
            switch nextFrameRange() {
            case nil:
                return nil
            case .some(.some(let range)):
                let body = Array(buffer[range])
                start = range.upperBound
                if start == buffer.count {
                    buffer.removeAll(keepingCapacity: true)
                    start = 0
                }
                return body
            case .some(.none):
                break
            }
            if start > 0 {
                buffer.removeFirst(start)
                start = 0
            }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return nil }
            chunk.withUnsafeBufferPointer { buffer.append(contentsOf: UnsafeBufferPointer(rebasing: $0[0..<n])) }
        }
    }

    /// Where the next complete frame's body lies in `buffer`: `.some(nil)` when more bytes are
    /// needed, nil for a prefix that closes the connection. (A separate function, so that no
    /// slice of `buffer` outlives it: a live slice would make every append copy the buffer.)
    private func nextFrameRange() -> Range<Int>?? {
        let pending = buffer[start...]
        let prefix: Framing.Prefix
        do {
            prefix = try Framing.decodePrefix(pending)
        } catch {
            return nil
        }
        guard case .complete(let length, let prefixLength) = prefix, pending.count >= prefixLength + length else {
            return .some(nil)
        }
        return .some((start + prefixLength)..<(start + prefixLength + length))
    }
}
