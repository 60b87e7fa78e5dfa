import Foundation
import PortoSim
import PortoWire
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Each fault mode, as a client sees it.
@Suite struct SimServerFaultTests {
    @Test func delayHoldsBackEachReply() throws {
        try withServer(faults: FaultOptions(delay: .milliseconds(200))) { server, _ in
            let client = try RawClient(server.socketPath)
            let started = ContinuousClock.now
            #expect(try client.call(Request.version)?.version.tag == "5.3.59")
            // Only a lower bound: a slow machine can make it longer, never shorter.
            #expect(ContinuousClock.now - started >= .milliseconds(200))
        }
    }

    @Test func delayOutlastsAShortClientTimeout() throws {
        try withServer(faults: FaultOptions(delay: .seconds(30))) { server, _ in
            let client = try RawClient(server.socketPath, timeout: .milliseconds(200))
            try client.send(Request.version)
            #expect(client.readFrame() == .timedOut(partial: []))
        }
        // withServer's stop() returned: the delayed connection was woken by the shutdown instead
        // of sleeping for 30 s.
    }

    @Test func hangReadsButNeverAnswers() throws {
        try withServer(faults: FaultOptions(hang: true)) { server, _ in
            let client = try RawClient(server.socketPath, timeout: .milliseconds(300))
            try client.send(Request.version)
            try client.send(Request.getSystem)
            #expect(client.readFrame() == .timedOut(partial: []))
            // The requests were read (and counted), not left in the socket buffer.
            #expect(eventually { server.requestCounts == ["Version": 1, "GetSystem": 1] })
        }
    }

    @Test func hangOnlyOneMethod() throws {
        try withServer(faults: FaultOptions(hang: true, onlyMethod: "GetSystem")) { server, _ in
            let client = try RawClient(server.socketPath, timeout: .milliseconds(300))
            #expect(try client.call(Request.version) != nil)
            try client.send(Request.getSystem)
            #expect(client.readFrame() == .timedOut(partial: []))
            client.setTimeout(.seconds(10))
            #expect(try RawClient(server.socketPath).call(Request.listContainersBy(["***"])) != nil)
        }
    }

    @Test func garbageIsAFrameThatIsNotProtobuf() throws {
        try withServer(faults: FaultOptions(garbage: true)) { server, _ in
            let client = try RawClient(server.socketPath)
            try client.send(Request.version)
            guard case .frame(let body) = client.readFrame() else {
                Issue.record("expected a frame")
                return
            }
            #expect(!body.isEmpty)
            #expect(throws: (any Error).self) { _ = try Porto_TPortoResponse(serializedBytes: body) }
        }
    }

    @Test func cutFrameSendsHalfAReplyThenCloses() throws {
        let reply = try withServer { server, _ in
            let client = try RawClient(server.socketPath)
            try client.send(Request.getSystem)
            guard case .frame(let body) = client.readFrame() else { throw CancellationError() }
            return body
        }
        try withServer(faults: FaultOptions(cutFrame: true)) { server, _ in
            let client = try RawClient(server.socketPath)
            try client.send(Request.getSystem)
            guard case .closed(let partial) = client.readFrame() else {
                Issue.record("expected the connection to close")
                return
            }
            // The prefix announces the whole reply, and the body stops in its middle.
            var prefix: [UInt8] = []
            Framing.appendVarint(UInt32(reply.count), to: &prefix)
            #expect(partial.starts(with: prefix))
            #expect(partial.count == prefix.count + reply.count / 2)
            #expect(Array(partial.dropFirst(prefix.count)) == Array(reply.prefix(reply.count / 2)))
        }
    }

