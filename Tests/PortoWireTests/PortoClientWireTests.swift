import Foundation
import Glibc
import Testing
@testable import PortoWire

/// PortoClient against the scripted fake: framing, each error kind, deadlines, connection reuse,
/// reconnect and retry rules, push frames.
@Suite struct PortoClientWireTests {
    // MARK: - Framing over the wire

    /// A response whose encoded body is exactly `size` bytes (padding in errorMsg).
    static func response(ofSize size: Int) -> Porto_TPortoResponse {
        var response = Porto_TPortoResponse()
        response.error = .success
        response.version.tag = "t"
        let base = (try! response.serializedBytes() as [UInt8]).count
        // errorMsg adds a tag byte, its length varint (1-3 bytes here) and the text.
        for overhead in 2...4 where size - base - overhead >= 0 {
            response.errorMsg = String(repeating: "x", count: size - base - overhead)
            if (try! response.serializedBytes() as [UInt8]).count == size { return response }
        }
        fatalError("no padding gives \(size) bytes (base \(base))")
    }

    @Test(arguments: [127, 128, 16383, 16384, 200_000])
    func readsFramesAtVarintEdges(size: Int) throws {
        let reply = Self.response(ofSize: size)
        let server = try FakePortoServer([[.readRequest, .reply(reply)]])
        defer { server.stop() }
        let client = PortoClient(socketPath: server.path)
        let response = try client.call(versionRequest())
        #expect(response == reply)
        #expect(server.requests.map(\.methodName) == ["Version"])
    }

    @Test func sendsOneFramedRequestPerCallOnOneConnection() throws {
        let server = try FakePortoServer([[.readRequest, .reply(versionReply("a")),
                                           .readRequest, .reply(versionReply("b"))]])
        defer { server.stop() }
        let client = PortoClient(socketPath: server.path)
        #expect(try client.version().tag == "a")
        #expect(try client.version().tag == "b")
        #expect(server.accepts == 1)
        #expect(client.connectionsOpened == 1)
    }

    @Test func oversizedPrefixIsRejectedWithoutWaitingForTheBody() throws {
        var prefix: [UInt8] = []
        Framing.appendVarint(UInt32(Framing.maxFrameLength + 1), to: &prefix)
        // The fake sends only the prefix and keeps the connection open: a client that tried to
        // read the body would run into its (long) deadline instead of failing at once.
        let server = try FakePortoServer([[.readRequest, .bytes(prefix), .hang]])
        defer { server.stop() }
        let client = PortoClient(socketPath: server.path, timeout: .seconds(30))
        let error = #expect(throws: PortoError.self) { try client.call(versionRequest()) }
        guard case .decode(let message) = error else {
            Issue.record("expected a decode error, got \(String(describing: error))")
            return
        }
        #expect(message.contains("exceeds"))
        #expect(eventually { server.closes == 1 }, "the client must close the connection")
    }

    @Test(arguments: [
        [UInt8]([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
        [0xFF, 0xFF, 0xFF, 0xFF, 0x10],
        [0xFF, 0xFF, 0xFF, 0xFF, 0x0F],  // 2^32-1: well-formed, over the limit
    ])
    func malformedOrHugePrefixIsADecodeError(prefix: [UInt8]) throws {
        let server = try FakePortoServer([[.readRequest, .bytes(prefix), .hang]])
        defer { server.stop() }
        let client = PortoClient(socketPath: server.path, timeout: .seconds(30))
        let error = #expect(throws: PortoError.self) { try client.call(versionRequest()) }
        guard case .decode = error else {
            Issue.record("expected a decode error, got \(String(describing: error))")
            return
        }
    }

    @Test func garbageBodyIsADecodeErrorAndClosesTheConnection() throws {
        let server = try FakePortoServer([
            [.readRequest, .bytes(try Framing.frame([0xFF, 0xFF, 0xFF])), .hang],
            [.readRequest, .reply(versionReply())],
        ])
        defer { server.stop() }
        let client = PortoClient(socketPath: server.path)
        let error = #expect(throws: PortoError.self) { try client.call(versionRequest()) }
        guard case .decode = error else {
            Issue.record("expected a decode error, got \(String(describing: error))")
            return
        }
        #expect(try client.version().tag == "5.3.59")
        #expect(server.accepts == 2)
    }

    // MARK: - Error kinds

    @Test func eofInsideAFrameIsClosedMidFrame() throws {
        let body: [UInt8] = try versionReply().serializedBytes()
        let cut = Array(try Framing.frame(body).dropLast(2))
        let server = try FakePortoServer([[.readRequest, .bytes(cut), .close]])
        defer { server.stop() }
        let error = #expect(throws: PortoError.self) {
            try PortoClient(socketPath: server.path).call(versionRequest())
        }
        guard case .socket(.closedMidFrame, _) = error else {
            Issue.record("expected closedMidFrame, got \(String(describing: error))")
            return
        }
    }

    @Test func eofInsideThePrefixIsClosedMidFrame() throws {
        let server = try FakePortoServer([[.readRequest, .bytes([0x80]), .close]])
        defer { server.stop() }
        let error = #expect(throws: PortoError.self) {
            try PortoClient(socketPath: server.path).call(versionRequest())
        }
        guard case .socket(.closedMidFrame, _) = error else {
            Issue.record("expected closedMidFrame, got \(String(describing: error))")
            return
        }
    }

