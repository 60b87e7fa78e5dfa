/// One collection's worth of metrics, ready to be written in either exposition format.
public protocol ScrapeSnapshot: Sendable {
    /// Whether portod answered at least one request during the collection (drives `/-/ready`).
    var reachedPorto: Bool { get }
    /// Streams the whole exposition in `format` (ending with `# EOF` for OpenMetrics) as chunks.
    /// Called at most once per format, never concurrently.
    func write(_ format: ExpositionFormat, to sink: (UnsafeRawBufferPointer) -> Void)
    /// The number of bytes `write` will produce, when cheap to know (sizes the buffer once).
    func byteCount(_ format: ExpositionFormat) -> Int?
}

extension ScrapeSnapshot {
    public func byteCount(_ format: ExpositionFormat) -> Int? { nil }

    /// The whole exposition as one array (tests and tools).
    public func render(_ format: ExpositionFormat) -> [UInt8] {
        var out: [UInt8] = []
        write(format) { out.append(contentsOf: $0) }
        return out
    }
}
