import PortoSim
import PortoWire
import Synchronization
import Testing
@testable import PortoExporter

/// A transport over porto-sim that records every request and may rewrite answers.
final class RewritingTransport: PortoTransport {
    let host: SimHost
    let rewrite: @Sendable (Porto_TPortoRequest, inout Porto_TPortoResponse) -> Void
    private let asked = Mutex<[Porto_TPortoRequest]>([])

    init(_ host: SimHost, rewrite: @escaping @Sendable (Porto_TPortoRequest, inout Porto_TPortoResponse) -> Void = { _, _ in }) {
        self.host = host
        self.rewrite = rewrite
    }

    var requests: [Porto_TPortoRequest] { asked.withLock { $0 } }
    var methods: [String] { requests.map(\.methodName) }
    /// The Gets of `memory.stat`.
    var memoryStatGets: [Porto_TGetRequest] { requests.filter { $0.get.variable == ["memory.stat"] }.map(\.get) }

    func call(_ request: Porto_TPortoRequest, timeout: Duration?) throws(PortoError) -> Porto_TPortoResponse {
        asked.withLock { $0.append(request) }
        guard var response = host.respond(to: request) else {
            throw PortoError.socket(.closed, message: "portod closed the connection")
        }
        rewrite(request, &response)
        if response.error != .success { throw PortoError.porto(response.error, message: response.errorMsg) }
        return response
    }
}

/// What portod is asked per collection (docs/porto.md §7.1): memory through one raw memory.stat
/// Get, the costly groups at a slower cadence, only properties portod lists.
@Suite struct ContainersCostTests {
    static let epoch: UInt64 = 1_780_000_000
    static let memoryFamilies = [
        "porto_container_anon_usage_bytes", "porto_container_cache_usage_bytes", "porto_container_shmem_usage_bytes",
        "porto_container_mlock_usage_bytes", "porto_container_minor_faults_total", "porto_container_major_faults_total",
        "porto_container_memory_reclaimed_bytes_total",
    ]

    static func host(legacy: Bool = false, cgroupV2: Bool = false, unknown: Set<String> = []) -> SimHost {
        SimHost(options: SimOptions(containers: 50, seed: 1, legacy: legacy, cgroupV2: cgroupV2, unknownProperties: unknown,
                                    clock: .fixed(epochSeconds: epoch)))
    }

    static func collect(_ collection: CollectorSet) -> String {
        let writer = ExpositionWriter(format: .text)
        let report = collection.collect(into: writer, deadline: .now + .seconds(60))
        #expect(report.success, "\(report.results.filter { $0.error != nil }.map { "\($0.collector): \($0.error!)" })")
        return String(decoding: writer.finish(), as: UTF8.self)
    }

    static func collection(_ transport: any PortoTransport, groups: Set<CollectorGroup> = [.memory]) -> CollectorSet {
        let instant = ContinuousClock.now
        return CollectorSet(configuration: CollectionConfiguration(groups: groups), transport: transport, now: { instant })
    }

    /// Sample lines of `families`.
    static func lines(_ text: String, _ families: [String]) -> [String] {
        sampleLines(text).filter { line in families.contains { line.hasPrefix($0 + "{") } }
    }

    /// The 7 derived metrics from memory.stat are those of the derived properties (read by the
    /// Get path of a portod without ListContainersBy), on both cgroup versions; only "/" and
    /// the memory owners are asked.
    @Test(arguments: [false, true])
    func memoryStatGivesTheDerivedPropertiesValues(cgroupV2: Bool) throws {
        let transport = RewritingTransport(Self.host(cgroupV2: cgroupV2))
        let text = Self.collect(Self.collection(transport))
        let legacy = Self.collect(Self.collection(RewritingTransport(Self.host(legacy: true, cgroupV2: cgroupV2))))
        let fromStat = Self.lines(text, Self.memoryFamilies)
        #expect(fromStat.count > 100)
        #expect(fromStat == Self.lines(legacy, Self.memoryFamilies))
        #expect(!transport.requests[1].listContainersBy.fieldOptions.properties.contains("anon_usage"))
        let gets = transport.memoryStatGets
        #expect(gets.count == 1)
        let asked = try #require(gets.first).name
        #expect(asked.first == "/")
        // Exactly the containers with a memory_usage sample (owners with runtime values).
        let usage = Self.lines(text, ["porto_container_memory_usage_bytes"]).map { $0.split(separator: "\"")[1] }
        #expect(asked == usage.map(String.init))
        if cgroupV2 {
            #expect(text.contains("porto_container_memory_reclaimed_bytes_total{name=\"/\"} 0\n"))
        }
    }

