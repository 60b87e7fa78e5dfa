/// One collection's samples: rendered in any format, any number of times (concurrently too),
/// merged with the exporter's own metrics (``SelfMetrics``, read at render time) into one
/// exposition sorted by family.
///
/// A snapshot is immutable. While a collection runs, each collector that finishes gives a
/// *partial* snapshot (the collectors done so far; the others count as failed), which a scrape
/// whose deadline comes first is answered with.
public final class CollectionSnapshot: Snapshot {
    public let report: CollectionReport
    /// The collectors' samples, then `porto_up` and the collector self-metrics.
    private let writers: [ExpositionWriter]
    private let selfMetrics: SelfMetrics?

    /// The samples of the collectors in `report`, with their outcome.
    init(collection: CollectorSet, samples: [ExpositionWriter], report: CollectionReport, selfMetrics: SelfMetrics?) {
        let outcome = ExpositionWriter(format: .text)
        collection.writeOutcome(report, into: outcome)
        self.writers = samples + [outcome]
        self.report = report
        self.selfMetrics = selfMetrics
    }

    /// Runs one collection and keeps its samples; `progress`, when given, gets a partial snapshot
    /// each time a collector has run.
    public convenience init(collection: CollectorSet, deadline: ContinuousClock.Instant, selfMetrics: SelfMetrics?,
                            progress: ((CollectionSnapshot) -> Void)? = nil) {
        var samples: [ExpositionWriter] = []
        let report = collection.collect(deadline: deadline) { finished, soFar in
            samples.append(finished)
            progress?(CollectionSnapshot(collection: collection, samples: samples, report: soFar, selfMetrics: selfMetrics))
        }
        self.init(collection: collection, samples: samples, report: report, selfMetrics: selfMetrics)
    }

    /// What a scrape whose deadline passed before any collector of the shared collection ended
    /// gets: `porto_up 0`, every collector failed, and the self-metrics.
    public convenience init(timedOut collection: CollectorSet, selfMetrics: SelfMetrics?) {
        self.init(collection: collection, samples: [],
                  report: CollectionReport(up: false, results: [], connectionError: .timeout("scrape deadline passed")),
                  selfMetrics: selfMetrics)
    }

    public var reachedPorto: Bool { report.up }

    public func write(_ format: ExpositionFormat, to sink: (UnsafeRawBufferPointer) -> Void) {
        let source = chunks(format)
        while let chunk = source.next() { sink(chunk) }
    }

    /// The collection's samples merged with the self-metrics (read now), rendered as pulled.
    public func chunks(_ format: ExpositionFormat) -> any ChunkSource {
        let own = ExpositionWriter(format: format)
        selfMetrics?.write(to: own)
        return ExpositionWriter.stream(format, merging: writers + [own])
    }
}
