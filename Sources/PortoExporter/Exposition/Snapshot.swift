/// An immutable set of samples, ready to be written in either exposition format any number of
/// times: what a collection produces (`CollectionSnapshot`) and what the HTTP side serves.
public protocol Snapshot: Sendable {
    /// Streams the whole exposition in `format` (ending with `# EOF` for OpenMetrics) as chunks.
    /// May be called any number of times, concurrently.
    func write(_ format: ExpositionFormat, to sink: (UnsafeRawBufferPointer) -> Void)
    /// The exposition in `format` as chunks pulled one at a time, so that an HTTP answer holds one
    /// chunk at a time. May be called any number of times, concurrently (each call gets its own
    /// source). The default renders the whole exposition with ``write(_:to:)`` and serves it as one
    /// chunk (for small snapshots such as test fakes).
    func chunks(_ format: ExpositionFormat) -> any ChunkSource
}

/// Chunks of one rendering, pulled by whoever sends them.
public protocol ChunkSource: AnyObject {
    /// The next chunk, valid until the next call; nil when the rendering is complete.
    func next() -> UnsafeRawBufferPointer?
}

extension ExpositionStream: ChunkSource {}

extension Snapshot {
    public func chunks(_ format: ExpositionFormat) -> any ChunkSource {
        WholeRendering(render(format))
    }

    /// The whole exposition as one array (tests and tools).
    public func render(_ format: ExpositionFormat) -> [UInt8] {
        var out: [UInt8] = []
        write(format) { out.append(contentsOf: $0) }
        return out
    }
}

/// A rendering held whole, served as one chunk.
final class WholeRendering: ChunkSource {
    private let bytes: [UInt8]
    private var served = false
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    func next() -> UnsafeRawBufferPointer? {
        if served || bytes.isEmpty { return nil }
        served = true
        return bytes.withUnsafeBytes { $0 }   // `bytes` is immutable and lives as long as self
    }
}
