import PortoSim
import PortoWire
import Testing
@testable import PortoExporter

/// The values read after the ListContainersBy pass are written as ``StatusBytes`` straight from
/// `Get`'s strings and memory.stat's figures: what the collector writes from them is what it
/// writes from the `TContainer` ``LegacyContainerReader`` builds and SwiftProtobuf serialises.
@Suite struct StatusBytesTests {
    static let collector = ContainersCollector(groups: Set(CollectorGroup.allCases), selection: ContainerSelection(), labels: LabelSelection())

    static func entry(_ name: String, inherited: UInt8 = 0) -> ContainerPass.Entry {
        ContainerPass.Entry(name: name, labels: Labels(["name": name]), inherited: inherited, startTime: 1, created: nil, memoryUsage: 10)
    }

    /// What `writeLater` writes of `items`.
    static func text(_ metrics: [ContainerMetric], _ items: [(ContainerPass.Entry, [UInt8])]) -> String {
        let writer = ExpositionWriter(format: .openMetrics)
        collector.writeLater(metrics, items, into: writer)
        return String(decoding: writer.finish(), as: UTF8.self)
    }

    /// The legacy reading of one container of a Get answer, serialised.
    static func legacy(_ entry: Porto_TGetResponse.TContainerGetListResponse) -> [UInt8]? {
        var one = Porto_TGetResponse()
        one.list = [entry]
        return LegacyContainerReader.containers(from: one).first.map { ContainersCollector.encoded($0.status) }
    }

    static func keyval(_ variable: String, _ value: String?, error: Porto_EError? = nil) -> Porto_TGetResponse.TContainerGetValueResponse {
        var kv = Porto_TGetResponse.TContainerGetValueResponse()
        kv.variable = variable
        if let value { kv.value = value }
        if let error { kv.error = error }
        return kv
    }

    /// porto-sim's answer (120 containers) to the slower groups' Get of every container.
    static func slowGroupsAnswer(seed: UInt64) throws -> Porto_TPortoResponse {
        let host = SimHost(options: SimOptions(containers: 120, seed: seed, clock: .fixed(epochSeconds: 1_700_000_000)))
        let names = host.respond(to: collector.listContainersByRequest)!.listContainersBy.containers.map(\.spec.name)
        let variables = Array(Set(collector.slowMetrics.map(\.property))).sorted()
        return try #require(host.respond(to: ContainersCollector.getRequest(names, variables)))
    }

