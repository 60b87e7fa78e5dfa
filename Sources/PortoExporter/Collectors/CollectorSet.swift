import Logging
import PortoWire
import Synchronization

/// The enabled collectors, run together as one collection of everything enabled, written into an
/// ``ExpositionWriter``: the entry point the HTTP server (and `--once`) calls for each scrape.
/// (Not named `Collection`, which would shadow `Swift.Collection` for every importer.)
///
/// ```swift
/// let collectors = CollectorSet(configuration: config, transport: client)   // once
/// let report = collectors.collect(into: writer, deadline: .now + .seconds(9))  // per scrape
/// ```
/// Synchronous: the collectors run one after another on the caller's thread, one request at a
/// time on the transport's one connection, the cheap collectors first and the containers
/// collector last (``collect(into:deadline:)`` says why); once the deadline has passed the
/// remaining collectors fail without sending anything. Collections are serialised (portod serves
/// one request at a time per connection anyway); sharing one collection between concurrent
/// scrapes is the caller's business.
///
/// Besides the collectors' samples it writes `porto_up` (1 if portod answered anything; with
/// every collector disabled, a `Version` request is sent to find out),
/// `porto_exporter_collector_success{collector}`,
/// `porto_exporter_collector_duration_seconds{collector}` and the request counters
/// (``PortodRequestCounters``).
public final class CollectorSet: Sendable {
    public let configuration: CollectionConfiguration
    private let transport: any PortoTransport
    private let now: @Sendable () -> ContinuousClock.Instant
    private let connection = ConnectionState()
    private let log: PortodLog
    private let counters = PortodRequestCounters()
    /// Held for a whole collection: collections are serialised. It holds what each collector's
    /// writer held at the end of the last collection, reserved in the next one's.
    private let collecting = Mutex<[ExpositionWriter.Capacity?]>([])
    /// The enabled collectors, in the order of their self-metrics.
    let collectors: [any Collector]
    /// Indices into ``collectors`` in the order they run: cheap ones first.
    let runOrder: [Int]

    /// - Parameters:
    ///   - logger: where failed requests, recoveries and fallbacks are logged (``PortodLog``);
    ///     nowhere when nil.
    ///   - now: the clock for deadlines and collector durations (tests pass a fixed one).
    ///   - wallClock: Unix seconds, for portod's start times (tests pass a fixed one).
    public init(
        configuration: CollectionConfiguration, transport: any PortoTransport, logger: Logger? = nil,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
        wallClock: @escaping @Sendable () -> UInt64 = WallClock.seconds
    ) {
        self.configuration = configuration
        self.transport = transport
        self.now = now
        let collectors = CollectorSet.collectors(for: configuration, wallClock: wallClock)
        self.collectors = collectors
        self.runOrder = collectors.indices.filter { collectors[$0].isCheap } + collectors.indices.filter { !collectors[$0].isCheap }
        self.log = PortodLog(
            logger: logger ?? Logger(label: "porto-exporter", factory: { _ in SwiftLogNoOpLogHandler() }),
            socket: transport.portodSocket ?? "unknown", now: now)
    }

    /// The enabled collectors, in the order of their self-metrics (``runOrder`` is the order they run in).
    static func collectors(
        for configuration: CollectionConfiguration, wallClock: @escaping @Sendable () -> UInt64 = WallClock.seconds
    ) -> [any Collector] {
        let groups = configuration.groups
        var out: [any Collector] = []
        if groups.contains(.daemon) { out.append(DaemonCollector(wallClock: wallClock)) }
        if groups.contains(where: \.isContainerGroup) {
            out.append(ContainersCollector(
                groups: groups, selection: configuration.containers, labels: configuration.labels,
                createdSamples: configuration.createdSamples))
        }
        if groups.contains(.volumes) { out.append(VolumesCollector()) }
        if groups.contains(.layers) { out.append(LayersCollector()) }
        if groups.contains(.storages) { out.append(StoragesCollector()) }
        return out
    }

    /// Names of the enabled collectors (the `collector` label values).
    public var collectorNames: [String] { collectors.map(\.name) }


    /// A cheap collector's request may take at most this part of the collection's time.
    static let cheapShare = 10

    /// Runs every enabled collector and writes the samples and self-metrics into `writer`.
    ///
    /// A hung or failing request costs only its own collector's samples. Requests go one at a
    /// time on one connection: portod's read-only threads serve every client on the host, and a
    /// second connection would take one more of them to gain nothing but parallelism
    /// (docs/porto.md §1.5, §7). GetSystem, GetVolume, ListLayers and ListStorages cost portod
    /// about 0.1 ms each, ListContainersBy tens of milliseconds per hundred containers (§7, §7.1).
    /// So the cheap collectors run first, each request bounded by a tenth of the collection's
    /// time (at 10 s, a second: ten thousand times what they cost), and the containers collector
    /// last with everything left: a hung GetSystem costs a tenth of the time and the daemon's
    /// samples, a hung ListContainersBy only the containers'. A request that timed out has closed
    /// the connection (a late answer would be read as the next one's, §1.3), and the next request
    /// opens another.
    @discardableResult
    public func collect(into writer: ExpositionWriter, deadline: ContinuousClock.Instant) -> CollectionReport {
        let report = run(deadline: deadline, writer: { writer }, finished: { _, _ in })
        writeOutcome(report, into: writer)
        return report
    }