    @Test func oversizedPrefixAnnounces64MiBAndSendsNothingElse() throws {
        try withServer(faults: FaultOptions(oversizedPrefix: true)) { server, _ in
            let client = try RawClient(server.socketPath, timeout: .milliseconds(300))
            try client.send(Request.version)
            guard case .timedOut(let partial) = client.readFrame() else {
                Issue.record("expected the connection to stay open and silent")
                return
            }
            var prefix: [UInt8] = []
            Framing.appendVarint(64 << 20, to: &prefix)
            #expect(partial == prefix)
            #expect(throws: Framing.FrameError.frameTooLarge(length: 64 << 20, limit: Framing.maxFrameLength)) {
                _ = try Framing.decodePrefix(partial)
            }
        }
    }

    @Test func noErrorFieldLeavesTheEnvelopeErrorOut() throws {
        try withServer(faults: FaultOptions(noErrorField: true)) { server, _ in
            let client = try RawClient(server.socketPath)
            let response = try #require(try client.call(Request.version))
            #expect(!response.hasError)
            #expect(response.error == .lostError)
            #expect(response.version.tag == "5.3.59")
        }
    }

    @Test func failListContainersByFailsOnlyThatMethod() throws {
        try withServer(faults: FaultOptions(failListContainersBy: true)) { server, _ in
            let client = try RawClient(server.socketPath)
            let failed = try #require(try client.call(Request.listContainersBy(["***"])))
            #expect(failed.error == .unknown)
            #expect(failed.errorMsg == "injected failure")
            #expect(!failed.hasListContainersBy)
            #expect(try client.call(Request.getSystem)?.error == .success)
        }
    }

    @Test func failAnswersAPortoErrorForOneMethodAndKeepsTheConnection() throws {
        try withServer(faults: FaultOptions(onlyMethod: "GetSystem", fail: true)) { server, _ in
            let client = try RawClient(server.socketPath)
            let failed = try #require(try client.call(Request.getSystem))
            #expect(failed.error == .unknown)
            #expect(failed.errorMsg == FaultOptions.injectedFailureMessage)
            #expect(!failed.hasGetSystem)
            // The same connection answers the other methods.
            #expect(try client.call(Request.version)?.error == .success)
            #expect(try client.call(Request.listContainersBy(["***"]))?.error == .success)
            #expect(try client.call(Request.getSystem)?.error == .unknown)
        }
        try withServer(faults: FaultOptions(fail: true)) { server, _ in
            let client = try RawClient(server.socketPath)
            #expect(try client.call(Request.version)?.error == .unknown)
            #expect(try client.call(Request.list("***"))?.error == .unknown)
        }
    }

    @Test func closeAfterRequestsClosesEachConnection() throws {
        try withServer(faults: FaultOptions(closeAfterRequests: 2)) { server, _ in
            for _ in 0..<2 {
                let client = try RawClient(server.socketPath)
                #expect(try client.call(Request.version) != nil)
                #expect(try client.call(Request.version) != nil)
                try client.send(Request.version)
                #expect(client.readFrame() == .closed(partial: []))
            }
            #expect(server.connectionCount == 2)
        }
    }

    @Test func faultsChangeAtRunTime() throws {
        try withServer { server, _ in
            let client = try RawClient(server.socketPath)
            #expect(try client.call(Request.version)?.hasError == true)
            server.setFaults(FaultOptions(noErrorField: true))
            #expect(try client.call(Request.version)?.hasError == false)
            server.setFaults(.none)
            #expect(try client.call(Request.version)?.hasError == true)
        }
    }
}

/// The control socket's syntax and its effect on a running server.
@Suite struct SimServerControlTests {
    @Test func parsesFaultSpecifications() throws {
        #expect(try ControlCommand(line: "fault none") == .fault(.none))
        #expect(try ControlCommand(line: "oom-exit a/b") == .event(.oomExit("a/b")))
        #expect(try ControlCommand(line: "  fault   delay 200ms \r") == .fault(FaultOptions(delay: .milliseconds(200))))
        #expect(try ControlCommand(line: "fault delay 1.5s") == .fault(FaultOptions(delay: .milliseconds(1500))))
        #expect(try ControlCommand(line: "fault delay 250") == .fault(FaultOptions(delay: .milliseconds(250))))
        #expect(try ControlCommand(line: "fault hang only GetSystem") == .fault(FaultOptions(hang: true, onlyMethod: "GetSystem")))
        #expect(try ControlCommand(line: "fault garbage") == .fault(FaultOptions(garbage: true)))
        #expect(try ControlCommand(line: "fault cut") == .fault(FaultOptions(cutFrame: true)))
        #expect(try ControlCommand(line: "fault oversized") == .fault(FaultOptions(oversizedPrefix: true)))
        #expect(try ControlCommand(line: "fault no-error") == .fault(FaultOptions(noErrorField: true)))
        #expect(try ControlCommand(line: "fault fail-lcb") == .fault(FaultOptions(failListContainersBy: true)))
        #expect(try ControlCommand(line: "fault close-after 3") == .fault(FaultOptions(closeAfterRequests: 3)))
        #expect(try ControlCommand(line: "fault fail only ListStorages") == .fault(FaultOptions(onlyMethod: "ListStorages", fail: true)))
        #expect(try ControlCommand(line: "oom a/b") == .event(.oomKill("a/b")))
        #expect(try ControlCommand(line: "fail-start a") == .event(.failStart("a")))
        #expect(try ControlCommand(line: "state a/b dead") == .event(.setState("a/b", .dead)))
        #expect(try ControlCommand(line: "respawn a/b") == .event(.respawn("a/b")))
        #expect(try ControlCommand(line: "restart") == .event(.restart))
        #expect(try ControlCommand(line: "stats") == .stats)
    }