    /// Working set = memory_usage − total_inactive_file (v2: inactive_file), for every container
    /// with a memory_usage sample, never a nested container reading its ancestor's cgroup.
    @Test(arguments: [false, true])
    func workingSetIsUsageLessInactiveFile(cgroupV2: Bool) throws {
        let host = Self.host(cgroupV2: cgroupV2)
        let text = Self.collect(Self.collection(RewritingTransport(host)))
        let usage = Self.lines(text, ["porto_container_memory_usage_bytes"])
        let workingSet = Self.lines(text, [MemoryStatMetrics.workingSet.name])
        #expect(workingSet.count == usage.count && usage.count > 20)
        for line in workingSet {
            let name = String(line.split(separator: "\"")[1])
            let stat = try #require(host.respond(to: Self.getRequest([name], ["memory.stat", "memory_usage"]))?.get.list.first)
            let file = stat.keyval[0].value.split(separator: "\n").map { $0.split(separator: " ") }
            let inactive = try #require(file.first { $0[0] == (cgroupV2 ? "inactive_file" : "total_inactive_file") }.map { UInt64($0[1])! })
            let used = try #require(UInt64(stat.keyval[1].value))
            #expect(line == "\(MemoryStatMetrics.workingSet.name){name=\"\(name)\"} \(used - inactive)")
        }
        // A container that inherits its memory cgroup has none.
        let nested = Self.collect(Self.collection(RewritingTransport(host), groups: [.memory, .state]))
        let inheriting = Self.lines(nested, ["porto_container_state"]).map { String($0.split(separator: "\"")[1]) }
            .filter { name in !usage.contains { $0.contains("name=\"\(name)\"") } }
        #expect(!inheriting.isEmpty)
        for name in inheriting { #expect(!nested.contains("\(MemoryStatMetrics.workingSet.name){name=\"\(name)\"}")) }
    }

    static func getRequest(_ names: [String], _ variables: [String]) -> Porto_TPortoRequest {
        var request = Porto_TPortoRequest()
        request.get.name = names
        request.get.variable = variables
        return request
    }

    /// A container whose memory.stat fails (not for being stopped) or lacks a key is read through
    /// the derived properties, with one Get for all such containers; the samples stay the same.
    @Test func unreadableFilesFallBackToTheDerivedProperties() throws {
        let transport = RewritingTransport(Self.host()) { request, response in
            guard request.get.variable == ["memory.stat"] else { return }
            for i in response.get.list.indices {
                switch response.get.list[i].name {
                case "db":
                    response.get.list[i].keyval[0].error = .invalidValue
                    response.get.list[i].keyval[0].errorMsg = "Unknown cgroup attribute: memory.stat"
                case "web":
                    let value = response.get.list[i].keyval[0].value
                    response.get.list[i].keyval[0].value = value.split(separator: "\n").filter { !$0.hasPrefix("total_shmem ") }.joined(separator: "\n")
                default: break
                }
            }
        }
        let text = Self.collect(Self.collection(transport))
        let plain = Self.collect(Self.collection(RewritingTransport(Self.host())))
        #expect(Self.lines(text, Self.memoryFamilies) == Self.lines(plain, Self.memoryFamilies))
        let derived = transport.requests.filter { $0.hasGet && $0.get.variable.contains("anon_usage") }
        #expect(derived.count == 1)
        #expect(derived.first?.get.name == ["db", "web"])
        #expect(!text.contains("\(MemoryStatMetrics.workingSet.name){name=\"db\"}"))
        #expect(text.contains("\(MemoryStatMetrics.workingSet.name){name=\"/\"}"))
    }

    /// A portod that refuses the memory.stat Get: the derived properties for this collection, and
    /// in ListContainersBy from the next one on (one request, not two).
    @Test func refusedMemoryStatMovesTheDerivedPropertiesIntoListContainersBy() throws {
        let transport = RewritingTransport(Self.host()) { request, response in
            if request.get.variable == ["memory.stat"] {
                response = Porto_TPortoResponse()
                response.error = .invalidProperty
                response.errorMsg = "Unknown property memory.stat"
            }
        }
        let collection = Self.collection(transport)
        let plain = Self.lines(Self.collect(Self.collection(RewritingTransport(Self.host()))), Self.memoryFamilies)
        #expect(Self.lines(Self.collect(collection), Self.memoryFamilies) == plain)
        #expect(transport.methods == ["ListProperties", "ListContainersBy", "Get", "Get"])
        #expect(Self.lines(Self.collect(collection), Self.memoryFamilies) == plain)
        #expect(transport.methods.count == 5)
        #expect(transport.requests[4].listContainersBy.fieldOptions.properties.contains("anon_usage"))
    }

    /// ListProperties once per connection; what portod does not list is never asked, in
    /// ListContainersBy or Get.
    @Test func propertiesPortodDoesNotListAreNotAsked() throws {
        let unknown: Set<String> = ["cpu_pressure", "io_read_ops", "thread_count", "cpu_usage_system"]
        let transport = RewritingTransport(Self.host(unknown: unknown))
        let collection = Self.collection(transport, groups: CollectorGroup.defaults)
        let first = Self.collect(collection)
        _ = Self.collect(collection)
        #expect(transport.methods.filter { $0 == "ListProperties" }.count == 1)
        for request in transport.requests {
            let asked = Set(request.listContainersBy.fieldOptions.properties).union(request.get.variable)
            #expect(asked.isDisjoint(with: unknown), "\(request.methodName) asked \(asked.intersection(unknown))")
        }
        // The 7 a 5.3.59 on a mainline kernel does not list are not asked either.
        let lcb = Set(transport.requests.first { $0.hasListContainersBy }!.listContainersBy.fieldOptions.properties)
        #expect(lcb.isDisjoint(with: ["cpu_wait", "cpu_burst_usage", "memory_guarantee", "anon_limit"]))
        #expect(lcb.contains("cpu_usage"))
        #expect(!first.contains("porto_container_threads{") && first.contains("porto_container_processes{"))
    }

    /// process, io and pressure: everything in the first collection, then a quarter of the
    /// containers per collection, each read once every 4, the others' last values exported.
    @Test func slowerGroupsAreReadAQuarterPerCollection() throws {
        let transport = RewritingTransport(Self.host())
        let collection = Self.collection(transport, groups: [.process, .io, .pressure, .cpu])
        var texts: [String] = []
        for _ in 0..<5 { texts.append(Self.collect(collection)) }
        let slowGets = transport.requests.filter { $0.get.variable.contains("process_count") }.map(\.get.name)
        #expect(slowGets.count == 5)
        let all = Set(slowGets[0])
        #expect(all.count == 51 && all.contains("/"))
        // Collections 2-5 read each container once, in quarters of about a fourth.
        var seen: [String] = []
        for names in slowGets[1...] {
            #expect(names.count > 4 && names.count < 25, "\(names.count)")
            seen += names
        }
        #expect(seen.count == all.count && Set(seen) == all)
        // ListContainersBy asks none of them; every collection writes every container's values.
        let lcb = transport.requests.first { $0.hasListContainersBy }!.listContainersBy.fieldOptions.properties
        #expect(!lcb.contains("process_count") && !lcb.contains("io_read") && !lcb.contains("cpu_pressure") && lcb.contains("cpu_usage"))
        let families = ["porto_container_processes", "porto_container_io_read_bytes_total", "porto_container_cpu_pressure_seconds_total"]
        for text in texts.dropFirst() { #expect(Self.lines(text, families) == Self.lines(texts[0], families)) }
        #expect(texts[0].contains("porto_exporter_values_age_seconds{group=\"io\"} 0\n"))
        #expect(texts[0].contains("porto_exporter_values_age_seconds{group=\"process\"} 0\n"))
    }

    @Test func memoryStatFilesParse() throws {
        let v1 = try #require(MemoryStat("""
            cache 10
            total_cache 100
            total_inactive_anon 3
            total_active_anon 4
            total_unevictable 5
            total_swap 6
            total_inactive_file 7
            total_active_file 8
            total_shmem 9
            total_pgfault 30
            total_pgmajfault 11
            total_pgpgout 2

            """))
        func figures(_ m: MemoryStat) -> [UInt64] { [m.anon, m.cache, m.shmem, m.mlock, m.minorFaults, m.majorFaults, m.reclaimed, m.inactiveFile] }
        #expect(figures(v1) == [18, 15, 9, 5, 19, 11, 8192, 7])
        let v2 = try #require(MemoryStat("anon 1\nfile 9\nshmem 2\ninactive_file 3\nactive_file 4\nunevictable 5\npgfault 7\npgmajfault 6\n"))
        #expect(figures(v2) == [1, 7, 2, 5, 1, 6, 0, 3])
        #expect(v2.workingSet(usage: 10) == 7 && v2.workingSet(usage: 2) == 0)
        // A missing key, or a value that is no number: unusable.
        #expect(MemoryStat("total_inactive_anon 3\ntotal_active_anon 4\n") == nil)
        #expect(MemoryStat("anon x\nshmem 2\ninactive_file 3\nactive_file 4\nunevictable 5\npgfault 7\npgmajfault 6\n") == nil)
        #expect(MemoryStat("") == nil)
    }

    /// memory.stat read as bytes (ASCII without "\r") gives what reading it as Characters gives:
    /// the same texts with a line that is not ASCII (a key not read) go the Characters' way.
    @Test func memoryStatBytesReadAsCharacters() {
        let pool = [
            "total_inactive_anon 3", "total_active_anon 4", "total_unevictable 5", "total_swap 6", "total_inactive_file 7",
            "total_active_file 8", "total_shmem 9", "total_pgfault 30", "total_pgmajfault 11", "total_pgpgout 2", "cache 10",
            "anon 1", "shmem 2", "inactive_file 3", "active_file 4", "unevictable 5", "pgfault 7", "pgmajfault 6", "pgfault 1",
            "", "anon", "anon  5", "anon 5 ", "anon\t5", "total_shmem x", "total_shmem 18446744073709551616", "hierarchical_memory_limit 9",
            "total_pgpgout +2", "inactive_fil 3", "active_files 4", "a 1", "total_swap 007",
        ]
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(n))
        }
        var parsed = 0
        for _ in 0..<3000 {
            var lines = (0..<(1 + next(24))).map { _ in pool[next(pool.count)] }
            if next(3) == 0 {
                // Every line readable, one perhaps left out.
                lines = Array(pool[0..<19]) + ["", "hierarchical_memory_limit 9", "inactive_fil 3", "active_files 4", "a 1", "total_swap 007"]
                if next(2) == 0 { lines.remove(at: next(lines.count)) }
            }
            let text = lines.joined(separator: "\n") + (next(2) == 0 ? "\n" : "")
            let bytes = MemoryStat(text)
            #expect(bytes == MemoryStat(text + "\nnicht_ascii_é 1\n"), "\(text.debugDescription)")
            if bytes != nil { parsed += 1 }
        }
        #expect(parsed > 100)
        // The check eight bytes at a time, against one byte at a time.
        for _ in 0..<3000 {
            let bytes = (0..<next(40)).map { _ in UInt8(next(4) == 0 ? next(256) : 0x20 + next(0x5F)) }
            let expected = !bytes.contains { $0 >= 0x80 || $0 == 0x0D }
            #expect(bytes.withUnsafeBufferPointer { MemoryStat.isASCIIWithoutCR($0) } == expected, "\(bytes)")
        }
    }
}