    /// Runs every enabled collector, each into a writer of its own, and calls `finished` with that
    /// writer and the report so far as soon as each one has run: a scrape whose deadline comes
    /// before the end is answered with the collectors done by then. The self-metrics are not
    /// written (``writeOutcome(_:into:)``).
    @discardableResult
    public func collect(deadline: ContinuousClock.Instant,
                        finished: (_ samples: ExpositionWriter, _ soFar: CollectionReport) -> Void) -> CollectionReport {
        run(deadline: deadline, writer: { ExpositionWriter(format: .text) }, finished: finished)
    }

    private func run(deadline: ContinuousClock.Instant, writer: () -> ExpositionWriter,
                     finished: (ExpositionWriter, CollectionReport) -> Void) -> CollectionReport {
        collecting.withLock { capacities in
            if capacities.count != collectors.count { capacities = Array(repeating: nil, count: collectors.count) }
            let recorder = CallRecorder()
            var context = CollectContext(
                transport: transport, deadline: deadline, now: now, connection: connection, recorder: recorder, log: log,
                counters: counters)
            let share = (deadline - now()) / Self.cheapShare
            var report = CollectionReport(up: false, results: [])
            for index in runOrder {
                let collector = collectors[index]
                let samples = writer()
                if let capacity = capacities[index] { samples.reserveCapacity(capacity) }
                let start = now()
                context.collector = collector.name
                context.requestLimit = collector.isCheap ? share : nil
                var failure: PortoError?
                do throws(PortoError) {
                    try collector.collect(context, into: samples)
                } catch {
                    failure = error
                }
                capacities[index] = samples.capacity
                report.results.append(.init(collector: collector.name, error: failure, duration: now() - start))
                report.up = recorder.answeredCount > 0
                finished(samples, report)
            }
            if collectors.isEmpty {
                // Nothing enabled: one Version keeps porto_up truthful.
                var version = Porto_TPortoRequest()
                version.version = Porto_TVersionRequest()
                context.collector = "none"
                _ = try? context.call(version)
            }
            report.up = recorder.answeredCount > 0
            log.collectionEnded(up: report.up)
            report.connectionError = report.up ? nil : recorder.connectionFailure
            return report
        }
    }

    /// Writes `porto_up` and each collector's success and duration as `report` says; a collector
    /// missing from it (not run yet when a scrape's deadline came) counts as failed, without a
    /// duration.
    public func writeOutcome(_ report: CollectionReport, into writer: ExpositionWriter) {
        for collector in collectors {
            if let result = report.results.first(where: { $0.collector == collector.name }) {
                writer.gauge(ExporterMetrics.collectorSuccess, extra: collector.name, value: .bool(result.error == nil))
                writer.gauge(ExporterMetrics.collectorDuration, extra: collector.name, value: Self.seconds(result.duration))
            } else {
                writer.gauge(ExporterMetrics.collectorSuccess, extra: collector.name, value: .uint(0))
            }
        }
        counters.write(into: writer)
        writer.gauge(ExporterMetrics.up, value: .bool(report.up))
    }

    /// The self-metrics of a collection that did not finish in time: every collector failed,
    /// `porto_up 0` (nothing else; the collection still running keeps its own samples).
    public func writeTimedOut(into writer: ExpositionWriter) {
        writeOutcome(CollectionReport(up: false, results: []), into: writer)
    }

    private static func seconds(_ d: Duration) -> SampleValue {
        let (s, atto) = d.components
        if s < 0 { return .uint(0) }
        return .scaled(UInt64(s) * 1_000_000_000 + UInt64(atto / 1_000_000_000), decimals: 9)
    }
}

/// What happened in one collection.
public struct CollectionReport: Sendable {
    /// What one collector did.
    public struct CollectorOutcome: Sendable {
        public var collector: String
        /// nil when the collector succeeded.
        public var error: PortoError?
        public var duration: Duration
    }

    /// Whether portod answered at all (`porto_up`).
    public var up: Bool
    public var results: [CollectorOutcome]
    /// Why portod could not be reached, when it could not.
    public var connectionError: PortoError?

    public init(up: Bool, results: [CollectorOutcome], connectionError: PortoError? = nil) {
        self.up = up
        self.results = results
        self.connectionError = connectionError
    }

    /// Whether every collector succeeded.
    public var success: Bool { results.allSatisfy { $0.error == nil } }
}