    @Test func missingErrorFieldIsLostError() throws {
        var noError = Porto_TPortoResponse()
        noError.version.tag = "5.3.59"
        let server = try FakePortoServer([[.readRequest, .reply(noError),
                                           .readRequest, .bytes([0x00])]])
        defer { server.stop() }
        let client = PortoClient(socketPath: server.path)
        let error = #expect(throws: PortoError.self) { try client.version() }
        guard case .porto(.lostError, _) = error else {
            Issue.record("expected lostError, got \(String(describing: error))")
            return
        }
        // An empty frame is an empty response: no error field either.
        let empty = #expect(throws: PortoError.self) { try client.version() }
        guard case .porto(.lostError, _) = empty else {
            Issue.record("expected lostError, got \(String(describing: empty))")
            return
        }
        #expect(server.accepts == 1)
    }

    @Test func envelopeErrorCarriesCodeAndMessageAndKeepsTheConnection() throws {
        var failure = Porto_TPortoResponse()
        failure.error = .invalidMethod
        failure.errorMsg = "invalid RPC method"
        let server = try FakePortoServer([[.readRequest, .reply(failure),
                                           .readRequest, .reply(versionReply())]])
        defer { server.stop() }
        let client = PortoClient(socketPath: server.path)
        #expect(throws: PortoError.porto(.invalidMethod, message: "invalid RPC method")) {
            try client.getSystem()
        }
        #expect(try client.version().tag == "5.3.59")
        #expect(server.accepts == 1)
        #expect(PortoError.porto(.invalidMethod, message: "invalid RPC method").description
            == "portod error invalidMethod (2): invalid RPC method")
    }

    @Test func missingSocketFileIsUnreachable() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let client = PortoClient(socketPath: directory + "/absent.sock")
        let error = #expect(throws: PortoError.self) { try client.version() }
        guard case .socket(.unreachable, let message) = error else {
            Issue.record("expected unreachable, got \(String(describing: error))")
            return
        }
        #expect(message.contains("absent.sock"))
    }

    @Test func socketNobodyListensOnIsRefused() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fd = try bindUnixSocket(path: directory + "/s.sock", listen: false)
        defer { Glibc.close(fd) }
        let error = #expect(throws: PortoError.self) {
            try PortoClient(socketPath: directory + "/s.sock").version()
        }
        guard case .socket(.refused, _) = error else {
            Issue.record("expected refused, got \(String(describing: error))")
            return
        }
    }

    /// Tests run as root, and root ignores file modes (CAP_DAC_OVERRIDE). Linux keeps a per-thread
    /// filesystem uid, and changing it from 0 to another uid drops the file capabilities of that
    /// thread only: so one thread of our own connects as "nobody" while the rest of the process
    /// stays root. A non-root run needs no trick.
    @Test func socketInAClosedDirectoryIsPermissionDenied() throws {
        let directory = try makeTemporaryDirectory()  // mode 0700, owned by the test's uid
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/s.sock"
        let fd = try bindUnixSocket(path: path, listen: true)
        defer { Glibc.close(fd) }
        chmod(path, 0)
        chmod(directory, 0)
        defer { chmod(directory, 0o700) }

        typealias SetFSUID = @convention(c) (UInt32) -> Int32
        let symbol = try #require(dlsym(nil, "setfsuid"))
        let setfsuid = unsafeBitCast(symbol, to: SetFSUID.self)
        let outcome = onOwnThread { () -> String in
            let asRoot = getuid() == 0
            if asRoot {
                _ = setfsuid(65534)
                guard setfsuid(65534) == 65534 else { return "setfsuid did not take effect" }
            }
            defer { if asRoot { _ = setfsuid(0) } }
            do throws(PortoError) {
                _ = try PortoClient(socketPath: path, timeout: .milliseconds(100)).version()
                return "answered"
            } catch .socket(.permissionDenied, _) {
                return "permission denied"
            } catch {
                return "\(error)"
            }
        }
        #expect(outcome == "permission denied")
        // The same socket is reachable with full privileges (it connects, then nobody answers),
        // so the failure above was about permissions.
        if getuid() == 0 {
            let error = #expect(throws: PortoError.self) {
                try PortoClient(socketPath: path, timeout: .milliseconds(100)).version()
            }
            guard case .timeout = error else {
                Issue.record("expected a timeout, got \(String(describing: error))")
                return
            }
        }
    }

    @Test func errnoMapping() {
        #expect(SocketFailure.connect(errno: ENOENT) == .unreachable)
        #expect(SocketFailure.connect(errno: ENOTDIR) == .unreachable)
        #expect(SocketFailure.connect(errno: ECONNREFUSED) == .refused)
        #expect(SocketFailure.connect(errno: EACCES) == .permissionDenied)
        #expect(SocketFailure.connect(errno: EPERM) == .permissionDenied)
        #expect(SocketFailure.connect(errno: EMFILE) == .other(errno: EMFILE))
        #expect(SocketFailure.transfer(errno: EPIPE, midFrame: false) == .closed)
        #expect(SocketFailure.transfer(errno: ECONNRESET, midFrame: false) == .closed)
        #expect(SocketFailure.transfer(errno: ECONNRESET, midFrame: true) == .closedMidFrame)
        #expect(SocketFailure.transfer(errno: EIO, midFrame: true) == .other(errno: EIO))
        #expect(SocketFailure.other(errno: ENOENT).description.contains("No such file"))
    }

    @Test func tooLongSocketPathIsAnError() {
        let path = "/tmp/" + String(repeating: "p", count: 120)
        #expect(throws: PortoError.socket(.other(errno: ENAMETOOLONG), message:
            "socket path \(path) does not fit in sun_path (107 bytes)")) {
            try PortoClient(socketPath: path).version()
        }
    }

    // MARK: - Deadlines

    @Test func deadlineIsHonouredAgainstAHangingServerAndTheConnectionIsNotReused() throws {
        let server = try FakePortoServer([
            [.readRequest, .hang],
            [.readRequest, .reply(versionReply("after"))],
        ])
        defer { server.stop() }
        let client = PortoClient(socketPath: server.path)
        let started = ContinuousClock.now
        let error = #expect(throws: PortoError.self) {
            try client.call(versionRequest(), timeout: .milliseconds(200))
        }
        // A generous bound: the point is that the call returns at all.
        #expect(started.duration(to: .now) < .seconds(5))
        guard case .timeout(let message) = error else {
            Issue.record("expected a timeout, got \(String(describing: error))")
            return
        }
        #expect(message.contains("Version"))
        // The next call opens a new connection (the fake accepts it only once the first is closed).
        #expect(try client.version().tag == "after")
        #expect(server.accepts == 2)
        #expect(client.connectionsOpened == 2)
        #expect(server.requests.count == 2)
    }

    @Test func aSpentDeadlineFailsBeforeConnecting() throws {
        let server = try FakePortoServer([[.readRequest, .reply(versionReply())]])
        defer { server.stop() }
        let client = PortoClient(socketPath: server.path)
        let error = #expect(throws: PortoError.self) { try client.call(versionRequest(), timeout: .zero) }
        guard case .timeout = error else {
            Issue.record("expected a timeout, got \(String(describing: error))")
            return
        }
        #expect(client.connectionsOpened == 0)
        #expect(try client.version().tag == "5.3.59")
    }

    @Test func connectHonoursTheDeadlineWhenTheBacklogIsFull() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/s.sock"
        // Backlog 0 and never accepting: one pending connection fills it (Linux), the next
        // non-blocking connect gets EAGAIN until the deadline.
        let listener = try bindUnixSocket(path: path, listen: true, backlog: 0)
        defer { Glibc.close(listener) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let held = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { Glibc.close(held) }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(held, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try #require(rc == 0)
        let client = PortoClient(socketPath: path, timeout: .milliseconds(200))
        let started = ContinuousClock.now
        let error = #expect(throws: PortoError.self) { try client.version() }
        #expect(started.duration(to: .now) < .seconds(5))
        guard case .timeout(let message) = error else {
            Issue.record("expected a timeout, got \(String(describing: error))")
            return
        }
        #expect(message.contains("connecting"))
    }

    // MARK: - Reconnect and retry

    @Test func reconnectsAndRetriesOnceWhenTheIdleConnectionWasClosed() throws {
        let server = try FakePortoServer([
            [.readRequest, .reply(versionReply("first")), .close],
            [.readRequest, .reply(versionReply("second"))],
        ])
        defer { server.stop() }
        let client = PortoClient(socketPath: server.path)
        #expect(try client.version().tag == "first")
        #expect(eventually { server.closes == 1 })
        #expect(try client.version().tag == "second")
        #expect(server.accepts == 2)
        #expect(server.requests.count == 2)
    }

    @Test func aClosedIdleConnectionIsSeenBeforeSending() throws {
        let server = try FakePortoServer([
            [.bytes(framed(pushFrame("queued")))],  // then the script ends: closed
            [.hang],
        ])
        defer { server.stop() }
        let open = try Connection.open(path: server.path, deadline: Deadline(after: .seconds(5)))
        #expect(eventually { server.closes == 1 })
        #expect(open.peerHasClosed)
        let other = try Connection.open(path: server.path, deadline: Deadline(after: .seconds(5)))
        #expect(eventually { server.accepts == 2 })
        #expect(!other.peerHasClosed, "an open, quiet connection")
        _ = open
        other.close()
        #expect(other.peerHasClosed, "a connection closed on our side counts as closed")
    }

    @Test func neverRetriesOnceTheRequestWasRead() throws {
        let server = try FakePortoServer([[.readRequest, .close]])
        defer { server.stop() }
        let client = PortoClient(socketPath: server.path)
        let error = #expect(throws: PortoError.self) { try client.version() }
        guard case .socket(.closed, _) = error else {
            Issue.record("expected closed, got \(String(describing: error))")
            return
        }
        #expect(server.requests.count == 1)
        #expect(server.accepts == 1)
        #expect(client.connectionsOpened == 1)
    }

    @Test func neverRetriesAfterATimeout() throws {
        let server = try FakePortoServer([[.readRequest, .hang]])
        defer { server.stop() }
        let client = PortoClient(socketPath: server.path)
        #expect(throws: PortoError.self) { try client.call(versionRequest(), timeout: .milliseconds(100)) }
        #expect(client.connectionsOpened == 1)
        #expect(server.requests.count == 1)
    }

    @Test func aRequestCutByCloseFailsWithoutSIGPIPEOrRetry() throws {
        // The fake closes straight after accept; a 2 MiB request cannot fit in the socket buffer,
        // so the write fails with EPIPE after part of it went out. Without MSG_NOSIGNAL the test
        // process would die of SIGPIPE here.
        let server = try FakePortoServer([[.close]])
        defer { server.stop() }
        let client = PortoClient(socketPath: server.path)
        var request = Porto_TPortoRequest()
        request.get.name = [String(repeating: "a", count: 2 << 20)]
        request.get.variable = ["state"]
        let error = #expect(throws: PortoError.self) { try client.call(request) }
        guard case .socket(let failure, _) = error else {
            Issue.record("expected a socket error, got \(String(describing: error))")
            return
        }
        #expect(failure == .closed || failure == .closedMidFrame)
        #expect(client.connectionsOpened == 1)
    }

    @Test func oversizedRequestIsRefusedBeforeConnecting() {
        let client = PortoClient(socketPath: "/nonexistent/porto.sock")
        var request = Porto_TPortoRequest()
        request.get.name = [String(repeating: "a", count: Framing.maxFrameLength)]
        let error = #expect(throws: PortoError.self) { try client.call(request) }
        guard case .decode(let message) = error else {
            Issue.record("expected a decode error, got \(String(describing: error))")
            return
        }
        #expect(message.contains("exceeds"))
        #expect(client.connectionsOpened == 0)
    }

    // MARK: - Push frames

    @Test func pushFramesBeforeTheReplyAreSkipped() throws {
        // Two pushes and the reply in one write: the client must read frame by frame.
        let bytes = framed(pushFrame("a")) + framed(pushFrame("a/b")) + framed(versionReply("real"))
        let server = try FakePortoServer([[.readRequest, .bytes(bytes)]])
        defer { server.stop() }
        let client = PortoClient(socketPath: server.path)
        #expect(try client.version().tag == "real")
    }

    @Test func anAsyncWaitRequestGetsTheFirstFrame() throws {
        let server = try FakePortoServer([[.readRequest, .reply(pushFrame("a"))]])
        defer { server.stop() }
        let client = PortoClient(socketPath: server.path)
        var request = Porto_TPortoRequest()
        request.asyncWait.name = ["a"]
        let response = try client.call(request)
        #expect(response.asyncWait.name == "a")
    }

    // MARK: - Typed requests on the wire, observer, environment

    @Test func listContainersByFillsAMissingFilterName() throws {
        var reply = Porto_TPortoResponse()
        reply.error = .success
        reply.listContainersBy = Porto_TListContainersResponse()
        let server = try FakePortoServer([[.readRequest, .reply(reply)]])
        defer { server.stop() }
        let client = PortoClient(socketPath: server.path)
        var labelled = Porto_TListContainersFilter()
        labelled.labels.map = [Porto_TStringMap.TStringMapEntry.with { $0.key = "A.b"; $0.val = "c" }]
        var named = Porto_TListContainersFilter()
        named.name = "a/*"
        _ = try client.listContainersBy(filters: [labelled, named], properties: ["state"])
        let sent = try #require(server.requests.first)
        #expect(sent.listContainersBy.filters.map(\.name) == ["***", "a/*"])
        #expect(sent.listContainersBy.filters.allSatisfy { $0.hasName })
        #expect(sent.listContainersBy.fieldOptions.properties == ["state"])
    }

    @Test func listContainersByDefaultsToEveryContainer() throws {
        var reply = Porto_TPortoResponse()
        reply.error = .success
        let server = try FakePortoServer([[.readRequest, .reply(reply)]])
        defer { server.stop() }
        let containers = try PortoClient(socketPath: server.path).listContainersBy(properties: [])
        #expect(containers.isEmpty, "a Success without the field reads as empty")
        let sent = try #require(server.requests.first)
        #expect(sent.listContainersBy.filters == [.all])
        #expect(Porto_TListContainersFilter.all.name == "***")
        #expect(sent.listContainersBy.hasFieldOptions)
    }

    @Test func getSendsOnlyTheFlagsAsked() throws {
        var reply = Porto_TPortoResponse()
        reply.error = .success
        let server = try FakePortoServer([[.readRequest, .reply(reply), .readRequest, .reply(reply)]])
        defer { server.stop() }
        let client = PortoClient(socketPath: server.path)
        _ = try client.get(names: ["a", "/"], variables: ["state"])
        _ = try client.get(names: ["***"], variables: ["cpu_usage"], sync: true, real: true, nonblock: true)
        let requests = server.requests
        try #require(requests.count == 2)
        #expect(requests[0].get.name == ["a", "/"])
        #expect(!requests[0].get.hasSync && !requests[0].get.hasReal && !requests[0].get.hasNonblock)
        #expect(requests[1].get.sync && requests[1].get.real && requests[1].get.nonblock)
    }

    @Test func observerSeesEveryCallOnce() throws {
        final class Log: @unchecked Sendable {
            let lock = NSLock()
            var entries: [(String, Double, PortoError?)] = []
        }
        let log = Log()
        var failure = Porto_TPortoResponse()
        failure.error = .permission
        failure.errorMsg = "denied"
        let server = try FakePortoServer([[.readRequest, .reply(versionReply()),
                                           .readRequest, .reply(failure)]])
        defer { server.stop() }
        let client = PortoClient(socketPath: server.path) { method, seconds, error in
            log.lock.withLock { log.entries.append((method, seconds, error)) }
        }
        _ = try client.version()
        _ = try? client.getSystem()
        let entries = log.lock.withLock { log.entries }
        #expect(entries.map(\.0) == ["Version", "GetSystem"])
        #expect(entries.allSatisfy { $0.1 >= 0 })
        #expect(entries[0].2 == nil)
        #expect(entries[1].2 == .porto(.permission, message: "denied"))
    }

    @Test func socketPathFromEnvironment() {
        #expect(PortoClient.socketPathFromEnvironment([:]) == "/run/portod.socket")
        #expect(PortoClient.socketPathFromEnvironment(["PORTO_SOCKET": ""]) == "/run/portod.socket")
        #expect(PortoClient.socketPathFromEnvironment(["PORTO_SOCKET": "/tmp/p.sock"]) == "/tmp/p.sock")
        #expect(PortoClient().socketPath == PortoClient.defaultSocketPath)
    }

    @Test func sharedBetweenThreadsOneRequestAtATime() throws {
        let rounds = 40
        var script: [FakePortoServer.Step] = []
        for _ in 0..<rounds { script += [.readRequest, .reply(versionReply())] }
        let server = try FakePortoServer([script])
        defer { server.stop() }
        let client = PortoClient(socketPath: server.path)
        DispatchQueue.concurrentPerform(iterations: rounds) { _ in
            #expect((try? client.version().tag) == "5.3.59")
        }
        #expect(server.accepts == 1)
        #expect(server.requests.count == rounds)
    }
}
