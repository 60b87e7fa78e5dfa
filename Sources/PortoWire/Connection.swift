#if canImport(Glibc)
import Glibc
#else
#error("PortoWire speaks to portod, which runs on Linux only")
#endif

/// The instant a call must be over by. Connect, write and read of one call share it.
struct Deadline {
    let instant: ContinuousClock.Instant

    init(after duration: Duration) {
        instant = ContinuousClock.now.advanced(by: duration)
    }

    /// The time left, rounded up to whole milliseconds for `poll(2)`, or nil once the deadline has
    /// passed. Rounding up means a wait never ends early and spins on a zero timeout.
    var pollMilliseconds: Int32? {
        let left = ContinuousClock.now.duration(to: instant)
        guard left > .zero else { return nil }
        let (seconds, attoseconds) = left.components
        let millis = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: max(millis, 1))
    }
}

/// A failed write, with how much of the request got out before it failed: a request is retried
/// on a new connection only when none of it was written.
struct WriteFailure: Error {
    let error: PortoError
    let bytesWritten: Int
}

/// One connected AF_UNIX stream socket to portod, non-blocking, driven by `poll(2)` so that every
/// step honours the call's ``Deadline``. Not thread-safe: ``PortoClient`` serialises its use.
final class Connection {
    private(set) var fd: Int32
    let path: String

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { close() }

