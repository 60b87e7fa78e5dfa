import PortoWire
import Testing
@testable import PortoExporter

@Suite struct ContainerMappingTests {
    typealias S = Porto_TContainerStatus

    /// "/" owns everything; "a" owns memory; "a/b" inherits memory from "a" (same numbers).
    static let nested: [Porto_TContainer] = [
        Make.container("/") { c in
            c.status.memoryUsage = 1000
            c.status.cpuUsage = 5_000_000_000
        },
        Make.container("a") { c in
            c.status.memoryUsage = 700
            c.status.cpuUsage = 3_000_000_000
            c.status.cgroups = Make.cgroups([("memory", "/m/porto%a", false), ("cpuacct", "/c/porto%a", false), ("blkio", "/b/porto%a", false)])
            c.status.ioRead = Make.uintMap([("sda", 10), ("fs", 11)])
        },
        Make.container("a/b") { c in
            c.status.memoryUsage = 700
            c.status.cpuUsage = 1_000_000_000
            c.status.cgroups = Make.cgroups([("memory", "/m/porto%a", true), ("cpuacct", "/c/porto%a/b", false), ("blkio", "/b/porto%a", true)])
            c.status.ioRead = Make.uintMap([("sda", 10), ("fs", 11)])
        },
    ]

    @Test func ownershipFilterDropsInheritedControllers() {
        let lines = sampleLines(render(Self.nested, groups: [.cpu, .memory, .io]))
        #expect(lines.contains("porto_container_memory_usage_bytes{name=\"a\"} 700"))
        #expect(!lines.contains { $0.hasPrefix("porto_container_memory_usage_bytes{name=\"a/b\"}") })
        #expect(lines.contains("porto_container_cpu_usage_seconds_total{name=\"a/b\"} 1"))
        // io: disk keys need blkio (inherited by a/b), fs needs memory (inherited too)
        #expect(lines.contains("porto_container_io_read_bytes_total{name=\"a\"} 10"))
        #expect(lines.contains("porto_container_io_disk_read_bytes_total{name=\"a\",device=\"sda\"} 10"))
        #expect(lines.contains("porto_container_io_fs_read_bytes_total{name=\"a\"} 11"))
        #expect(!lines.contains { $0.hasPrefix("porto_container_io_") && $0.contains("{name=\"a/b\"") })
        #expect(lines.contains("porto_container_memory_usage_bytes{name=\"/\"} 1000"))
    }

    /// Which container holds each controller's numbers: the container itself or the ancestor whose
    /// cgroup it reads (from the cgroup path).
    @Test func controllerOwnersAreExported() {
        let lines = sampleLines(render(Self.nested, groups: [.state])).filter { $0.hasPrefix("porto_container_controller_owner") }
        #expect(lines.contains("porto_container_controller_owner{name=\"a/b\",controller=\"memory\",owner=\"a\"} 1"))
        #expect(lines.contains("porto_container_controller_owner{name=\"a/b\",controller=\"cpuacct\",owner=\"a/b\"} 1"))
        #expect(lines.contains("porto_container_controller_owner{name=\"a\",controller=\"blkio\",owner=\"a\"} 1"))
        #expect(lines.count == 6)
    }

    /// A failed start: a label-free 0/1 and the error's name, never its message (it can hold the
    /// command line); on the Get path the same from the "Name:(message)" string.
    @Test func startErrorGivesTheErrorNameOnly() {
        var failed = Make.container("a") { c in
            var error = Porto_TError()
            error.error = .invalidCommand
            error.msg = "No such file or directory: /bin/secret --token=abc"
            c.status.startError = error
        }
        let ok = Make.container("b") { c in c.status.state = "running" }
        let text = render([failed, ok], groups: [.state])
        #expect(text.contains("porto_container_start_failed{name=\"a\"} 1\n"))
        #expect(text.contains("porto_container_start_failed{name=\"b\"} 0\n"))
        #expect(text.contains("porto_container_start_error_info{name=\"a\",error=\"InvalidCommand\"} 1\n"))
        #expect(!text.contains("secret"))
        failed = Porto_TContainer()
        LegacyContainerReader.decode(property: "start_error", value: "Permission:(root only: /bin/secret)", into: &failed)
        #expect(failed.status.startError.error == .permission)
        #expect(failed.status.startError.msg.isEmpty)
    }

