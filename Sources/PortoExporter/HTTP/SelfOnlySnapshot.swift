/// A snapshot holding only the exporter's self-metrics (no collection ran).
public struct SelfOnlySnapshot: ScrapeSnapshot {
    public let selfMetrics: SelfMetrics
    public var reachedPorto: Bool { false }

    public init(selfMetrics: SelfMetrics) { self.selfMetrics = selfMetrics }

    public func write(_ format: ExpositionFormat, to sink: (UnsafeRawBufferPointer) -> Void) {
        let source = chunks(format)
        while let chunk = source.next() { sink(chunk) }
    }

    public func chunks(_ format: ExpositionFormat) -> any ChunkSource {
        let writer = ExpositionWriter(format: format)
        selfMetrics.write(to: writer)
        return writer.stream(format)
    }
}
