import Foundation
import PortoWire

/// The real `PortoClient` against a "portod" that answers every request with the fuzzer's bytes
/// and then closes the connection. The first input byte picks the typed call; the rest is what
/// the server writes: length prefixes, TPortoResponse bodies, AsyncWait pushes, truncation.
/// Whatever arrives, the call must return or throw a `PortoError` (never crash, never hang past
/// its deadline), and a returned response must carry `error == Success`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzClient(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let server = ScriptedPortod.shared
    server.setAnswer(Array(UnsafeBufferPointer(start: data + 1, count: size - 1)))
    let client = PortoClient(socketPath: server.path, timeout: .seconds(5))
    defer { client.close() }
    do throws(PortoError) {
        switch data[0] % 9 {
        case 0:
            _ = try client.version()
        case 1:
            _ = try client.getSystem()
        case 2:
            _ = try client.list(mask: "***")
        case 3:
            let response = try client.get(names: ["a", "a/b"], variables: ["state", "memory_usage"])
            for entry in response.list { _ = entry.keyval.map(\.value) }
        case 4:
            var filter = Porto_TListContainersFilter()
            filter.name = "***"
            _ = try client.listContainersBy(filters: [filter], properties: ["state", "cpu_usage", "memory_usage"])
        case 5:
            _ = try client.listVolumes()
        case 6:
            _ = try client.getVolume()
        case 7:
            _ = try client.listLayers()
        default:
            var request = Porto_TPortoRequest()
            request.getSystem = Porto_TGetSystemRequest()
            let response = try client.call(request)
            precondition(response.hasError && response.error == .success, "a returned response is a success")
        }
    } catch {
        if case .timeout = error { preconditionFailure("the server closed after answering: no call may wait for its deadline") }
    }
    return 0
}

/// A unix socket server on a thread: for each connection it reads one request frame, writes the
/// current answer and closes.
final class ScriptedPortod: @unchecked Sendable {
    static let shared = ScriptedPortod()

    let path: String
    private let lock = NSLock()
    private var answer: [UInt8] = []
    private let listener: Int32

    private init() {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("porto-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        path = dir.appendingPathComponent("portod.socket").path
        unlink(path)
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        precondition(bound == 0 && listen(listener, 16) == 0, "cannot listen on \(path)")
        let thread = Thread { [self] in serve() }
        thread.start()
    }

    func setAnswer(_ bytes: [UInt8]) {
        lock.withLock { answer = bytes }
    }

    private func serve() {
        while true {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { continue }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            readRequest(fd)
            var bytes = lock.withLock { answer }
            var sent = 0
            while sent < bytes.count {
                let n = bytes.withUnsafeMutableBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { break }
                sent += n
            }
            close(fd)
        }
    }

    /// Reads one varint-prefixed frame, as portod does, so that the client has sent it all.
    private func readRequest(_ fd: Int32) {
        var prefix: [UInt8] = []
        var byte: UInt8 = 0
        while recv(fd, &byte, 1, 0) == 1 {
            prefix.append(byte)
            guard case .complete(let length, _)? = try? Framing.decodePrefix(prefix) else {
                if prefix.count >= Framing.maxVarintLength { return }
                continue
            }
            var body = [UInt8](repeating: 0, count: length)
            var got = 0
            while got < length {
                let n = body.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, length - got, 0) }
                if n <= 0 { return }
                got += n
            }
            return
        }
    }
}