    @Test func networkFollowsTheNamespace() {
        let containers = [
            Make.container("/") { $0.status.netRxBytes = Make.uintMap([("eth0", 1), ("group default", 1), ("SockDiag", 2), ("Uplink", 1)]) },
            Make.container("host") { c in  // inherits the host netns: its own sockets (sock-diag)
                c.spec.net = Make.net("inherited", inherited: true)
                c.status.netRxBytes = Make.uintMap([("Uplink", 2), ("Latency", 99)])
            },
            Make.container("vm") { c in  // own netns
                c.spec.net = Make.net("L3")
                c.status.netRxBytes = Make.uintMap([("Uplink", 3), ("eth0", 3)])
            },
            Make.container("vm/job") { c in  // inherits vm's netns: vm's device counters
                c.spec.net = Make.net("inherited", inherited: true)
                c.status.netRxBytes = Make.uintMap([("eth0", 3)])
            },
            Make.container("vm/job/x") { c in
                c.spec.net = Make.net("inherited")
                c.status.netRxBytes = Make.uintMap([("eth0", 3)])
            },
        ]
        let lines = sampleLines(render(containers, groups: [.net])).filter { $0.hasPrefix("porto_container_net_") && $0.contains("rx_bytes") }
        #expect(lines == [
            "porto_container_net_group_rx_bytes_total{name=\"/\",group=\"default\"} 1",
            "porto_container_net_interface_rx_bytes_total{name=\"/\",interface=\"eth0\"} 1",
            "porto_container_net_interface_rx_bytes_total{name=\"vm\",interface=\"eth0\"} 3",
            "porto_container_net_rx_bytes_total{name=\"/\"} 1",
            "porto_container_net_rx_bytes_total{name=\"host\"} 2",
            "porto_container_net_rx_bytes_total{name=\"vm\"} 3",
        ])
    }

    @Test func writebackIsAGaugeAndKeysAppearOnce() {
        let containers = [Make.container("/") { c in
            c.status.ioWrite = Make.uintMap([("sda", 5), ("total_writeback", 7), ("sda", 6)])
        }]
        let text = render(containers, groups: [.io])
        #expect(sampleLines(text) == [
            "porto_container_info{name=\"/\",parent=\"\",level=\"0\"} 1",
            "porto_container_io_disk_write_bytes_total{name=\"/\",device=\"sda\"} 5",
            "porto_container_io_write_bytes_total{name=\"/\"} 5",
            "porto_container_io_writeback_bytes{name=\"/\"} 7",
        ])
        #expect(ExpositionValidator.check(text, format: .text).problems.isEmpty)
    }

    @Test func stateSeriesAndUnits() {
        let containers = [Make.container("a") { c in
            c.status.state = "dead"
            c.status.exitCode = -9
            c.status.oomKilled = true
            c.status.startTime = 1_700_000_000
            c.status.cpuUsage = UInt64.max
            c.status.cpuPressure = Make.uintMap([("some", 1_500_000), ("full", 0)])
            c.status.cpuLimitTotal = 2.5
            c.spec.cpuLimit = 0
            c.spec.respawnCount = 3
            c.status.creationTime = 1_600_000_000
            c.status.cgroups = Make.cgroups([("cpuacct", "/c/a", false)])
        }]
        #expect(!render(containers, format: .openMetrics).contains("_created"), "no _created by default")
        let lines = sampleLines(render(containers, format: .openMetrics, createdSamples: true))
        #expect(lines.contains("porto_container_state{name=\"a\",state=\"dead\"} 1"))
        #expect(lines.contains("porto_container_state{name=\"a\",state=\"running\"} 0"))
        #expect(lines.filter { $0.hasPrefix("porto_container_state{") }.count == ContainerMetrics.states.count)
        #expect(lines.contains("porto_container_exit_code{name=\"a\"} -9"))
        #expect(lines.contains("porto_container_oom_killed{name=\"a\"} 1"))
        #expect(lines.contains("porto_container_cpu_usage_seconds_total{name=\"a\"} 18446744073.709551615"))
        // Seen first after 3 respawns: when its cgroups were made is unknown, so no _created.
        #expect(!lines.contains { $0.hasPrefix("porto_container_cpu_usage_seconds_created") })
        #expect(lines.contains("porto_container_cpu_pressure_seconds_total{name=\"a\",kind=\"some\"} 1.5"))
        #expect(lines.contains("porto_container_cpu_limit_total_cores{name=\"a\"} 2.5"))
        #expect(lines.contains("porto_container_cpu_limit_cores{name=\"a\"} 0"))
        #expect(lines.contains("porto_container_respawn_count_total{name=\"a\"} 3"))
        #expect(lines.contains("porto_container_respawn_count_created{name=\"a\"} 1600000000"))
        #expect(lines.contains("porto_container_start_time_seconds{name=\"a\"} 1700000000"))
    }

    @Test func unknownStateIsStillReported() {
        let lines = sampleLines(render([Make.container("a") { $0.status.state = "destroyed" }], groups: [.state]))
        #expect(lines.contains("porto_container_state{name=\"a\",state=\"destroyed\"} 1"))
    }

    @Test func missingValuesDropOnlyThatSample() {
        let containers = [
            Make.container("a") { $0.status.memoryUsage = 1 },
            Make.container("b") { $0.status.cacheUsage = 2 },
        ]
        let lines = sampleLines(render(containers, groups: [.memory]))
        #expect(lines.contains("porto_container_memory_usage_bytes{name=\"a\"} 1"))
        #expect(lines.contains("porto_container_cache_usage_bytes{name=\"b\"} 2"))
        #expect(!lines.contains { $0.hasPrefix("porto_container_cache_usage_bytes{name=\"a\"}") })
    }

    @Test func duplicateContainersAndFilterErrorsAreSkipped() {
        let containers = [
            Make.container("a") { $0.status.memoryUsage = 1 },
            Make.container("a") { $0.status.memoryUsage = 2 },
            Make.container("zzz") { c in
                c.error.error = .containerDoesNotExist
            },
        ]
        let text = render(containers, groups: [.memory])
        #expect(ExpositionValidator.check(text, format: .text).problems.isEmpty)
        #expect(sampleLines(text).filter { $0.hasPrefix("porto_container_memory_usage_bytes") } == ["porto_container_memory_usage_bytes{name=\"a\"} 1"])
        #expect(!text.contains("zzz"))
    }

    @Test func includeExcludeAndMaxDepth() {
        let names = ["/", "a", "a/b", "a/b/c", "b", "web-1", "web-1/x"]
        let containers = names.map { n in Make.container(n) { $0.status.memoryUsage = 1 } }
        func selected(_ s: ContainerSelection) -> [String] {
            sampleLines(render(containers, groups: [.memory], selection: s))
                .filter { $0.hasPrefix("porto_container_memory_usage_bytes") }
                .map { String($0.split(separator: "\"")[1]) }
        }
        #expect(selected(ContainerSelection()) == names)
        #expect(selected(ContainerSelection(maxDepth: 1)) == ["/", "a", "b", "web-1"])
        #expect(selected(ContainerSelection(maxDepth: 0)) == ["/"])
        #expect(selected(ContainerSelection(include: ["*"])) == ["a", "b", "web-1"])
        #expect(selected(ContainerSelection(include: ["a***"])) == ["a", "a/b", "a/b/c"])
        #expect(selected(ContainerSelection(include: ["a/*"])) == ["a/b"])
        #expect(selected(ContainerSelection(include: ["***"], exclude: ["web-*", "***/c"])) == ["/", "a", "a/b", "b", "web-1/x"])
        #expect(selected(ContainerSelection(include: ["/", "web-?"])) == ["/", "web-1"])
    }

    @Test func labelAllowListSanitizedAndCollisionsResolved() {
        func labels(_ pairs: [(String, String)]) -> Porto_TStringMap {
            var m = Porto_TStringMap()
            m.map = pairs.map { k, v in
                var e = Porto_TStringMap.TStringMapEntry()
                e.key = k
                e.val = v
                return e
            }
            return m
        }
        let containers = [
            Make.container("a") { $0.spec.labels = labels([("INFRA.team", "db"), ("SECRET.token", "hunter2"), ("INFRA.x-y", "1"), ("INFRA.x_y", "2")]) },
            Make.container("b") { $0.spec.labels = labels([("SECRET.token", "hunter2")]) },
        ]
        let text = render(containers, groups: [], labels: LabelSelection(patterns: ["INFRA.*"]))
        #expect(sampleLines(text).filter { $0.hasPrefix("porto_container_labels") } == [
            "porto_container_labels{name=\"a\",label_INFRA_team=\"db\",label_INFRA_x_y=\"1\",label_INFRA_x_y_2=\"2\"} 1",
        ])
        #expect(!text.contains("hunter2"))
        let exact = render(containers, groups: [], labels: LabelSelection(patterns: ["INFRA.team"]))
        #expect(sampleLines(exact).filter { $0.hasPrefix("porto_container_labels") } == ["porto_container_labels{name=\"a\",label_INFRA_team=\"db\"} 1"])
        #expect(!render(containers, groups: []).contains("porto_container_labels"))
        #expect(LabelSelection.sanitize("A.b@c:d-e") == "label_A_b_c_d_e")
    }

    @Test func secretsInTheSpecNeverReachTheOutput() {
        let c = Make.container("a") { c in
            c.spec.command = "run --password=SECRET1"
            var v = Porto_TContainerEnvVar()
            v.name = "TOKEN"
            v.value = "SECRET2"
            c.spec.env.var = [v]
            c.spec.envSecret.var = [v]
            c.status.memoryUsage = 1
        }
        let text = render([c], groups: Set(CollectorGroup.allCases), labels: LabelSelection(patterns: ["*"]))
        #expect(!text.contains("SECRET"))
    }

    static let awkwardNames = ["a\"b", "back\\slash", "new\nline", "a/b:c@d.e-f_g", "x\\\"\n"]

    @Test(arguments: awkwardNames)
    func awkwardContainerNamesAreEscaped(name: String) {
        let text = render([Make.container(name) { $0.status.memoryUsage = 1 }], groups: [.memory])
        let checked = ExpositionValidator.check(text, format: .text)
        #expect(checked.problems.isEmpty)
        #expect(checked.samples.allSatisfy { $0.labels.first?.value == name })
    }

    /// The network ownership worked out in the containers' order (ancestors looked up only for
    /// inherited namespaces) is the reading of every container by name, repeated names included.
    @Test func netOwnershipInOrderIsTheReadingByName() {
        var seed: UInt64 = 0x2545_F491_4F6C_DD1D
        func next(_ n: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(n))
        }
        let modes: [ContainersCollector.NetMode] = [.unknown, .inherited, .inherited, .host, .own]
        for _ in 0..<500 {
            var names: Set<String> = ["/"]
            for _ in 0..<(1 + next(30)) {
                let depth = 1 + next(3)
                names.insert((0..<depth).map { _ in ["a", "b", "a-b", "c"][next(4)] }.joined(separator: "/"))
            }
            var containers = names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { (name: $0, mode: modes[next(modes.count)]) }
            if next(4) == 0 {
                let i = next(containers.count)
                containers.insert((containers[i].name, modes[next(modes.count)]), at: i + 1)
            }
            #expect(ContainersCollector.netOwnershipInOrder(containers) == ContainersCollector.netOwnershipByName(containers), "\(containers)")
        }
    }
}
