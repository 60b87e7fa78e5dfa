import Foundation
import Glibc
import Testing
import PortoSim
import PortoWire

/// The scripted fake checked with a raw socket, byte for byte, against docs/porto.md §1.2: a request is a
/// varint32 length and that many bytes; a reply is framed the same way; nothing else is sent.
@Suite struct FakePortoServerTests {
    /// A raw blocking connection to `path` with a 5 s receive timeout.
    static func rawConnect(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard rc == 0 else { throw TestSetupError(description: "connect: errno \(errno)") }
        return fd
    }

    /// Everything received until EOF (or the 5 s timeout).
    static func readToEnd(_ fd: Int32) -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { return out }
            out += buffer[0..<n]
        }
    }

    @Test func readsOneFramedRequestAndRepliesWithExactlyOneFrame() throws {
        let reply = versionReply("x")
        let server = try FakePortoServer([[.readRequest, .reply(reply)]])
        defer { server.stop() }
        let fd = try Self.rawConnect(server.path)
        defer { Glibc.close(fd) }
        let request = try Framing.frame(try versionRequest().serializedBytes())
        #expect(send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count)
        // The script ends after the reply, so the fake closes: the stream is exactly one frame.
        let received = Self.readToEnd(fd)
        let body: [UInt8] = try reply.serializedBytes()
        #expect(received == [UInt8(body.count)] + body)
        #expect(server.requests == [versionRequest()])
    }

    @Test func servesTheSimHostAndClosesWithoutReplyWhenPortodWould() throws {
        let host = SimHost(options: SimOptions(containers: 5, seed: 1))
        let server = try FakePortoServer([[.serve(host)]])
        defer { server.stop() }
        let fd = try Self.rawConnect(server.path)
        defer { Glibc.close(fd) }
        var nameless = Porto_TPortoRequest()
        nameless.listContainersBy.filters = [Porto_TListContainersFilter()]
        let request = try Framing.frame(try nameless.serializedBytes())
        #expect(send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count)
        #expect(Self.readToEnd(fd).isEmpty, "no reply, EOF (docs/porto.md §0)")
    }

    @Test func connectionsBeyondTheScriptAreClosedAtOnce() throws {
        let server = try FakePortoServer([])
        defer { server.stop() }
        let fd = try Self.rawConnect(server.path)
        defer { Glibc.close(fd) }
        #expect(Self.readToEnd(fd).isEmpty)
        #expect(server.accepts == 1)
        #expect(eventually { server.closes == 1 })
    }
}
