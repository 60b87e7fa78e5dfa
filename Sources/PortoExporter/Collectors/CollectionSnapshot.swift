/// One collection's samples for the HTTP layer's single-flight scrapes: rendered in any format,
/// any number of times (concurrently too), merged with the HTTP layer's self-metrics (read at
/// render time) into one exposition sorted by family.
public final class CollectionSnapshot: ScrapeSnapshot, @unchecked Sendable {
    /// The collection's samples (not modified after the collection).
    public let writer: ExpositionWriter
    public let report: CollectionReport
    private let selfMetrics: SelfMetrics?

    public init(writer: ExpositionWriter, report: CollectionReport, selfMetrics: SelfMetrics?) {
        self.writer = writer
        self.report = report
        self.selfMetrics = selfMetrics
    }

    /// Runs one collection and keeps its samples.
    public convenience init(collection: Collection, deadline: ContinuousClock.Instant, selfMetrics: SelfMetrics?) {
        let writer = ExpositionWriter(format: .text)
        let report = collection.collect(into: writer, deadline: deadline)
        self.init(writer: writer, report: report, selfMetrics: selfMetrics)
    }

    /// What a scrape whose deadline passed before the shared collection ended gets:
    /// `porto_up 0`, every collector failed, and the self-metrics.
    public convenience init(timedOut collection: Collection, selfMetrics: SelfMetrics?) {
        let writer = ExpositionWriter(format: .text)
        collection.writeTimedOut(into: writer)
        self.init(writer: writer, report: CollectionReport(up: false, results: [], connectionError: .timeout("scrape deadline passed")), selfMetrics: selfMetrics)
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
        return ExpositionWriter.stream(format, merging: [writer, own])
    }
}
