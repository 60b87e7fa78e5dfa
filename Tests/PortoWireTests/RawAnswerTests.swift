import Foundation
@testable import PortoSim
import Testing
@testable import PortoWire

/// The undecoded path: `WireReader`, `ResponseEnvelope`, `PortoClient.callRaw` and
/// `ListContainersByAnswer`, each against what full decoding with SwiftProtobuf gives.
@Suite struct RawAnswerTests {
    // MARK: - WireReader

    @Test func walksEveryWireType() throws {
        // field 1 varint 300, field 2 "hi", field 3 fixed64, field 4 fixed32, field 5 group {field 1 varint 7}
        let bytes: [UInt8] = [0x08, 0xAC, 0x02, 0x12, 0x02, 0x68, 0x69,
                              0x19, 1, 0, 0, 0, 0, 0, 0, 0x80, 0x25, 2, 0, 0, 0x40,
                              0x2B, 0x08, 0x07, 0x2C, 0x30, 0x01]
        var reader = WireReader(bytes)
        var fields: [WireReader.Field] = []
        while let f = try reader.next() { fields.append(f) }
        #expect(fields == [
            .init(number: 1, value: .varint(300)),
            .init(number: 2, value: .bytes(5..<7)),
            .init(number: 3, value: .fixed64(0x8000_0000_0000_0001)),
            .init(number: 4, value: .fixed32(0x4000_0002)),
            .init(number: 5, value: .group(22..<24)),
            .init(number: 6, value: .varint(1)),
        ])
        #expect(try reader.string(5..<7) == "hi")
    }

    @Test(arguments: [
        [UInt8]([0x08]),                   // varint missing
        [0x08, 0x80],                      // varint cut
        [0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],  // 11 bytes
        [0x12, 0x05, 0x61],                // length past the end
        [0x12, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F],  // huge length
        [0x00, 0x01],                      // field number 0
        [0x0E, 0x01],                      // wire type 6
        [0x0F],                            // wire type 7
        [0x19, 0x01, 0x02],                // fixed64 cut
        [0x1D, 0x01],                      // fixed32 cut
        [0x2B, 0x08, 0x07],                // group not closed
        [0x2B, 0x34],                      // group closed as another number
        [0x2C],                            // end of group without start
    ])
    func malformedBytesThrowDecode(bytes: [UInt8]) {
        var reader = WireReader(bytes)
        #expect(throws: PortoError.self) {
            while try reader.next() != nil {}
        }
    }

    @Test func tenByteVarintKeepsItsLow64BitsAsADecoderDoes() throws {
        // Found by FuzzFraming: SwiftProtobuf drops the bits of a tenth byte beyond 64.
        let bytes: [UInt8] = [0x08, 0xDC, 0xDC, 0xDC, 0xDC, 0xDC, 0xDC, 0xDC, 0xDC, 0xDC, 0x6C]
        var reader = WireReader(bytes)
        let field = try #require(try reader.next())
        #expect(try reader.next() == nil)
        #expect(try Porto_TPortoResponse(serializedBytes: bytes).hasError == false)  // accepted, unknown value
        guard case .varint(let v) = field.value else {
            Issue.record("expected a varint")
            return
        }
        #expect(v & (1 << 63) == 0)  // 0x6C & 0x7F << 63 keeps only 0x6C's lowest bit (0)
    }

    @Test func deeplyNestedGroupsThrowInsteadOfRecursingWithoutBound() {
        let depth = WireReader.maxGroupDepth + 5
        let bytes = [UInt8](repeating: 0x0B, count: depth) + [UInt8](repeating: 0x0C, count: depth)
        var reader = WireReader(bytes)
        #expect(throws: PortoError.self) { _ = try reader.next() }
    }

    @Test func invalidUTF8StringThrows() {
        let reader = WireReader([0xFF, 0xFE])
        #expect(throws: PortoError.self) { _ = try reader.string(0..<2) }
    }

    // MARK: - ResponseEnvelope

    @Test func envelopeAgreesWithDecoding() throws {
        var failed = Porto_TPortoResponse()
        failed.error = .containerDoesNotExist
        failed.errorMsg = "no such container é"
        let e1 = try ResponseEnvelope(try failed.serializedBytes())
        #expect(e1.error == .containerDoesNotExist)
        #expect(e1.errorMessage == "no such container é")
        #expect(!e1.isAsyncWait)
        #expect(throws: PortoError.porto(.containerDoesNotExist, message: "no such container é")) { try e1.check(method: "Get") }

        let missing = try ResponseEnvelope(try versionReplyWithoutError().serializedBytes())
        #expect(missing.error == nil)
        let lost = #expect(throws: PortoError.self) { try missing.check(method: "Version") }
        guard case .porto(.lostError, _) = lost else {
            Issue.record("expected lostError, got \(String(describing: lost))")
            return
        }

        let push = try ResponseEnvelope(try pushFrame("a").serializedBytes())
        #expect(push.isAsyncWait)
        #expect(push.error == .success)
        try push.check(method: "AsyncWait")

        // An error value this schema does not know is an unknown field to a decoder: missing.
        let unknownCode: [UInt8] = [0x08, 0xE7, 0x07]  // error = 999
        #expect(try ResponseEnvelope(unknownCode).error == nil)
        #expect(try Porto_TPortoResponse(serializedBytes: unknownCode).hasError == false)
        // A later error field wins, as in a decoder.
        let twice: [UInt8] = [0x08, 0x01, 0x08, 0x00]
        #expect(try ResponseEnvelope(twice).error == .success)
        #expect(try Porto_TPortoResponse(serializedBytes: twice).error == .success)
        // error with the wrong wire type: skipped, as a decoder skips it.
        let wrongType: [UInt8] = [0x0A, 0x00]
        #expect(try ResponseEnvelope(wrongType).error == nil)
        #expect(try Porto_TPortoResponse(serializedBytes: wrongType).hasError == false)
    }

    // MARK: - PortoClient.callRaw

    @Test func callRawReturnsTheBytesPortodSent() throws {
        let host = SimHost(options: SimOptions(containers: 20, seed: 3, clock: .fixed(epochSeconds: 1_700_000_000)))
        let server = try FakePortoServer([[.serve(host)]])
        defer { server.stop() }
        let client = PortoClient(socketPath: server.path)
        let request = lcbRequest(["state", "cpu_usage", "net"])
        let raw = try client.callRaw(request)
        let expected = try #require(host.respond(to: request))
        #expect(try Porto_TPortoResponse(serializedBytes: raw) == expected)
        // The typed call on the same connection still works and agrees.
        #expect(try client.call(request) == expected)
        #expect(client.connectionsOpened == 1)
    }

    @Test func callRawChecksTheEnvelopeAndSkipsPushes() throws {
        var failed = Porto_TPortoResponse()
        failed.error = .permission
        failed.errorMsg = "denied"
        let server = try FakePortoServer([
            [
                .readRequest, .reply(failed),
                .readRequest, .reply(versionReplyWithoutError()),
                .readRequest, .bytes(framed(pushFrame("a")) + framed(versionReply("real"))),
                .readRequest, .bytes(try Framing.frame([8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])), .hang,
            ],
            [.readRequest, .reply(versionReply("again"))],
        ])
        defer { server.stop() }
        let client = PortoClient(socketPath: server.path)
        #expect(throws: PortoError.porto(.permission, message: "denied")) { try client.callRaw(versionRequest()) }
        let lost = #expect(throws: PortoError.self) { try client.callRaw(versionRequest()) }
        guard case .porto(.lostError, _) = lost else {
            Issue.record("expected lostError, got \(String(describing: lost))")
            return
        }
        let raw = try client.callRaw(versionRequest())
        #expect(try Porto_TPortoResponse(serializedBytes: raw).version.tag == "real")
        let garbage = #expect(throws: PortoError.self) { try client.callRaw(versionRequest()) }
        guard case .decode = garbage else {
            Issue.record("expected a decode error, got \(String(describing: garbage))")
            return
        }
        // A decode error closes the connection: the next call opens another.
        #expect(try Porto_TPortoResponse(serializedBytes: try client.callRaw(versionRequest())).version.tag == "again")
        #expect(server.accepts == 2)
    }

    // MARK: - ListContainersByAnswer

    @Test func containersOneAtATimeEqualTheDecodedAnswer() throws {
        let host = SimHost(options: SimOptions(containers: 300, seed: 7, clock: .fixed(epochSeconds: 1_700_000_000)))
        let response = try #require(host.respond(to: lcbRequest(["state", "cpu_usage", "io_read", "net", "net_rx_bytes", "labels"])))
        let bytes: [UInt8] = try response.serializedBytes()
        let answer = try ListContainersByAnswer(bytes, withNet: true)
        let decoded = response.listContainersBy.containers
        #expect(answer.entries.count == decoded.count)
        #expect(answer.entries.count > 300)  // nested containers too
        var scratch: [UInt8] = []
        for (entry, expected) in zip(answer.entries, decoded) {
            #expect(entry.name == expected.spec.name)
            #expect(entry.net == (expected.spec.hasNet ? .init(expected.spec.net) : nil))
            #expect(try answer.container(entry, scratch: &scratch) == expected)
        }
    }

    @Test func entriesKeepPortodsOrder() throws {
        var response = Porto_TPortoResponse()
        response.error = .success
        response.listContainersBy.containers = ["b", "a/x", "/", "a", "a"].enumerated().map { i, name in
            var c = Porto_TContainer()
            c.spec.name = name
            c.status.cpuUsage = UInt64(i)
            return c
        }
        let answer = try ListContainersByAnswer(try response.serializedBytes())
        #expect(answer.entries.map(\.name) == ["b", "a/x", "/", "a", "a"])
        var scratch: [UInt8] = []
        #expect(try answer.container(answer.entries[3], scratch: &scratch).status.cpuUsage == 3)
    }

    // MARK: - GetAnswer

    @Test func getAnswerValuesEqualTheDecodedAnswer() throws {
        let host = SimHost(options: SimOptions(containers: 60, seed: 5, clock: .fixed(epochSeconds: 1_700_000_000)))
        var request = Porto_TPortoRequest()
        request.get.name = ["/", "missing"] + host.respond(to: lcbRequest(["state"]))!.listContainersBy.containers.map(\.spec.name)
        request.get.variable = ["memory.stat", "state", "io_read"]
        let response = try #require(host.respond(to: request))
        let bytes: [UInt8] = try response.serializedBytes()
        let answer = try GetAnswer(bytes)
        let list = response.get.list
        #expect(answer.entries.map(\.name) == list.map(\.name))
        func text(_ range: Range<Int>?) -> String { String(decoding: bytes[range ?? 0..<0], as: UTF8.self) }
        var errors = 0
        for (entry, listed) in zip(answer.entries, list) {
            let values = try answer.values(entry)
            #expect(values.map { text($0.variable) } == listed.keyval.map(\.variable))
            #expect(values.map(\.error) == listed.keyval.map { $0.hasError ? $0.error : nil })
            #expect(values.map { $0.value.map { _ in true } ?? false } == listed.keyval.map(\.hasValue))
            #expect(values.map { text($0.value) } == listed.keyval.map(\.value))
            let stat = try #require(try answer.value(of: Array("memory.stat".utf8), in: entry))
            let expected = try #require(listed.keyval.first { $0.variable == "memory.stat" })
            #expect(text(stat.value) == expected.value && stat.error == (expected.hasError ? expected.error : nil))
            errors += stat.error.map { $0 == .success ? 0 : 1 } ?? 0
        }
        #expect(errors > 0)  // "missing" at least
        #expect(try answer.value(of: Array("nothing".utf8), in: answer.entries[0]) == nil)
    }

    @Test func getAnswerSkipsAnUnknownErrorCodeAsADecoderDoes() throws {
        // keyval: variable "v", error 1 (Unknown), then error 99999 (no EError), value "x".
        let keyval: [UInt8] = [0x0A, 0x01, 0x76, 0x10, 0x01, 0x10, 0x9F, 0x8D, 0x06, 0x22, 0x01, 0x78]
        let entry: [UInt8] = [0x0A, 0x01, 0x61, 0x12, UInt8(keyval.count)] + keyval
        let get: [UInt8] = [0x0A, UInt8(entry.count)] + entry
        let bytes: [UInt8] = [0x08, 0x00, 0x52, UInt8(get.count)] + get   // error = Success, get (10)
        let decoded = try Porto_TPortoResponse(serializedBytes: bytes).get.list[0].keyval[0]
        let value = try #require(try GetAnswer(bytes).value(of: [0x76], in: try GetAnswer(bytes).entries[0]))
        #expect(decoded.error == .unknown && value.error == .unknown)
        #expect(value.value.map { Array(bytes[$0]) } == Array("x".utf8))
    }

    @Test func repeatedFieldsMergeAsADecoderMergesThem() throws {
        // Two ListContainersBy fields (their containers add up) and a container whose spec comes
        // twice (the later name wins, the nets merge).
        var first = Porto_TListContainersResponse()
        var a = Porto_TContainer()
        a.spec.name = "old"
        a.spec.net.cfg = [Porto_TContainerNetOption.with { $0.opt = "L3" }]
        first.containers = [a]
        var second = Porto_TListContainersResponse()
        second.containers = [Porto_TContainer.with { $0.spec.name = "z" }]
        var spec2 = Porto_TContainerSpec()
        spec2.name = "new"
        spec2.net.inherited = true
        var bytes: [UInt8] = [0x08, 0x00]  // error = Success
        var containerBytes: [UInt8] = try a.serializedBytes()
        let extraSpec: [UInt8] = try spec2.serializedBytes()
        containerBytes += [0x0A] + varint(extraSpec.count) + extraSpec
        let list1: [UInt8] = [0x0A] + varint(containerBytes.count) + containerBytes
        let list2: [UInt8] = try second.serializedBytes()
        bytes += [0xC2, 0x0E] + varint(list1.count) + list1   // field 232, wire type 2
        bytes += [0xC2, 0x0E] + varint(list2.count) + list2
        let decoded = try Porto_TPortoResponse(serializedBytes: bytes).listContainersBy.containers
        let answer = try ListContainersByAnswer(bytes, withNet: true)
        #expect(decoded.map(\.spec.name) == ["new", "z"])
        #expect(answer.entries.map(\.name) == ["new", "z"])
        #expect(answer.entries[0].net == .init(decoded[0].spec.net))
        var scratch: [UInt8] = []
        #expect(try answer.container(answer.entries[0], scratch: &scratch) == decoded[0])
    }

    @Test func truncatedOrCorruptedAnswersThrowDecodeAndNeverTrap() throws {
        let host = SimHost(options: SimOptions(containers: 10, seed: 1, clock: .fixed(epochSeconds: 1_700_000_000)))
        let response = try #require(host.respond(to: lcbRequest(["state", "cpu_usage", "net", "labels"])))
        let bytes: [UInt8] = try response.serializedBytes()
        var decodeErrors = 0
        func attempt(_ input: [UInt8]) {
            do throws(PortoError) {
                let answer = try ListContainersByAnswer(input, withNet: true)
                var scratch: [UInt8] = []
                for entry in answer.entries { _ = try answer.container(entry, scratch: &scratch) }
            } catch {
                guard case .decode = error else {
                    Issue.record("expected a decode error, got \(error)")
                    return
                }
                decodeErrors += 1
            }
        }
        for cut in stride(from: 1, to: bytes.count, by: 7) { attempt(Array(bytes[..<cut])) }
        var rng = SimRandom(seed: 42)   // porto-sim's SplitMix64
        for _ in 0..<300 {
            var corrupted = bytes
            for _ in 0..<3 { corrupted[Int(rng.next() % UInt64(corrupted.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            attempt(corrupted)
        }
        #expect(decodeErrors > 0)
    }
}

func lcbRequest(_ properties: [String]) -> Porto_TPortoRequest {
    var request = Porto_TPortoRequest()
    var filter = Porto_TListContainersFilter()
    filter.name = "***"
    request.listContainersBy.filters = [filter]
    request.listContainersBy.fieldOptions.properties = properties
    return request
}

func versionReplyWithoutError() -> Porto_TPortoResponse {
    var response = Porto_TPortoResponse()
    response.version.tag = "5.3.59"
    return response
}

private func varint(_ n: Int) -> [UInt8] {
    var out: [UInt8] = []
    Framing.appendVarint(UInt32(n), to: &out)
    return out
}