    /// Connects to the socket at `path` before `deadline`.
    ///
    /// - Throws: `.socket` with ``SocketFailure/connect(errno:)``'s mapping, or `.timeout` when the
    ///   listener's backlog stays full until the deadline.
    static func open(path: String, deadline: Deadline) throws(PortoError) -> Connection {
        guard deadline.pollMilliseconds != nil else {
            throw .timeout("connecting to \(path)")
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity, !pathBytes.contains(0) else {
            throw .socket(
                .other(errno: ENAMETOOLONG),
                message: "socket path \(path) does not fit in sun_path (\(capacity - 1) bytes)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: pathBytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + pathBytes.count + 1)

        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
            | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            let code = errno
            throw .socket(.other(errno: code), message: "socket(AF_UNIX): \(errnoText(code))")
        }
        let connection = Connection(fd: fd, path: path)
        while true {
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) }
            }
            if rc == 0 { return connection }
            let code = errno
            switch code {
            case EINTR:
                continue
            case EAGAIN:
                // Linux: the listener's backlog is full (portod mid-reload queues connections in
                // it). A blocking connect would sleep until there is room; retry until the deadline.
                guard let millis = deadline.pollMilliseconds else {
                    throw .timeout("connecting to \(path) (listen backlog full)")
                }
                _ = poll(nil, 0, min(millis, 10))
            case EINPROGRESS, EALREADY:
                _ = try connection.wait(for: Int16(POLLOUT), deadline: deadline, doing: "connecting to \(path)")
                var soError: Int32 = 0
                var size = socklen_t(MemoryLayout<Int32>.size)
                guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &size) == 0 else {
                    let code = errno
                    throw .socket(.other(errno: code), message: "connect to \(path): \(errnoText(code))")
                }
                if soError == 0 { return connection }
                throw .socket(.connect(errno: soError), message: "connect to \(path): \(errnoText(soError))")
            default:
                throw .socket(.connect(errno: code), message: "connect to \(path): \(errnoText(code))")
            }
        }
    }

    /// Closes the socket; later calls on this object fail with EBADF. Idempotent.
    func close() {
        if fd >= 0 {
            _ = Glibc.close(fd)
            fd = -1
        }
    }

    /// True when portod has already closed this connection, checked without blocking and without
    /// consuming anything: a hang-up (also with unread bytes before it, such as a queued push),
    /// or EOF or a reset waiting to be read.
    var peerHasClosed: Bool {
        guard fd >= 0 else { return true }
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, 0) > 0 else { return false }
        if entry.revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 { return true }
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT))
        if n == 0 { return true }
        if n < 0 {
            let code = errno
            return code != EAGAIN && code != EWOULDBLOCK && code != EINTR
        }
        return false
    }

    /// Writes all of `bytes` before `deadline`. SIGPIPE is never raised (MSG_NOSIGNAL).
    func write(_ bytes: [UInt8], deadline: Deadline) throws(WriteFailure) {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                send(fd, raw.baseAddress! + written, raw.count - written, Int32(MSG_NOSIGNAL))
            }
            if n > 0 {
                written += n
                continue
            }
            let code = errno
            switch code {
            case EINTR:
                continue
            case EAGAIN, EWOULDBLOCK:
                do {
                    _ = try wait(for: Int16(POLLOUT), deadline: deadline, doing: "sending the request")
                } catch {
                    throw WriteFailure(error: error, bytesWritten: written)
                }
            default:
                let failure = SocketFailure.transfer(errno: code, midFrame: false)
                throw WriteFailure(
                    error: .socket(failure, message: "send to \(path): \(errnoText(code))"),
                    bytesWritten: written)
            }
        }
    }

    /// Reads one frame before `deadline` and returns its body.
    ///
    /// The prefix is read byte by byte and checked as it arrives, so a malformed varint or an
    /// announced length over `limit` is refused before a single byte of the body is read. Then
    /// exactly the body is read: nothing of a following frame is consumed.
    ///
    /// - Throws: `.decode` for a bad prefix; `.socket(.closed)` on EOF before the frame,
    ///   `.socket(.closedMidFrame)` on EOF inside it; `.timeout` when the deadline passes.
    func readFrame(deadline: Deadline, limit: Int = Framing.maxFrameLength) throws(PortoError) -> [UInt8] {
        var prefix: [UInt8] = []
        var length = 0
        while true {
            var byte: UInt8 = 0
            try withUnsafeMutableBytes(of: &byte) { (raw) throws(PortoError) -> Void in
                try receive(into: raw, deadline: deadline, midFrame: !prefix.isEmpty)
            }
            prefix.append(byte)
            do {
                if case .complete(let bodyLength, _) = try Framing.decodePrefix(prefix, limit: limit) {
                    length = bodyLength
                    break
                }
            } catch {
                throw .decode("\(error) (prefix bytes \(prefix.map { String($0, radix: 16) }))")
            }
        }
        // recv fills the body before anything reads it: no zeroing pass over the answer first.
        // (The initializer only rethrows untyped errors: ours is carried out beside it.)
        var failure: PortoError?
        let body = [UInt8](unsafeUninitializedCapacity: length) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            var got = 0
            while got < length {
                do throws(PortoError) {
                    got += try receive(into: UnsafeMutableRawBufferPointer(rebasing: raw[got...]),
                                       deadline: deadline, midFrame: true)
                } catch {
                    failure = error
                    break
                }
            }
            initialized = failure == nil ? length : 0
        }
        if let failure { throw failure }
        return body
    }

    /// Receives at least one byte into `buffer` (at most its size), waiting until `deadline`.
    @discardableResult
    private func receive(into buffer: UnsafeMutableRawBufferPointer, deadline: Deadline,
                         midFrame: Bool) throws(PortoError) -> Int {
        while true {
            let n = recv(fd, buffer.baseAddress, buffer.count, 0)
            if n > 0 { return n }
            if n == 0 {
                throw .socket(midFrame ? .closedMidFrame : .closed,
                              message: midFrame ? "EOF inside a response frame from \(path)"
                                                : "EOF from \(path) while waiting for a response")
            }
            let code = errno
            switch code {
            case EINTR:
                continue
            case EAGAIN, EWOULDBLOCK:
                _ = try wait(for: Int16(POLLIN), deadline: deadline, doing: "waiting for the response")
            default:
                throw .socket(.transfer(errno: code, midFrame: midFrame),
                              message: "recv from \(path): \(errnoText(code))")
            }
        }
    }

    /// Waits until the socket is ready for `events` (or has an error or hang-up, which the next
    /// syscall reports), or throws `.timeout(doing)` once `deadline` passes.
    private func wait(for events: Int16, deadline: Deadline, doing: String) throws(PortoError) -> Int16 {
        while true {
            guard let millis = deadline.pollMilliseconds else { throw .timeout(doing) }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let rc = poll(&entry, 1, millis)
            if rc > 0 { return entry.revents }
            if rc == 0 { continue }
            let code = errno
            if code == EINTR { continue }
            throw .socket(.other(errno: code), message: "poll on \(path): \(errnoText(code))")
        }
    }
}
