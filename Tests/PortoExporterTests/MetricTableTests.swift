import Testing
@testable import PortoExporter

@Suite struct MetricTableTests {
    static var allFamilies: [MetricFamily] {
        ContainerMetrics.all.map(\.family) + [ContainerMetadataMetrics.info, ContainerMetadataMetrics.labels]
            + DaemonMetrics.all.map(\.family) + [DaemonMetrics.info, DaemonMetrics.requestDuration]
            + VolumeMetrics.all.map(\.family) + [VolumeMetrics.info, VolumeMetrics.state] + StorageMetrics.countFamilies
            + StorageMetrics.metaAll.map(\.family) + [ExporterMetrics.up, ExporterMetrics.collectorSuccess, ExporterMetrics.collectorDuration]
    }

    @Test func familyNamesAreUniqueAndDoNotClashWithSampleNames() {
        let names = Self.allFamilies.map(\.name)
        #expect(Set(names).count == names.count)
        // OpenMetrics: a counter `x_total` owns the names x, x_total, x_created; a histogram x_bucket, x_sum, x_count.
        var owned: [String: String] = [:]
        for family in Self.allFamilies {
            var reserved = [family.name]
            switch family.type {
            case .counter:
                let base = String(family.name.dropLast(6))
                reserved += [base, base + "_created"]
            case .histogram:
                reserved += ["_bucket", "_sum", "_count"].map { family.name + $0 }
            case .gauge:
                break
            }
            for name in reserved {
                #expect(owned[name] == nil, "\(name) is claimed by \(owned[name] ?? "") and \(family.name)")
                owned[name] = family.name
            }
        }
    }

    /// Names that dashboards and alerts rely on: renaming one breaks them.
    @Test(arguments: [
        ("cpu_usage", "porto_container_cpu_usage_seconds_total"),
        ("cpu_usage_system", "porto_container_cpu_usage_system_seconds_total"),
        ("cpu_wait", "porto_container_cpu_wait_seconds_total"),
        ("cpu_throttled", "porto_container_cpu_throttled_seconds_total"),
        ("memory_usage", "porto_container_memory_usage_bytes"),
        ("anon_usage", "porto_container_anon_usage_bytes"),
        ("cache_usage", "porto_container_cache_usage_bytes"),
        ("oom_kills", "porto_container_oom_kills_total"),
        ("io_read", "porto_container_io_read_bytes_total"),
        ("io_write", "porto_container_io_write_bytes_total"),
        ("io_ops", "porto_container_io_ops_total"),
        ("io_read_ops", "porto_container_io_read_ops_total"),
        ("io_write_ops", "porto_container_io_write_ops_total"),
        ("io_time", "porto_container_io_time_seconds_total"),
        ("io_read", "porto_container_io_disk_read_bytes_total"),
        ("io_write", "porto_container_io_stacked_device_write_bytes_total"),
        ("io_read", "porto_container_io_fs_read_bytes_total"),
        ("io_write_ops", "porto_container_io_disk_write_ops_total"),
        ("io_time", "porto_container_io_disk_time_seconds_total"),
        ("net_rx_bytes", "porto_container_net_interface_rx_bytes_total"),
        ("net_tx_drops", "porto_container_net_group_tx_drops_total"),
        ("net_rx_overlimits", "porto_container_net_rx_overlimits_total"),
        ("net_rx_bytes", "porto_container_net_rx_bytes_total"),
        ("net_tx_bytes", "porto_container_net_tx_bytes_total"),
        ("net_rx_packets", "porto_container_net_rx_packets_total"),
        ("net_tx_drops", "porto_container_net_tx_drops_total"),
        ("process_count", "porto_container_processes"),
        ("thread_count", "porto_container_threads"),
        ("state", "porto_container_state"),
        ("memory_limit", "porto_container_memory_limit_bytes"),
        ("memory_limit_total", "porto_container_memory_limit_total_bytes"),
        ("cpu_limit", "porto_container_cpu_limit_cores"),
        ("cpu_guarantee", "porto_container_cpu_guarantee_cores"),
        ("cpu_limit_total", "porto_container_cpu_limit_total_cores"),
        ("cpu_guarantee_total", "porto_container_cpu_guarantee_total_cores"),
        ("start_time", "porto_container_start_time_seconds"),
    ])
    func fixedContainerNames(property: String, name: String) throws {
        let metric = try #require(ContainerMetrics.all.first { $0.family.name == name })
        #expect(metric.property == property)
        // Totals carry `name` only; the per-device, per-interface and per-group splits one label more.
        let extra: String? = name.contains("_io_disk_") || name.contains("_io_stacked_device_") ? "device"
            : name.contains("_net_interface_") ? "interface" : name.contains("_net_group_") ? "group"
            : property == "state" ? "state" : nil
        #expect(metric.family.labelNames == ["name"] + (extra.map { [$0] } ?? []))
    }

