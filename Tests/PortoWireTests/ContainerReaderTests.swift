import PortoWire
import Testing

/// ``ContainerReader``: the fields of one encoded TContainer read in place, as SwiftProtobuf
/// decodes them (presence, repeated occurrences, unexpected wire types, malformed bytes).
@Suite struct ContainerReaderTests {
    /// Every field the tests read, added before any reader is made (a reader sizes itself to the
    /// layout it is given); the slots below look them up again.
    static let layout: ContainerReader.Layout = {
        let layout = ContainerReader.Layout()
        for (message, number, kind) in [(ContainerReader.Message.status, 26, ContainerReader.Kind.varint), (.status, 9, .varint),
                                        (.status, 52, .varint), (.spec, 43, .fixed64), (.spec, 53, .varint), (.status, 2, .lengthDelimited),
                                        (.status, 32, .lengthDelimited), (.status, 49, .lengthDelimited), (.status, 24, .lengthDelimited),
                                        (.spec, 4, .lengthDelimited)] {
            layout.add(message, number, kind)
        }
        return layout
    }()
    static let cpuUsage = layout.add(.status, 26, .varint)
    static let exitCode = layout.add(.status, 9, .varint)
    static let oomKilled = layout.add(.status, 52, .varint)
    static let cpuLimit = layout.add(.spec, 43, .fixed64)
    static let memoryLimit = layout.add(.spec, 53, .varint)
    static let state = layout.add(.status, 2, .lengthDelimited)
    static let ioRead = layout.add(.status, 32, .lengthDelimited)
    static let vm = layout.add(.status, 49, .lengthDelimited)
    static let cgroups = layout.add(.status, 24, .lengthDelimited)
    static let labels = layout.add(.spec, 4, .lengthDelimited)

    static func entry(_ key: String, _ val: UInt64) -> Porto_TUintMap.TUintMapEntry {
        var e = Porto_TUintMap.TUintMapEntry()
        e.key = key
        e.val = val
        return e
    }

    /// Reads `bytes` and hands the reader to `body`.
    static func read<T>(_ bytes: [UInt8], _ body: (inout ContainerReader) throws -> T) throws -> T {
        var reader = ContainerReader(layout)
        return try bytes.withUnsafeBufferPointer { buffer in
            try reader.read(buffer, 0..<buffer.count)
            return try body(&reader)
        }
    }

    static func keys(_ reader: ContainerReader, _ slot: Int) throws -> [String: UInt64]? {
        var entries: [(key: UnsafeBufferPointer<UInt8>, value: UInt64)] = []
        guard try reader.uintMap(slot, into: &entries) else { return nil }
        return Dictionary(entries.map { (String(decoding: $0.key, as: UTF8.self), $0.value) }, uniquingKeysWith: { a, _ in a })
    }

