import Foundation
import Glibc
// The helpers every test target shares (temporary directories, waits, raw clients) are in the
// PortoTestSupport target; re-exported here so that every file of this target sees them.
@_exported import PortoTestSupport
import PortoSim
import PortoWire

/// A scripted stand-in for portod at the byte level, for the cases porto-sim does not fake
/// precisely enough to pin down (exactly when a connection closes, exactly which bytes come).
///
/// It listens on a unix socket in a fresh temporary directory and plays one script per accepted
/// connection, in accept order, on its own thread, one connection at a time. A connection beyond
/// the script is closed straight after accept. Every wait of the fake is bounded (10 s), so a
/// broken client cannot hang the test run.
final class FakePortoServer: @unchecked Sendable {
    enum Step: Sendable {
        /// Read one framed request, like portod: varint32 prefix byte by byte, then the exact body.
        case readRequest
        /// Send `response` framed.
        case reply(Porto_TPortoResponse)
        /// Send raw bytes.
        case bytes([UInt8])
        /// Keep the connection open, reading and discarding, until the client closes it.
        case hang
        /// Close the connection now (also what happens at the end of a script).
        case close
        /// Answer every request with `host.respond(to:)` until the client closes; a nil answer
        /// closes the connection without a reply, as portod does (docs/porto.md §1.2).
        case serve(SimHost)
    }

    /// Bound of every blocking wait inside the fake.
    static let bound: Int32 = 10_000

    let directory: String
    let path: String
    private let listener: Int32
    private let lock = NSLock()
    private var acceptCount = 0
    private var closeCount = 0
    private var received: [Porto_TPortoRequest] = []
    private var stopping = false
    private let finished = DispatchSemaphore(value: 0)

    init(_ script: [[Step]]) throws {
        directory = try makeTemporaryDirectory()
        path = directory + "/porto.sock"
        listener = try bindUnixSocket(path: path, listen: true)
        let thread = Thread { [self] in run(script) }
        thread.start()
    }

    /// Connections accepted so far.
    var accepts: Int { lock.withLock { acceptCount } }
    /// Connections the fake has closed so far.
    var closes: Int { lock.withLock { closeCount } }
    /// Requests read so far, over all connections.
    var requests: [Porto_TPortoRequest] { lock.withLock { received } }

    /// Stops the thread and removes the socket and its directory.
    func stop() {
        lock.withLock { stopping = true }
        _ = finished.wait(timeout: .now() + .seconds(15))
        Glibc.close(listener)
        try? FileManager.default.removeItem(atPath: directory)
    }

    private var isStopping: Bool { lock.withLock { stopping } }

    private func run(_ script: [[Step]]) {
        var index = 0
        while !isStopping {
            var entry = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 20) > 0 else { continue }
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { continue }
            lock.withLock { acceptCount += 1 }
            play(index < script.count ? script[index] : [], on: fd)
            index += 1
            Glibc.close(fd)
            lock.withLock { closeCount += 1 }
        }
        finished.signal()
    }

    private func play(_ steps: [Step], on fd: Int32) {
        for step in steps {
            switch step {
            case .readRequest:
                guard let body = readFrame(fd),
                      let request = try? Porto_TPortoRequest(serializedBytes: body)
                else { return }
                lock.withLock { received.append(request) }
            case .reply(let response):
                let body: [UInt8] = try! response.serializedBytes()
                guard writeAll(fd, try! Framing.frame(body)) else { return }
            case .bytes(let bytes):
                guard writeAll(fd, bytes) else { return }
            case .hang:
                var buffer = [UInt8](repeating: 0, count: 4096)
                let start = ContinuousClock.now
                while start.duration(to: .now) < .seconds(10), !isStopping {
                    var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                    guard poll(&entry, 1, 20) > 0 || entry.revents != 0 else { continue }
                    if recv(fd, &buffer, buffer.count, 0) <= 0 { return }
                }
                return
            case .close:
                return
            case .serve(let host):
                while let body = readFrame(fd),
                      let request = try? Porto_TPortoRequest(serializedBytes: body) {
                    lock.withLock { received.append(request) }
                    guard let response = host.respond(to: request),
                          writeAll(fd, framed(response)) else { return }
                }
                return
            }
        }
    }

    private func readFrame(_ fd: Int32) -> [UInt8]? {
        var prefix: [UInt8] = []
        while true {
            guard let byte = readExactly(fd, 1) else { return nil }
            prefix += byte
            guard let decoded = try? Framing.decodePrefix(prefix) else { return nil }
            if case .complete(let length, _) = decoded {
                return length == 0 ? [] : readExactly(fd, length)
            }
        }
    }

    private func readExactly(_ fd: Int32, _ count: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            guard waitReadable(fd) else { return nil }
            let n = out.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, count - got, 0) }
            guard n > 0 else { return nil }
            got += n
        }
        return out
    }

    /// Waits until `fd` is readable (or hung up): at most 10 s, and not past `stop()`.
    private func waitReadable(_ fd: Int32) -> Bool {
        let start = ContinuousClock.now
        while start.duration(to: .now) < .milliseconds(Int64(Self.bound)), !isStopping {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&entry, 1, 20) > 0 { return true }
        }
        return false
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return false }
            sent += n
        }
        return true
    }
}

// MARK: - Socket helpers for tests

struct TestSetupError: Error, CustomStringConvertible {
    let description: String
}

/// A unix stream socket bound at `path`; listening (backlog `backlog`) when `listen` is true.
func bindUnixSocket(path: String, listen shouldListen: Bool, backlog: Int32 = 16) throws -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw TestSetupError(description: "socket: errno \(errno)") }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
    let rc = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
        }
    }
    guard rc == 0 else { throw TestSetupError(description: "bind \(path): errno \(errno)") }
    if shouldListen {
        guard listen(fd, backlog) == 0 else { throw TestSetupError(description: "listen: errno \(errno)") }
    }
    return fd
}

/// Runs `body` on a new thread of its own and returns its result (waits at most 20 s). For
/// per-thread state such as the filesystem uid.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T? {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        box.value = body()
        done.signal()
    }
    thread.start()
    guard done.wait(timeout: .now() + .seconds(20)) == .success else { return nil }
    return box.value
}

/// Carries a value out of another thread; written once before a semaphore signal.
final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}

// MARK: - Responses

/// A successful Version response.
func versionReply(_ tag: String = "5.3.59") -> Porto_TPortoResponse {
    var response = Porto_TPortoResponse()
    response.error = .success
    response.version.tag = tag
    response.version.revision = "sim"
    return response
}

/// An AsyncWait push, as portod sends one for a subscribed container.
func pushFrame(_ name: String) -> Porto_TPortoResponse {
    var response = Porto_TPortoResponse()
    response.error = .success
    response.asyncWait.name = name
    response.asyncWait.state = "dead"
    response.asyncWait.when = 1_700_000_000
    return response
}

/// A Version request.
func versionRequest() -> Porto_TPortoRequest {
    var request = Porto_TPortoRequest()
    request.version = Porto_TVersionRequest()
    return request
}

/// The framed encoding of `response`.
func framed(_ response: Porto_TPortoResponse) -> [UInt8] {
    try! Framing.frame(try! response.serializedBytes())
}
