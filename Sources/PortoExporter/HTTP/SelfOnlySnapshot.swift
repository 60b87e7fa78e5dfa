/// A snapshot holding only the exporter's self-metrics (no collection ran).
public struct SelfOnlySnapshot: ScrapeSnapshot {
    public let selfMetrics: SelfMetrics
    public var reachedPorto: Bool { false }

    public init(selfMetrics: SelfMetrics) { self.selfMetrics = selfMetrics }

    public func render(_ format: ExpositionFormat) -> [UInt8] {
        let writer = ExpositionWriter(format: format)
        selfMetrics.write(to: writer)
        return writer.finish()
    }
}