    @Test(arguments: [
        "", "fault", "fault sometimes", "fault delay", "fault delay soon", "fault delay -5ms",
        "fault close-after 0", "fault close-after", "fault none hang", "fault only", "oom",
        "oom a b", "respawn", "respawn a b", "state a", "state a asleep", "restart now", "stats please", "reboot",
    ])
    func refusesMalformedLines(line: String) {
        #expect(throws: ControlCommand.ParseError.self) { _ = try ControlCommand(line: line) }
    }

    @Test func faultDescriptionsParseBack() throws {
        let faults = FaultOptions(
            delay: .milliseconds(20), hang: true, garbage: true, cutFrame: true, oversizedPrefix: true,
            noErrorField: true, failListContainersBy: true, closeAfterRequests: 4, onlyMethod: "Get", fail: true)
        #expect(try FaultOptions(words: faults.description.split(separator: " ").map(String.init)) == faults)
        #expect(FaultOptions.none.description == "none")
    }

    /// Sends `lines` on one connection to the control socket and returns the answers.
    func control(_ path: String, _ lines: [String]) throws -> [String] {
        let fd = try UnixSocket.connect(path: path)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        UnixSocket.writeAll(fd, Array(lines.map { $0 + "\n" }.joined().utf8))
        shutdown(fd, Int32(SHUT_WR))
        var received: [UInt8] = []
        while let chunk = UnixSocket.read(fd, upTo: 4096), !chunk.isEmpty { received += chunk }
        return String(decoding: received, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test func controlSocketChangesBehaviour() throws {
        try withServer { server, host in
            let path = (server.socketPath as NSString).deletingLastPathComponent + "/control.socket"
            let control = try ControlServer(path: path, server: server)
            defer { control.stop() }

            #expect(try self.control(path, ["fault fail-lcb"]) == ["ok"])
            let client = try RawClient(server.socketPath)
            #expect(try client.call(Request.listContainersBy(["***"]))?.error == .unknown)
            #expect(try self.control(path, ["fault none", "fault nonsense", "oom a", "oom missing", "fail-start a"]) == [
                "ok", "error: unknown fault nonsense (expected delay, hang, garbage, cut, oversized, no-error, fail-lcb, fail, close-after, only or none)",
                "ok", "error: oom missing did not happen: no such container, or not possible in its state", "ok",
            ])
            #expect(server.faults == .none)
            #expect(host.events == [.oomKill("a"), .failStart("a")])
            #expect(try client.call(Request.listContainersBy(["***"]))?.error == .success)

            let stats = try self.control(path, ["stats"])
            // The failed ListContainersBy was not looked up in the cache; the second one was, and missed.
            #expect(stats == [#"{"cache":{"hits":0,"misses":1,"stale":0},"connections":1,"portod_cpu_ns_modelled":{"ListContainersBy":0},"refresh":{"answers":0,"refreshes":0},"requests":{"ListContainersBy":2},"total":2}"#])

            #expect(try self.control(path, ["restart"]) == ["ok"])
            #expect(client.readFrame() == .closed(partial: []))
            #expect(host.events.last == .restart)
            // A command without a final newline is carried out when the client stops writing.
            let fd = try UnixSocket.connect(path: path)
            defer { close(fd) }
            UnixSocket.writeAll(fd, Array("fault hang".utf8))
            shutdown(fd, Int32(SHUT_WR))
            #expect(UnixSocket.read(fd, upTo: 100).map { String(decoding: $0, as: UTF8.self) } == "ok\n")
            #expect(server.faults == FaultOptions(hang: true))
        }
    }

    @Test func stopRemovesTheControlSocket() throws {
        try withServer { server, _ in
            let path = (server.socketPath as NSString).deletingLastPathComponent + "/control.socket"
            let control = try ControlServer(path: path, server: server)
            #expect(FileManager.default.fileExists(atPath: path))
            control.stop()
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }
}