    @Test func readsEveryKindOfFieldAsDecodingGivesIt() throws {
        var c = Porto_TContainer()
        c.spec.name = "a/b"
        c.spec.cpuLimit = 2.5
        c.spec.labels.map = [.with { $0.key = "app"; $0.val = "web" }]
        c.status.cpuUsage = 123_456_789_012
        c.status.exitCode = -9
        c.status.oomKilled = true
        c.status.state = "running"
        c.status.ioRead.map = [Self.entry("hw", 100), Self.entry("sda", 60), Self.entry("nvme0n1", 40)]
        c.status.virtualMemory.used = 77
        c.status.virtualMemory.count = 3
        c.status.cgroups.cgroup = [.with { $0.controller = "cpu,cpuacct"; $0.path = "/a"; $0.inherited = true },
                                   .with { $0.controller = "memory"; $0.path = "/a/b" }]
        try Self.read(try c.serializedBytes()) { (reader) throws in
            #expect(try reader.stringValue(Self.layout.name) == "a/b")
            #expect(reader.uint64(Self.cpuUsage) == 123_456_789_012)
            #expect(reader.int32(Self.exitCode) == -9)
            #expect(reader.bool(Self.oomKilled) == true)
            #expect(reader.double(Self.cpuLimit) == 2.5)
            #expect(reader.uint64(Self.memoryLimit) == nil, "absent stays absent")
            #expect(!reader.has(Self.memoryLimit))
            #expect(try reader.string(Self.state).map { String(decoding: $0, as: UTF8.self) } == "running")
            #expect(try Self.keys(reader, Self.ioRead) == ["hw": 100, "sda": 60, "nvme0n1": 40])
            var vm = [UInt64](repeating: 0, count: 16)
            let present = try #require(try reader.scalars(Self.vm, into: &vm))
            #expect(present == (1 << 1) | (1 << 4))
            #expect(vm[4] == 77 && vm[1] == 3)
            var cgroups: [(controller: UnsafeBufferPointer<UInt8>, inherited: Bool)] = []
            try reader.cgroups(Self.cgroups, into: &cgroups)
            #expect(cgroups.map { String(decoding: $0.controller, as: UTF8.self) } == ["cpu,cpuacct", "memory"])
            #expect(cgroups.map(\.inherited) == [true, false])
            #expect(try reader.stringMap(Self.labels)?.map { "\($0.0)=\($0.1)" } == ["app=web"])
            #expect(!reader.hasError)
        }
    }

    @Test func anEmptyMessageFieldIsPresent() throws {
        var c = Porto_TContainer()
        c.status.ioRead = Porto_TUintMap()
        try Self.read(try c.serializedBytes()) { (reader) throws in
            #expect(try Self.keys(reader, Self.ioRead) == [:])
            #expect(try reader.stringValue(Self.layout.name) == nil)
        }
    }

    @Test func repeatedOccurrencesMergeAsADecoderMergesThem() throws {
        var first = Porto_TContainer()
        first.status.cpuUsage = 1
        first.status.state = "running"
        first.status.ioRead.map = [Self.entry("sda", 1)]
        first.status.virtualMemory.used = 5
        first.status.virtualMemory.size = 6
        var second = Porto_TContainer()
        second.status.cpuUsage = 2
        second.status.state = "dead"
        second.status.ioRead.map = [Self.entry("sdb", 2)]
        second.status.virtualMemory.used = 7
        // Two whole containers concatenated: spec and status occur twice.
        let bytes: [UInt8] = try first.serializedBytes() + second.serializedBytes()
        let decoded = try Porto_TContainer(serializedBytes: bytes)
        try Self.read(bytes) { (reader) throws in
            #expect(reader.uint64(Self.cpuUsage) == decoded.status.cpuUsage)
            #expect(try reader.stringValue(Self.state) == decoded.status.state)
            #expect(try Self.keys(reader, Self.ioRead) == ["sda": 1, "sdb": 2])
            var vm = [UInt64](repeating: 0, count: 16)
            _ = try reader.scalars(Self.vm, into: &vm)
            #expect(vm[4] == decoded.status.virtualMemory.used && vm[2] == decoded.status.virtualMemory.size)
        }
    }

