import Synchronization

/// One scrape's answer as libmicrohttpd sends it: each time the socket can take more,
/// libmicrohttpd asks for up to a block of bytes and gets the next part of the exposition, copied
/// from the ``Rendering`` this stream reads (shared with the other scrapes of the same snapshot,
/// format and encoding). A stream holds its place in the rendering, never a body of its own,
/// however large the scrape and however slowly the client reads.
///
/// Read by one libmicrohttpd thread at a time (the connection's); the lock is never contended.
final class ResponseStream: Sendable {
    let rendering: Rendering
    private let place: Mutex<Place>

    private struct Place {
        /// The chunk being copied; nil once the answer is complete.
        var chunk: Rendering.Chunk?
        /// How much of it has been copied.
        var offset = 0
    }

    /// Whether the answer is gzip-compressed (false when gzip was asked for but ISA-L could not
    /// start: then the answer is sent uncompressed, without `Content-Encoding`).
    var isGzip: Bool { rendering.isGzip }

    /// A stream of a rendering of its own. A `sole` stream has no other stream alongside, ever:
    /// its answer is rendered (or compressed) straight into the buffers it is read into.
    convenience init(_ snapshot: any Snapshot, format: ExpositionFormat, gzip: Bool, sole: Bool = false) {
        let (rendering, start) = Rendering.begin(snapshot, format: format, gzip: gzip, sole: sole)
        self.init(rendering, at: start)
    }

    /// A stream of the same rendering as `other` (not a sole stream), at the same place: the
    /// start, when `other` has not been read yet.
    convenience init(alongside other: ResponseStream) {
        precondition(!other.rendering.isSole, "a sole stream has no other stream alongside")
        self.init(other.rendering, at: other.place.withLock { $0.chunk })
    }

    private init(_ rendering: Rendering, at chunk: Rendering.Chunk?) {
        self.rendering = rendering
        place = Mutex(Place(chunk: chunk))
    }

    /// Writes up to `max` bytes of the answer into `buffer`. Returns the number written (at
    /// least 1 unless the answer is complete: then 0), or nil when compression failed.
    func read(into buffer: UnsafeMutableRawPointer, max: Int) -> Int? {
        if rendering.isSole { return rendering.read(into: buffer, max: max) }
        return place.withLock { place in
            var written = 0
            while written < max, let chunk = place.chunk {
                if place.offset < chunk.bytes.count {
                    let take = min(max - written, chunk.bytes.count - place.offset)
                    (buffer + written).copyMemory(from: chunk.bytes.base + place.offset, byteCount: take)
                    place.offset += take
                    written += take
                    continue
                }
                // With bytes in hand, do not wait for another reader's chunk: send these first.
                switch rendering.chunk(after: chunk, wait: written == 0) {
                case .chunk(let next):
                    place.chunk = next
                    place.offset = 0
                case .end:
                    place.chunk = nil
                case .pending:
                    return written
                case .failed:
                    return nil
                }
            }
            return written
        }
    }

    /// Reads the whole answer and returns its length (the `Content-Length` of a HEAD answer;
    /// the stream is used up and holds no chunk).
    func drainCount() -> Int? {
        let block = UnsafeMutableRawPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { block.deallocate() }
        var total = 0
        while true {
            guard let n = read(into: block, max: 64 * 1024) else { return nil }
            if n == 0 { return total }
            total += n
        }
    }
}