    @Test func namingRule() {
        for m in ContainerMetrics.all {
            #expect(m.family.name.hasPrefix("porto_container_"))
            #expect((m.family.type == .counter) == m.family.name.hasSuffix("_total"), "\(m.family.name)")
            if m.conversion != .none { #expect(m.family.name.contains("_seconds")) }
            #expect(m.family.help.hasSuffix("."), "HELP of \(m.family.name) is a sentence")
        }
        for m in DaemonMetrics.all {
            #expect(m.family.name.hasPrefix("porto_daemon_"))
            #expect((m.family.type == .counter) == m.family.name.hasSuffix("_total"))
        }
        let daemonNames = Set(DaemonMetrics.all.map(\.family.name))
        for name in ["porto_daemon_errors_total", "porto_daemon_warnings_total", "porto_daemon_porto_starts_total",
                     "porto_daemon_start_time_seconds", "porto_daemon_master_start_time_seconds", "porto_daemon_containers", "porto_daemon_container_start_failed_total",
                     "porto_daemon_container_oom_total", "porto_daemon_request_completed_total", "porto_daemon_request_failed_total",
                     "porto_daemon_clients", "porto_daemon_volumes", "porto_daemon_log_bytes_total"] {
            #expect(daemonNames.contains(name), "\(name)")
        }
    }

    /// Never export env, env_secret, command lines or other spec strings.
    @Test func noSecretPropertiesAreRequested() {
        let collector = ContainersCollector(
            groups: Set(CollectorGroup.allCases), selection: ContainerSelection(), labels: LabelSelection(patterns: ["*"]))
        let forbidden: Set<String> = ["env", "env_secret", "command", "command_argv", "core_command", "stdout", "stderr", "root", "cwd", "hostname", "ip", "bind", "sysctl", "private"]
        #expect(Set(collector.properties).isDisjoint(with: forbidden))
    }

    /// Container properties porto-sim leaves out, as portod does on a mainline kernel: offstream
    /// knobs (NotSupported) and `io_time` (empty without the CFQ/BFQ schedulers), docs/porto.md §3.3.
    static let notOnMainline: Set<String> = [
        "cpu_wait", "cpu_burst_usage", "cpu_unconstrained_wait", "memory_guarantee", "memory_guarantee_total",
        "anon_limit", "anon_limit_total", "io_time",
    ]

    /// Every family of the metric tables appears in the golden files (a family without samples
    /// has no TYPE line), except those of the properties a mainline kernel does not give.
    @Test func everyTableFamilyIsInTheGoldenFiles() throws {
        let text = try #require(Files.read("\(TestPaths.fixtures)/golden-scrape.txt"))
        let openMetrics = try #require(Files.read("\(TestPaths.fixtures)/golden-scrape.om.txt"))
        let tables = ContainerMetrics.all.filter { !Self.notOnMainline.contains($0.property) }.map(\.family)
            + [ContainerMetadataMetrics.info, ContainerMetadataMetrics.labels]
            + DaemonMetrics.all.map(\.family) + [DaemonMetrics.info, DaemonMetrics.requestDuration]
            + VolumeMetrics.all.map(\.family) + [VolumeMetrics.info, VolumeMetrics.state]
            + StorageMetrics.countFamilies + StorageMetrics.metaAll.map(\.family)
        for family in tables {
            #expect(text.contains("\n# TYPE \(family.name) "), "\(family.name) is not in golden-scrape.txt")
            let omName = family.type == .counter ? String(family.name.dropLast(6)) : family.name
            #expect(openMetrics.contains("\n# TYPE \(omName) "), "\(family.name) is not in golden-scrape.om.txt")
        }
        for family in ContainerMetrics.all where Self.notOnMainline.contains(family.property) {
            #expect(!text.contains("\n# TYPE \(family.family.name) "), "\(family.family.name) is in the goldens: take it off the list")
        }
    }

    @Test func metricsMarkdownIsUpToDate() throws {
        let path = "\(TestPaths.root)/METRICS.md"
        let generated = MetricsCatalog.markdown()
        if TestPaths.updating {
            Files.write(path, generated)
        }
        let committed = try #require(Files.read(path), "METRICS.md is missing: UPDATE_GOLDEN=1 swift test, or porto-exporter --print-metrics-md > METRICS.md")
        #expect(committed == generated, "METRICS.md is stale: run `swift run porto-exporter --print-metrics-md > METRICS.md` (or UPDATE_GOLDEN=1 swift test)")
    }
}