    @Test func aFieldWithAnUnexpectedWireTypeIsSkippedAsAnUnknownField() throws {
        // status { cpu_usage = 7 (varint); cpu_usage as fixed64 (unknown to a decoder) } (keys above 127 take two bytes)
        let status: [UInt8] = [0xD0, 0x01, 7, 0xD1, 0x01, 1, 0, 0, 0, 0, 0, 0, 0]
        let bytes: [UInt8] = [(2 << 3) | 2, UInt8(status.count)] + status
        let decoded = try Porto_TContainer(serializedBytes: bytes)
        #expect(decoded.status.cpuUsage == 7)
        try Self.read(bytes) { (reader) throws in #expect(reader.uint64(Self.cpuUsage) == 7) }
    }

    @Test func theErrorOfAFilterThatMatchedNothing() throws {
        var c = Porto_TContainer()
        c.spec.name = "missing"
        c.error.error = .containerDoesNotExist
        try Self.read(try c.serializedBytes()) { (reader) throws in
            #expect(reader.hasError)
            #expect(reader.errorCode == Int32(Porto_EError.containerDoesNotExist.rawValue))
        }
        var unset = Porto_TContainer()
        unset.error.msg = "no code"
        try Self.read(try unset.serializedBytes()) { (reader) throws in
            #expect(reader.hasError && reader.errorCode == nil, "no code: LostError to a decoder")
        }
    }

    static let malformed: [[UInt8]] = [
        [(2 << 3) | 2, 5, 1],                           // status longer than the container
        [(2 << 3) | 2, 2, 26 << 3, 0x80],               // truncated varint inside status
        [(2 << 3) | 2, 1, 7],                           // wire type 7
        [(2 << 3) | 2, 2, (5 << 3) | 4, 0],             // end of a group never started
        [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],  // 11-byte key
    ]

    @Test(arguments: malformed)
    func malformedFramingThrowsDecode(bytes: [UInt8]) {
        #expect(throws: PortoError.self) { try Self.read(bytes) { _ in () } }
        #expect((try? Porto_TContainer(serializedBytes: bytes)) == nil, "a decoder refuses it too")
    }

    @Test func invalidUTF8InAMapKeyThrowsWhenTheMapIsRead() throws {
        // status { io_read { map { key: "\xff" val: 1 } } }
        let entry: [UInt8] = [(1 << 3) | 2, 1, 0xFF, 2 << 3, 1]
        let map: [UInt8] = [(1 << 3) | 2, UInt8(entry.count)] + entry
        let status: [UInt8] = [0x82, 0x02, UInt8(map.count)] + map   // field 32, length-delimited
        let bytes: [UInt8] = [(2 << 3) | 2, UInt8(status.count)] + status
        #expect((try? Porto_TContainer(serializedBytes: bytes)) == nil)
        try Self.read(bytes) { (reader) throws in
            #expect(throws: PortoError.self) { _ = try Self.keys(reader, Self.ioRead) }
        }
    }

    static let utf8Cases: [([UInt8], Bool)] = [
        (Array("plain ascii".utf8), true), (Array("é€😀".utf8), true), ([0xC0, 0x80], false), ([0xED, 0xA0, 0x80], false),
        ([0xF4, 0x90, 0x80, 0x80], false), ([0xE2, 0x82], false), ([0xFF], false), ([0x00], true),
    ]

    @Test(arguments: utf8Cases)
    func utf8CheckAgreesWithTheStandardLibrary(bytes: [UInt8], valid: Bool) {
        #expect(bytes.withUnsafeBufferPointer { UTF8Check.isValid($0) } == valid)
        #expect((String(validating: bytes, as: UTF8.self) != nil) == valid)
    }

    /// Mostly ASCII with a multi-byte or invalid sequence anywhere (the ASCII run is checked
    /// eight bytes at a time): the same verdict as the standard library's.
    @Test func utf8CheckAgreesAtEveryOffset() {
        let pieces: [[UInt8]] = [[0xC3, 0xA9], [0xE2, 0x82, 0xAC], [0xF0, 0x9F, 0x98, 0x80], [0xFF], [0xC0, 0x80], [0xE2, 0x82], [0x80], [0xED, 0xA0, 0x80]]
        for piece in pieces {
            for before in 0..<20 {
                for after in [0, 1, 7, 8, 9] {
                    let bytes = [UInt8](repeating: 0x61, count: before) + piece + [UInt8](repeating: 0x62, count: after)
                    #expect(bytes.withUnsafeBufferPointer { UTF8Check.isValid($0) } == (String(validating: bytes, as: UTF8.self) != nil), "\(bytes)")
                }
            }
        }
    }
}
