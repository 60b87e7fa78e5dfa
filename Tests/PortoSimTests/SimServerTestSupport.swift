import Foundation
// The helpers every test target shares (temporary directories, waits, raw clients) are in the
// PortoTestSupport target; re-exported here so that every file of this target sees them.
@_exported import PortoTestSupport
import PortoSim
import PortoWire
#if canImport(Glibc)
import Glibc
#endif

/// A tiny host for the server's own tests: it answers a few methods the way docs/porto.md says portod
/// does, counts how often it was asked, and lets a test bump its generation.
final class FakeHost: SimResponder, @unchecked Sendable {
    private let lock = NSLock()
    private var _generation: UInt64 = 1
    private var _respondCalls = 0
    private var _events: [SimEvent] = []
    private var starts: UInt64 = 1

    var generation: UInt64 { lock.withLock { _generation } }
    var respondCalls: Int { lock.withLock { _respondCalls } }
    var events: [SimEvent] { lock.withLock { _events } }

    func tick() { lock.withLock { _generation += 1 } }

    func respond(to request: Porto_TPortoRequest) -> Porto_TPortoResponse? {
        lock.lock()
        _respondCalls += 1
        let starts = self.starts
        lock.unlock()
        var response = Porto_TPortoResponse()
        response.error = .success
        switch request.methodName {
        case "Version":
            response.version.tag = "5.3.59"
            response.version.revision = "fake"
        case "GetSystem":
            response.getSystem.portoStarts = starts
        case "List":
            // Echo the mask, so that each client can recognise its own answer.
            response.list.name = [request.list.mask]
        case "ListContainersBy":
            // portod drops a request whose filter lacks the upstream-required name (docs/porto.md §0).
            guard request.listContainersBy.filters.allSatisfy(\.hasName) else { return nil }
            response.listContainersBy.containers = request.listContainersBy.filters.map {
                var container = Porto_TContainer()
                container.spec.name = $0.name
                return container
            }
        default:
            response.error = .invalidMethod
            response.errorMsg = "invalid RPC method"
        }
        return response
    }

    /// Only container "a" exists.
    func inject(_ event: SimEvent) -> Bool {
        if case .oomKill(let name) = event, name != "a" { return false }
        return lock.withLock {
            _events.append(event)
            if event == .restart { starts += 1 }
            _generation += 1
            return true
        }
    }
}

/// Starts a server for a ``FakeHost`` on a fresh socket and runs `body`.
func withServer<R>(
    faults: FaultOptions = .none, statsFile: Bool = false, _ body: (SimServer, FakeHost) throws -> R
) throws -> R {
    try withServer(host: FakeHost(), faults: faults, statsFile: statsFile, body)
}

/// Starts a server for `host` on a fresh socket and runs `body`; stops the server and cleans up.
func withServer<Host: SimResponder, R>(
    host: Host, faults: FaultOptions = .none, statsFile: Bool = false,
    _ body: (SimServer, Host) throws -> R
) throws -> R {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let server = try SimServer.start(
        socketPath: directory + "/portod.socket", host: host, faults: faults,
        statsFile: statsFile ? directory + "/stats.json" : nil)
    defer { server.stop() }
    return try body(server, host)
}

/// What a raw read from the server gave.
enum ReadResult: Equatable {
    case frame([UInt8])
    /// The connection was closed; `partial` holds the bytes of an unfinished frame, if any.
    case closed(partial: [UInt8])
    /// Nothing more arrived before the client's receive timeout.
    case timedOut(partial: [UInt8])
}

/// A minimal Porto client over a raw socket, written for these tests so that the server is not
/// tested through code it shares with itself (it only borrows the connect helper and varints).
final class RawClient {
    let fd: Int32
    private var buffer: [UInt8] = []

    /// Connects to `path`; every read gives up after `timeout`.
    init(_ path: String, timeout: Duration = .seconds(10)) throws {
        fd = try UnixSocket.connect(path: path)
        setTimeout(timeout)
    }

    deinit { close(fd) }

    func setTimeout(_ timeout: Duration) {
        var value = timeval(
            tv_sec: Int(timeout.components.seconds),
            tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    static func frame(_ request: Porto_TPortoRequest) throws -> [UInt8] {
        let body: [UInt8] = try request.serializedBytes()
        var out: [UInt8] = []
        var length = UInt32(body.count)
        while length >= 0x80 {
            out.append(UInt8(length & 0x7F) | 0x80)
            length >>= 7
        }
        out.append(UInt8(length))
        return out + body
    }

    func sendRaw(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    func send(_ request: Porto_TPortoRequest) throws {
        sendRaw(try Self.frame(request))
    }

    /// Reads one frame (or whatever arrives before EOF or the timeout).
    func readFrame() -> ReadResult {
        while true {
            if let length = prefix(), buffer.count >= length.prefix + length.body {
                let frame = Array(buffer[length.prefix..<length.prefix + length.body])
                buffer.removeFirst(length.prefix + length.body)
                return .frame(frame)
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                buffer += chunk[0..<n]
            } else if n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                return .closed(partial: buffer)
            } else if errno != EINTR {
                return .timedOut(partial: buffer)
            }
        }
    }

    /// The varint prefix at the start of the buffer, if complete (no limit: the tests look at
    /// oversized prefixes).
    func prefix() -> (prefix: Int, body: Int)? {
        var value = 0
        for (index, byte) in buffer.prefix(5).enumerated() {
            value |= Int(byte & 0x7F) << (7 * index)
            if byte & 0x80 == 0 { return (index + 1, value) }
        }
        return nil
    }

    /// Sends `request` and decodes the reply; nil when no frame came back.
    func call(_ request: Porto_TPortoRequest) throws -> Porto_TPortoResponse? {
        try send(request)
        guard case .frame(let body) = readFrame() else { return nil }
        return try Porto_TPortoResponse(serializedBytes: body)
    }
}

/// Requests the tests send.
enum Request {
    static var version: Porto_TPortoRequest { .with { $0.version = .init() } }
    static var getSystem: Porto_TPortoRequest { .with { $0.getSystem = .init() } }
    static func list(_ mask: String) -> Porto_TPortoRequest { .with { $0.list.mask = mask } }
    /// ListContainersBy with one filter per name; a nil name leaves the filter's name unset.
    static func listContainersBy(_ names: [String?]) -> Porto_TPortoRequest {
        .with {
            $0.listContainersBy.filters = names.map { name in
                var filter = Porto_TListContainersFilter()
                if let name { filter.name = name }
                return filter
            }
            $0.listContainersBy.fieldOptions.properties = ["state"]
        }
    }
}
