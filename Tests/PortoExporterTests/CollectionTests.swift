import PortoWire
import Testing
@testable import PortoExporter

@Suite struct CollectionTests {
    static func fixedClock() -> @Sendable () -> ContinuousClock.Instant {
        let instant = ContinuousClock.now
        return { instant }
    }

    static func lcbHost(_ request: Porto_TPortoRequest) throws(PortoError) -> Porto_TPortoResponse {
        if request.hasGetSystem {
            return .ok { r in
                r.getSystem.portoVersion = "5.3.59"
                r.getSystem.requestCompleted = 100
                r.getSystem.requestLonger1S = 10
                r.getSystem.requestLonger3S = 4
                r.getSystem.requestLonger30S = 1
                r.getSystem.requestLonger5M = 0
                r.getSystem.errors = UInt64.max
            }
        }
        if request.hasListContainersBy {
            return .ok { r in
                r.listContainersBy.containers = [Make.container("/") { $0.status.memoryUsage = 5 }]
            }
        }
        if request.hasGetVolume || request.hasListLayers || request.hasListStorages {
            return .ok { _ in }
        }
        if request.hasGet, request.get.variable == ["memory.stat"] {
            return .ok { r in
                r.get = PortoWireGetResponse.make(request.get.name.map { ($0, [("memory.stat", Self.memoryStat)]) })
            }
        }
        if request.hasGet, !request.get.name.contains("***") {
            // The slower groups of named containers: none has values.
            return .ok { r in r.get = PortoWireGetResponse.make(request.get.name.map { ($0, []) }) }
        }
        throw PortoError.porto(.invalidMethod, message: "invalid RPC method")
    }

    /// A cgroup v1 memory.stat of "/" (usage 5 in ListContainersBy).
    static let memoryStat = """
        cache 3
        rss 2
        total_cache 3
        total_rss 2
        total_shmem 0
        total_pgpgin 9
        total_pgpgout 7
        total_pgfault 20
        total_pgmajfault 1
        total_inactive_anon 1
        total_active_anon 1
        total_inactive_file 1
        total_active_file 2
        total_unevictable 0

        """

    @Test func disabledGroupsAreNotRequested() throws {
        let transport = FakeTransport(answer: Self.lcbHost)
        var config = CollectionConfiguration(groups: [.memory])
        let collection = CollectorSet(configuration: config, transport: transport, now: Self.fixedClock())
        #expect(collection.collectorNames == ["containers"])
        collection.collect(into: ExpositionWriter(format: .text), deadline: .now + .seconds(5))
        // ListProperties (once per connection; this portod cannot answer it, so nothing is dropped),
        // then the containers, then memory.stat of the memory owners.
        #expect(transport.methods == ["ListProperties", "ListContainersBy", "Get"])
        let properties = transport.requests[1].listContainersBy.fieldOptions.properties
        #expect(properties == ["cgroups", "memory_usage", "oom_kills", "oom_kills_total"])
        // With _created on, the times it is taken from (and respawn_count, which tells a respawn).
        let withCreated = ContainersCollector(groups: [.memory], selection: ContainerSelection(), labels: LabelSelection(), createdSamples: true)
        #expect(withCreated.properties.contains("start_time") && withCreated.properties.contains("creation_time")
            && withCreated.properties.contains("respawn_count"))
        #expect(transport.requests[1].listContainersBy.filters.first?.name == "***")
        #expect(transport.requests[2].get.name == ["/"])