    @Test func slowGroupsOfPortoSimsAnswerAsTheLegacyReadingGivesThem() throws {
        let collector = Self.collector
        let response = try Self.slowGroupsAnswer(seed: 3)
        var scratch: [(key: Range<Int>, value: UInt64)] = []
        var fast: [(ContainerPass.Entry, [UInt8])] = []
        var slow: [(ContainerPass.Entry, [UInt8])] = []
        for (i, entry) in response.get.list.enumerated() {
            guard case .bytes(let bytes) = ContainersCollector.laterBytes(entry, &scratch) else {
                Issue.record("\(entry.name): not read as bytes")
                continue
            }
            let pass = Self.entry(entry.name, inherited: UInt8(i % 16))
            fast.append((pass, bytes))
            slow.append((pass, try #require(Self.legacy(entry))))
        }
        let text = Self.text(collector.slowMetrics, fast)
        #expect(text == Self.text(collector.slowMetrics, slow))
        for family in ["porto_container_io_read_bytes_total", "porto_container_processes", "porto_container_cpu_pressure_seconds_total"] {
            #expect(text.contains(family + "{"), "\(family)")
        }
    }

    /// The slower groups' values kept as ready samples (``KeptSamples``), read straight from the
    /// answer where they can be and through the table otherwise, add what `writeLater` writes of
    /// the values read, with the ownership and `_created` times given when added.
    @Test func keptSamplesAreWhatTheTableWrites() throws {
        let collector = Self.collector
        let plan = collector.slowMetrics.map(KeptSamples.Plan.init)  // the metrics outlive it: Self.collector holds them
        var response = try Self.slowGroupsAnswer(seed: 5)
        let odd: [[Porto_TGetResponse.TContainerGetValueResponse]] = [
            [Self.keyval("io_read", "é\"x: 1; sda: 2"), Self.keyval("process_count", "3"), Self.keyval("io_ops", "fs: 4; hw: 5")],
            [Self.keyval("io_read", "sda: 1; sdb: 2;"), Self.keyval("process_count", "12"), Self.keyval("thread_count", "x")],
            [Self.keyval("io_read", ""), Self.keyval("io_write", ";"), Self.keyval("io_ops", "a: 1; a: 2; ; b: 3")],
            [Self.keyval("io_read", "a: 1;x"), Self.keyval("io_write", "a:1"), Self.keyval("io_ops", "hw: 18446744073709551616")],
            [Self.keyval("io_read", "a: b: 1"), Self.keyval("io_write", "x; "), Self.keyval("process_count", "")],
            [Self.keyval("cpu_pressure", "some: 5; full: 2", error: .invalidState), Self.keyval("thread_count", nil)],
            [Self.keyval("cpu_pressure", "some: 5; full: 2", error: .success), Self.keyval("not_a_property", "1")],
            [Self.keyval("process_count", "007"), Self.keyval("io_read", "fs: 1; hw: 2; sda1: 3;;"), Self.keyval("io_read", "sda: 4")],
            [Self.keyval("process_count", "x"), Self.keyval("process_count", "4"), Self.keyval("io_time", "sd\\a: 5; md\n0: 6")],
            [Self.keyval("state", "running"), Self.keyval("thread_count", "9")],
        ]
        for (i, keyvals) in odd.enumerated() {
            var entry = Porto_TGetResponse.TContainerGetListResponse()
            entry.name = "odd\(i)"
            entry.keyval = keyvals
            response.get.list.append(entry)
        }
        let answer = try GetAnswer(try response.serializedBytes(partial: true))
        var scratch: [(key: Range<Int>, value: UInt64)] = []
        var keeper = ContainersCollector.SampleKeeper(collector.slowMetrics)
        let writer = ExpositionWriter(format: .openMetrics)
        var items: [(ContainerPass.Entry, [UInt8])] = []
        var direct = 0
        for (i, (entry, raw)) in zip(response.get.list, answer.entries).enumerated() {
            let bytes: [UInt8]
            switch ContainersCollector.laterBytes(entry, &scratch) {
            case .bytes(let b): bytes = b
            case .other: bytes = try #require(Self.legacy(entry))
            case .gone: continue
            }
            let kept: [UInt8]
            switch try keeper.direct(answer, raw) {
            case .samples(let samples):
                kept = samples
                direct += 1
            case .other: kept = keeper.samples(entry.name, bytes)
            case .gone:
                Issue.record("\(entry.name) gone")
                continue
            }
            let times = LaterTimes.Times(start: UInt64(100 + i), creation: i % 2 == 0 ? nil : 50, cgroup: UInt64(70 + i))
            let pass = ContainerPass.Entry(name: entry.name, labels: Labels(["name": entry.name]),
                                           inherited: entry.name.hasPrefix("odd") ? 0 : UInt8(i % 16), startTime: 1,
                                           created: i % 3 == 0 ? nil : times, memoryUsage: nil)
            items.append((pass, bytes))
            plan.withUnsafeBufferPointer { plan in
                KeptSamples.add(kept, plan: plan, inherited: pass.inherited, created: pass.created, labels: pass.labels, into: writer)
            }
        }
        let text = String(decoding: writer.finish(), as: UTF8.self)
        #expect(text == Self.text(collector.slowMetrics, items))
        #expect(direct > 120)
        #expect(text.contains("porto_container_io_read_bytes_created{"))
        #expect(text.contains("device=\"é\\\"x\""))
        #expect(text.contains("device=\"sd\\\\a\""))
    }

    @Test func oddValuesAreReadAsTheLegacyReadingReadsThem() throws {
        let cases: [[Porto_TGetResponse.TContainerGetValueResponse]] = [
            [Self.keyval("io_read", "sda: 1; sdb: 2;"), Self.keyval("process_count", "12"), Self.keyval("thread_count", "x")],
            [Self.keyval("io_read", ""), Self.keyval("io_write", ";"), Self.keyval("io_ops", "a: 1; a: 2; ; b: 3")],
            [Self.keyval("io_read", "a: 1;x"), Self.keyval("io_write", "a:1"), Self.keyval("io_ops", "hw: 18446744073709551616")],
            [Self.keyval("io_read", "a: b: 1"), Self.keyval("io_write", "x; "), Self.keyval("process_count", "")],
            [Self.keyval("cpu_pressure", "some: 5; full: 2", error: .invalidState), Self.keyval("thread_count", nil)],
            [Self.keyval("cpu_pressure", "some: 5; full: 2", error: .success), Self.keyval("not_a_property", "1")],
            [Self.keyval("process_count", "007"), Self.keyval("io_read", "fs: 1; hw: 2; sda1: 3;;")],
        ]
        var scratch: [(key: Range<Int>, value: UInt64)] = []
        for (i, keyvals) in cases.enumerated() {
            var entry = Porto_TGetResponse.TContainerGetListResponse()
            entry.name = "c\(i)"
            entry.keyval = keyvals
            guard case .bytes(let bytes) = ContainersCollector.laterBytes(entry, &scratch) else {
                Issue.record("case \(i): not read as bytes")
                continue
            }
            let pass = Self.entry(entry.name)
            let metrics = Self.collector.slowMetrics
            #expect(Self.text(metrics, [(pass, bytes)]) == Self.text(metrics, [(pass, try #require(Self.legacy(entry)))]), "case \(i)")
        }
    }

    @Test func whatTheBytesDoNotCoverIsLeftToTheLegacyReading() {
        var scratch: [(key: Range<Int>, value: UInt64)] = []
        func reading(_ keyvals: [Porto_TGetResponse.TContainerGetValueResponse]) -> ContainersCollector.LaterBytes {
            var entry = Porto_TGetResponse.TContainerGetListResponse()
            entry.name = "a"
            entry.keyval = keyvals
            return ContainersCollector.laterBytes(entry, &scratch)
        }
        func isOther(_ r: ContainersCollector.LaterBytes) -> Bool { if case .other = r { true } else { false } }
        #expect(isOther(reading([Self.keyval("io_read", "é: 1")])))                                      // not ASCII
        #expect(isOther(reading([Self.keyval("process_count", "1"), Self.keyval("process_count", "2")])))  // asked twice
        #expect(isOther(reading([Self.keyval("state", "running")])))
        #expect(isOther(reading([Self.keyval("start_time[raw]", "5")])))
        #expect(isOther(reading([Self.keyval("cpu_limit", "2c")])))                                      // not a uint64
        if case .gone = reading([Self.keyval("io_read", nil, error: .containerDoesNotExist)]) {} else { Issue.record("not gone") }
    }

    /// memory.stat's figures written straight from the file are what the table writes of them.
    @Test func memoryStatFiguresAreWhatTheTableWrites() throws {
        let collector = Self.collector
        let figures = collector.memoryStatMetrics.map { MemoryStat.statusProperties.firstIndex(of: $0.property) }
        var items: [(ContainerPass.Entry, [UInt8])] = []
        let writer = ExpositionWriter(format: .openMetrics)
        for i in 0..<40 {
            let stat = try #require(MemoryStat("anon \(i)\nshmem 2\ninactive_file \(3 * i)\nactive_file 4\nunevictable 5\npgfault \(700 + i)\npgmajfault 6\n"))
            let times = LaterTimes.Times(start: UInt64(100 + i), creation: i % 2 == 0 ? nil : 50, cgroup: UInt64(70 + i))
            let owner = ContainerPass.Entry(name: "c\(i)", labels: Labels(["name": "c\(i)"]), inherited: UInt8(i % 16), startTime: 1,
                                            created: i % 3 == 0 ? nil : times, memoryUsage: 10)
            items.append((owner, stat.statusBytes))
            collector.writeFigures(stat, of: owner, figures, into: writer)
        }
        let text = String(decoding: writer.finish(), as: UTF8.self)
        #expect(text == Self.text(collector.memoryStatMetrics, items))
        #expect(text.contains("porto_container_minor_faults_created{"))
    }

    @Test func memoryStatBytesAreTheStatusFields() throws {
        let stat = try #require(MemoryStat("anon 1\nfile 9\nshmem 2\ninactive_file 3\nactive_file 4\nunevictable 5\npgfault 700\npgmajfault 6\n"))
        let metrics = Self.collector.memoryStatMetrics
        #expect(metrics.count == 7)
        let pass = Self.entry("a")
        let text = Self.text(metrics, [(pass, stat.statusBytes)])
        #expect(text == Self.text(metrics, [(pass, ContainersCollector.encoded(stat.status))]))
        #expect(text.contains("porto_container_minor_faults_total{name=\"a\"} 694\n"))
    }

    @Test func asciiMapsSplitAsTheStringMapsDo() {
        let texts = ["", ";", ";;", "a: 1", "a: 1;", "a: 1; ", "a: 1; b: 22", "a: 1;x", "x; ", "a: b: 1", "a:1", "; a: 1",
                     "a: 1; ; b: 2", "k: 18446744073709551615", "k: 18446744073709551616", "a b: 3; c: 4;", "a: ", ": 1",
                     "a: 1;; b: 2", "a: 1\r\n; b: 2", "a: +1", "a: -0"]
        for text in texts {
            var entries: [(key: Range<Int>, value: UInt64)] = []
            var copy = text
            let fast = copy.withUTF8 { utf8 in
                LegacyValueParser.asciiUIntMap(utf8, into: &entries).map { ok in
                    ok ? entries.map { (String(decoding: UnsafeBufferPointer(rebasing: utf8[$0.key]), as: UTF8.self), $0.value) } : nil
                }
            }
            guard let fast else { Issue.record("\(text.debugDescription): not ASCII?"); continue }
            let slow = LegacyValueParser.uintMap(text)
            #expect(fast?.map(\.0) == slow?.map(\.key) && fast?.map(\.1) == slow?.map(\.value), "\(text.debugDescription)")
        }
    }
}
