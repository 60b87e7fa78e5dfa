/// METRICS.md, generated from the metric tables: `porto-exporter --print-metrics-md > METRICS.md`
/// (a test fails when the committed file differs; `UPDATE_GOLDEN=1 swift test` rewrites it).
public enum MetricsCatalog {
    public static func markdown() -> String {
        var md = """
        # porto-exporter metrics

        <!-- Generated from Sources/PortoExporter/Metrics by `porto-exporter --print-metrics-md`. Do not edit. -->

        Every metric the exporter can write, from the metric tables in `Sources/PortoExporter/Metrics/`.
        Names follow one rule: `porto_container_` (or `porto_daemon_`, `porto_volume_`) + the Porto property
        or field name + the base unit (`_seconds`, `_bytes`, `_cores`), + `_total` for counters. Units are
        converted exactly: nanoseconds and microseconds become seconds as exact decimals, and integer
        counters are written as integers (never rounded through float64).

        ## Collector groups

        Each group is switched with `--collector.<group>` / `--no-collector.<group>`. A disabled group's
        properties are not requested from portod at all.

        | group | default | what |
        |---|---|---|

        """
        for group in CollectorGroup.allCases {
            md += "| `\(group.rawValue)` | \(group.enabledByDefault ? "on" : "off") | \(group.summary) |\n"
        }
        md += """

        ## How containers are read

        * One `ListContainersBy` with filter `***` per collection, asking only for the properties of the
          enabled groups, plus `cgroups` (ownership filter), `net` (network namespace), `start_time`,
          `creation_time` and `respawn_count` (for `_created`, when on), and `labels` when
          `--container.labels` is given. Each
          container appears once, sorted by name; "/" is the host. Properties portod does not list
          (`ListProperties`, asked once per connection: older portods, or kernels without the feature)
          are not asked for, and their metrics are absent.
        * **Memory** (group `memory`): the seven properties portod derives from `memory.stat`
          (`anon_usage`, `cache_usage`, `shmem_usage`, `mlock_usage`, `minor_faults`, `major_faults`,
          `memory_reclaimed`) each make portod re-read and parse the whole file: 49 of the 130 ms portod
          spent on a scrape of 171 containers (docs/porto.md §7.1). Instead, one `Get` of the raw
          `memory.stat` of "/" and of every container that owns its memory cgroup (0.035 ms each)
          gives the same values by portod's formulas, on cgroup v1 (`total_*` keys) and v2, and
          `porto_container_memory_working_set_bytes`. Where the file cannot be read or lacks a key, those
          containers are read with one `Get` of the derived properties; when portod refuses the Get, the
          derived properties go into `ListContainersBy` until the connection is lost.
        * **Slower groups** (`process`, `io`, `pressure`): process and thread counts walk the freezer
          cgroup of every container (34 ms of those 130), the io properties read blkio files and
          memory.stat again (21 ms), the pressure ones (9 ms). Each container's values of these groups are
          read every 4th collection, a quarter of the containers per collection (by a hash of the name;
          all of them in the first collection, and a container new or restarted since is read at
          once), with one `Get`; in between the last values are exported again. At a 15 s scrape
          interval they are up to 45 s old: `porto_exporter_values_age_seconds{group}` gives the age of
          the oldest. Counters among them move in steps, so take `rate()` over at least 4 scrape
          intervals. A container stopped since its last read keeps its values until its next read.
          With this, portod spends about 0.2 ms per container per scrape instead of 0.77 (porto-sim's
          model of docs/porto.md §7.1, printed by `dev/bench-e2e.sh`).
        * A portod without ListContainersBy (InvalidMethod, before 5.0) is read with one
          `Get ["***", "/"]` of the same properties (times as `name[raw]`); the strings are parsed and give
          the same samples. The choice is kept until the connection is lost.
        * A value a container cannot give (stopped, not supported, unset) drops that sample only.
        * Every container series has `name`, the container's Porto name ("/" for the host).
        * `--container.include` / `--container.exclude` take Porto masks (`***` everything, `a***`
          prefix, `***b` suffix, otherwise a glob in which `*` does not cross `/`);
          `--container.max-depth N` keeps levels 0..N ("/" is 0).

        ### Nested containers: the double-count trap

        A nested container that does not own a cgroup controller reads its nearest ancestor's cgroup
        (docs/porto.md §4): `a/b` without its own memory cgroup reports `a`'s `memory_usage`. The exporter
        applies the **ownership filter**: a sample whose metric depends on a controller (column
        *ownership* below) is written only when the container owns that controller (its `cgroups`
        entry is not `inherited`; on the Get path, when its cgroup path differs from its parent's).
        Network samples are written for a container with its own network namespace or in the host's
        (where Porto reports the container's own sockets), and dropped when it inherits an ancestor's
        namespace (the ancestor's device counters).

        Values that remain are still **hierarchical**: a container's figures include its
        descendants'. Never add levels together: sum over `porto_container_info{level="1"}` children
        or read "/" for the host. `process_count` is recursive; `virtual_memory` is not.

        ## Container metrics

        | metric | type | unit | labels | Porto property | group | ownership | notes |
        |---|---|---|---|---|---|---|---|

        """
        for m in ContainerMetrics.all {
            let source = m.conversion.porto.isEmpty ? "`\(m.property)`" : "`\(m.property)` (\(m.conversion.porto))"
            let key = if case .key(let k) = m.keys { " key `\(k)`" } else { "" }
            md += row([
                "`\(m.family.name)`", m.family.type.rawValue, m.unit, labels(m.family.labelNames), source + key,
                m.group.rawValue, m.controller?.documentation ?? "—", notes(m),
            ])
        }
        md += row([
            "`\(MemoryStatMetrics.workingSet.name)`", "gauge", "bytes", labels(MemoryStatMetrics.workingSet.labelNames),
            "`memory_usage` − `total_inactive_file` of `memory.stat` (v2 `inactive_file`)", "memory", "memory",
            "As cAdvisor's `container_memory_working_set_bytes`; 0 when inactive file pages exceed the usage. Not on portods without ListContainersBy, nor where memory.stat could not be read.",
        ])
        md += row([
            "`\(ContainerMetadataMetrics.info.name)`", "gauge", "", labels(ContainerMetadataMetrics.info.labelNames),
            "the name", "always", "—", "Value 1. `parent` and `level` come from the name.",
        ])
        md += row([
            "`\(ContainerMetadataMetrics.labels.name)`", "gauge", "", "`name`, `label_<key>`…", "`labels`",
            "`--container.labels`", "—",
            "Value 1. Only keys allowed by `--container.labels=KEY,…` (exact keys or globs such as `INFRA.*`). A key becomes `label_` + the key with characters outside `[a-zA-Z0-9_]` replaced by `_` (`A.b` → `label_A_b`); when two keys of one container give the same name, in sorted key order the later ones get `_2`, `_3`, …",
        ])
        md += """

        ### What sums over a label mean

        portod puts summaries in the same maps as the devices they sum (docs/porto.md §3.3); the exporter
        gives each its own family, so that no sum over a label counts a byte twice:

        * **Disk IO.** `porto_container_io_read_bytes_total` (and `_write_bytes`, `_ops`, `_read_ops`,
          `_write_ops`, `_time_seconds`) is the container's total: portod's `hw` key, the sum over the
          physical disks sd\\*, nvme\\*, vd\\* (the exporter adds them up itself when `hw` is absent).
          `porto_container_io_disk_*{device}` are those disks: `sum without(device)` equals the total.
          Stacked devices (md\\*, dm-\\*, every other device key) are in
          `porto_container_io_stacked_device_*{device}`: their IO is counted again on the disks below
          them, so never add them to the disk families or the total. `porto_container_io_fs_*` is the
          memory cgroup's filesystem-level statistics (`fs` key, offstream kernels), a measure of its own
          that is not part of the disk total; `porto_container_io_writeback_bytes` is the
          `total_writeback` gauge.
        * **Network.** `porto_container_net_rx_bytes_total` (and the other `net_*_total`) is the
          container's total: the `Uplink` key, the devices that lead out of its network namespace (in
          the host namespace, the TCP traffic of its own sockets). `porto_container_net_interface_*{interface}`
          are the namespace's devices, exported for containers with their own namespace and "/":
          `sum without(interface)` equals the total when every device is an uplink (a container's own
          namespace: veth, L3, macvlan, ipvlan devices). On a host with bridges or the host ends of veth
          pairs, those devices carry the same traffic again: use the total. `porto_container_net_group_*{group}`
          are the `group X` keys (device groups, /etc/iproute2/group); each device is in one group, so
          their sum is the sum over the devices. Not exported: `SockDiag` on "/" (the socket traffic of
          the host-namespace containers, already in "/"'s device counters) and `Latency`.
        * **tc classes.** `net_bytes`, `net_packets`, `net_drops` and `net_overlimits` are not read:
          portod fills them from tc classes only with `network.enable_netcls_classid` (off by default
          since 5.0.31); without classes they repeat `net_tx_*` exactly.
        * `kind` (pressure `some`/`full`) and `state` are not sums: never add them up.

        Not exported: `env`, `env_secret`, `command`, `command_argv` and every other spec string; `hugetlb_usage`
        (ListContainersBy fills it only when it is 0, docs/porto.md §3.3); `time` (derived from `start_time`;
        on "/" the host uptime); `net_netstat`, `net_snmp`, `net_snmp6` (hundreds of keys); `io_limit` and
        other per-path limit maps; the `Latency` key of the net maps (milliseconds since the last socket
        statistics poll, a gauge that grows without bound for stopped containers); `net_bytes`,
        `net_packets`, `net_drops`, `net_overlimits` (above).

        `_created` (OpenMetrics only) is **off by default**, as in client_golang: Prometheus 2.x stores
        each `_created` sample as a series of its own (47% more series at 200 containers).
        `--web.enable-openmetrics-text-created-samples` turns it on for container counters, right across
        respawns (docs/porto.md §3.4): a stop and start resets cgroup and network counters, a respawn
        keeps the cgroups (their counters carry on) and recreates the network namespace. So the network
        counters' `_created` is `start_time`; the cgroup counters' is the start that made the cgroups,
        which does not move at a respawn (followed by the exporter from `start_time` and `respawn_count`;
        left out for a container first seen after respawns, until its next stop and start);
        `oom_kills_total` and `respawn_count` count since creation, so theirs is `creation_time`.

        ## Daemon metrics (GetSystem)

        | metric | type | unit | GetSystem field |
        |---|---|---|---|

        """
        for m in DaemonMetrics.all {
            md += row(["`\(m.family.name)`", m.family.type.rawValue, m.unit, "`\(m.field)`"])
        }
        md += row([
            "`\(DaemonMetrics.info.name)`", "gauge", "", "`porto_version`, `porto_revision`, `kernel_version` as labels `version`, `revision`, `kernel_version`; value 1",
        ])
        md += row([
            "`\(DaemonMetrics.requestDuration.name)`", "histogram", "seconds",
            "`request_completed`, `request_longer_1s`/`3s`/`30s`/`5m`",
        ])
        md += """

        The gauges `container_count`, `client_count`, `volume_count` and `network_count` are exported as
        `porto_daemon_containers`, `porto_daemon_clients`, `porto_daemon_volumes` and `porto_daemon_networks`:
        Prometheus reserves the `_count` suffix for histograms and summaries (promtool lint).

        Not exported: `frozen` (never set by any portod) and `porto_crash` (in the given schema only, never
        filled). Counters live in `/run/portod.stat`: they survive portod restarts until reboot, but
        `ClearStatistics` can reset them.

        ### portod request latency

        `porto_daemon_request_duration_seconds` is a histogram derived from portod's counters: the bucket
        `le="X"` (X = 1, 3, 30, 300) is `request_completed - request_longer_X` (requests that took at most
        X seconds from enqueue to finish), and `le="+Inf"` is `request_completed`. portod does not give the
        sum of request times, so there is no `_sum` and no `_count` (OpenMetrics does not allow `_count`
        without `_sum`): use the `+Inf` bucket as the count. Spec requests (ListContainersBy,
        CreateFromSpec, UpdateFromSpec) are not counted by portod.

        Fraction of requests slower than 1 second over 5 minutes, and a 99% "within 1 s" objective:

        ```promql
        1 - (
            rate(porto_daemon_request_duration_seconds_bucket{le="1"}[5m])
          / ignoring(le) rate(porto_daemon_request_duration_seconds_bucket{le="+Inf"}[5m])
        )
        # alert when more than 1% of requests took over 1 s:
        (1 - rate(porto_daemon_request_duration_seconds_bucket{le="1"}[5m])
           / ignoring(le) rate(porto_daemon_request_duration_seconds_bucket{le="+Inf"}[5m])) > 0.01
        ```

        `histogram_quantile(0.99, rate(porto_daemon_request_duration_seconds_bucket[5m]))` works too, but
        with buckets at 1, 3, 30 and 300 s it only says in which bucket the quantile lies.

        ## Volumes, layers, storages

        | metric | type | labels | source |
        |---|---|---|---|

        """
        for metric in VolumeMetrics.all {
            md += row(["`\(metric.family.name)`", metric.family.type.rawValue, labels(metric.family.labelNames), "GetVolume \(metric.source)"])
        }
        md += row(["`\(VolumeMetrics.info.name)`", "gauge", labels(VolumeMetrics.info.labelNames), "GetVolume `backend`, `owner_container`, `place`; value 1"])
        md += row(["`\(VolumeMetrics.state.name)`", "gauge", labels(VolumeMetrics.state.labelNames), "GetVolume `state`: 1 for the current one, 0 for \(VolumeMetrics.states.joined(separator: ", "))"])
        for metric in StorageMetrics.layerCounts {
            md += row(["`\(metric.family.name)`", metric.family.type.rawValue, labels(metric.family.labelNames), metric.source])
        }
        for metric in StorageMetrics.storageCounts {
            md += row(["`\(metric.family.name)`", metric.family.type.rawValue, labels(metric.family.labelNames), metric.source])
        }
        for metric in StorageMetrics.metaAll {
            md += row(["`\(metric.family.name)`", metric.family.type.rawValue, labels(metric.family.labelNames), "ListStorages meta storage `\(metric.field)`"])
        }
        md += """

        Volumes are listed by portod once per link: they are deduplicated by id, keeping the first path in
        sorted order. Value series carry only `path`, so that a state change never starts new series (and
        never restarts an alert's `for:`): join `porto_volume_info` for the backend and the owner container,
        and read the state from `porto_volume_state`. The source in brackets is the ListVolumes key used
        on portods without GetVolume. Usage figures are cached by portod and up to a minute old; for backends without
        their own filesystem or quota (plain, bind, rbind, dir, overlay without space_limit) they describe
        the whole underlying filesystem. A limit of 0 means none.

        ## The exporter itself

        | metric | type | labels | meaning |
        |---|---|---|---|

        """
        for family in [ExporterMetrics.up, ExporterMetrics.collectorSuccess, ExporterMetrics.collectorDuration,
                       ExporterMetrics.portodRequests, ExporterMetrics.portodRequestFailures, ExporterMetrics.valuesAge] {
            md += row(["`\(family.name)`", family.type.rawValue, labels(family.labelNames), family.help])
        }
        md += """

        `collector` is one of `daemon`, `containers`, `volumes`, `layers`, `storages`. When portod cannot be
        reached, `porto_up` is 0 and the HTTP answer is still 200. `reason` is `socket` (no connection,
        or portod closed it), `timeout` (no answer within the request's share of the scrape timeout),
        `decode` (an answer that is not a Porto response), or the name of the Porto error portod
        answered (`Unknown`, `Busy`, ...); an `InvalidMethod` from an older portod that the exporter
        reads another way (Get instead of ListContainersBy, `porto_stat` instead of GetSystem,
        ListVolumes instead of GetVolume) is not a failure. Each failed request is also logged at warn
        (the same failure at most once a minute). The HTTP layer adds
        `porto_exporter_build_info`, `porto_exporter_request_duration_seconds{method}` and `process_*`.

        """
        return md
    }

    private static func row(_ cells: [String]) -> String {
        "| " + cells.map { $0.replacing("|", with: "\\|") }.joined(separator: " | ") + " |\n"
    }

    private static func labels(_ names: [String]) -> String {
        names.map { "`\($0)`" }.joined(separator: ", ")
    }

    private static func notes(_ m: ContainerMetric) -> String {
        var parts: [String] = []
        if !m.notes.isEmpty { parts.append(m.notes) }
        if let created = m.created, m.family.type == .counter {
            parts.append("`_created` (when on): \(created.documentation).")
        }
        return parts.joined(separator: " ")
    }
}