        config.groups = [.daemon]
        let daemonOnly = FakeTransport(answer: Self.lcbHost)
        CollectorSet(configuration: config, transport: daemonOnly).collect(into: ExpositionWriter(format: .text), deadline: .now + .seconds(5))
        #expect(daemonOnly.methods == ["GetSystem"])
    }

    @Test func daemonHistogramAndExactCounters() {
        let writer = ExpositionWriter(format: .text)
        let collection = CollectorSet(configuration: CollectionConfiguration(groups: [.daemon]), transport: FakeTransport(answer: Self.lcbHost), now: Self.fixedClock())
        let report = collection.collect(into: writer, deadline: .now + .seconds(5))
        #expect(report.up && report.success)
        let text = String(decoding: writer.finish(), as: UTF8.self)
        #expect(text.contains("""
            porto_daemon_request_duration_seconds_bucket{le="1"} 90
            porto_daemon_request_duration_seconds_bucket{le="3"} 96
            porto_daemon_request_duration_seconds_bucket{le="30"} 99
            porto_daemon_request_duration_seconds_bucket{le="300"} 100
            porto_daemon_request_duration_seconds_bucket{le="+Inf"} 100
            """))
        #expect(text.contains("porto_daemon_errors_total 18446744073709551615\n"))
        #expect(text.contains("porto_daemon_info{version=\"5.3.59\",revision=\"\",kernel_version=\"\"} 1\n"))
        #expect(!text.contains("porto_daemon_warnings_total"))  // not sent: not exported
        #expect(text.contains("porto_exporter_collector_success{collector=\"daemon\"} 1\n"))
        #expect(text.contains("porto_exporter_collector_duration_seconds{collector=\"daemon\"} 0\n"))
        #expect(text.contains("porto_up 1\n"))
    }

    @Test func fallsBackToGetOnInvalidMethodAndRemembersIt() {
        let transport = FakeTransport { request throws(PortoError) in
            if request.hasListContainersBy { throw PortoError.porto(.invalidMethod, message: "invalid RPC method") }
            if request.hasGet {
                return .ok { r in
                    r.get = PortoWireGetResponse.make([("/", [("memory_usage", "5")])])
                }
            }
            return try Self.lcbHost(request)
        }
        let collection = CollectorSet(configuration: CollectionConfiguration(groups: [.memory, .state]), transport: transport, now: Self.fixedClock())
        for _ in 0..<2 {
            let writer = ExpositionWriter(format: .text)
            collection.collect(into: writer, deadline: .now + .seconds(5))
            #expect(String(decoding: writer.finish(), as: UTF8.self).contains("porto_container_memory_usage_bytes{name=\"/\"} 5\n"))
        }
        #expect(transport.methods == ["ListProperties", "ListContainersBy", "Get", "Get"])
        #expect(transport.requests[2].get.name == ["***", "/"])
        #expect(transport.requests[2].get.variable.contains("start_time[raw]"))
    }

    @Test func unreachablePortodGivesPortoUpZero() {
        let transport = FakeTransport { _ throws(PortoError) in
            throw PortoError.socket(.unreachable, message: "connect /nonexistent: No such file or directory")
        }
        let writer = ExpositionWriter(format: .text)
        let report = CollectorSet(configuration: CollectionConfiguration(), transport: transport, now: Self.fixedClock())
            .collect(into: writer, deadline: .now + .seconds(5))
        #expect(!report.up)
        #expect(report.connectionError != nil)
        let text = String(decoding: writer.finish(), as: UTF8.self)
        #expect(text.contains("porto_up 0\n"))
        #expect(text.contains("porto_exporter_collector_success{collector=\"containers\"} 0\n"))
        #expect(ExpositionValidator.check(text, format: .text).problems.isEmpty)
    }

    @Test func deadlinePassedSendsNothing() {
        let transport = FakeTransport(answer: Self.lcbHost)
        let report = CollectorSet(configuration: CollectionConfiguration(), transport: transport)
            .collect(into: ExpositionWriter(format: .text), deadline: .now - .seconds(1))
        #expect(transport.methods.isEmpty)
        #expect(!report.success)
    }
}

@Suite struct CollectionSnapshotTests {
    @Test(arguments: ExpositionFormat.allCases)
    func snapshotMergesSelfMetricsSortedInEitherFormat(format: ExpositionFormat) {
        let transport = FakeTransport(answer: CollectionTests.lcbHost)
        let collection = CollectorSet(configuration: CollectionConfiguration(groups: [.daemon, .memory]), transport: transport)
        let selfMetrics = SelfMetrics(exporterMetrics: true)
        selfMetrics.observe(method: "GetSystem", seconds: 0.001)
        let snapshot = CollectionSnapshot(collection: collection, deadline: .now + .seconds(5), selfMetrics: selfMetrics)
        #expect(snapshot.reachedPorto)
        var bytes: [UInt8] = []
        snapshot.write(format) { bytes.append(contentsOf: $0) }
        let text = String(decoding: bytes, as: UTF8.self)
        let checked = ExpositionValidator.check(text, format: format)
        #expect(checked.problems.isEmpty, "\(checked.problems)")
        #expect(text.contains("porto_up 1\n"))
        #expect(text.contains("porto_exporter_build_info{"))
        #expect(text.contains("porto_container_memory_usage_bytes{name=\"/\"} 5\n"))
        // rendered twice: the same bytes (the collection is not consumed by rendering)
        var again: [UInt8] = []
        snapshot.write(format) { again.append(contentsOf: $0) }
        #expect(again.count > 0)
        #expect(transport.methods == ["GetSystem", "ListProperties", "ListContainersBy", "Get"])
    }

    @Test func timedOutSnapshotSaysPortoIsDown() {
        let collection = CollectorSet(configuration: CollectionConfiguration(), transport: FakeTransport(answer: CollectionTests.lcbHost))
        let snapshot = CollectionSnapshot(timedOut: collection, selfMetrics: nil)
        var bytes: [UInt8] = []
        snapshot.write(.text) { bytes.append(contentsOf: $0) }
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(!snapshot.reachedPorto)
        #expect(text.contains("porto_up 0\n"))
        #expect(text.contains("porto_exporter_collector_success{collector=\"containers\"} 0\n"))
    }
}
