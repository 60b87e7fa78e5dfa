/// One scrape's answer, rendered while libmicrohttpd sends it: each time the socket can take
/// more, libmicrohttpd asks for up to a block of bytes and gets the next part of the exposition
/// (compressed on the way when gzip was negotiated). An answer holds one chunk of text (about
/// 32 KB) and zlib's state, never a whole body, however large the scrape and however slowly the
/// client reads; the snapshot it renders from is shared with the other scrapes of the collection.
///
/// Used by one libmicrohttpd thread at a time (the connection's).
final class ResponseStream: @unchecked Sendable {
    /// Keeps the snapshot alive while the answer is sent.
    private let shared: SharedScrape
    private let source: any ChunkSource
    private let deflater: Gzip.Deflater?
    private var pending = UnsafeRawBufferPointer(start: nil, count: 0)
    private var offset = 0
    private var ended = false
    /// Bytes handed to libmicrohttpd so far.
    private(set) var sent = 0

    /// Whether the answer is gzip-compressed (false when gzip was asked for but zlib could not
    /// start: then the answer is sent uncompressed, without `Content-Encoding`).
    var isGzip: Bool { deflater != nil }

    init(_ shared: SharedScrape, format: ExpositionFormat, gzip: Bool, level: Int32 = Gzip.defaultLevel) {
        self.shared = shared
        source = shared.snapshot.chunks(format)
        deflater = gzip ? Gzip.Deflater(level: level) : nil
    }

    /// Writes up to `max` bytes of the answer into `buffer`. Returns the number written (at
    /// least 1 unless the answer is complete: then 0), or nil when compression failed.
    func read(into buffer: UnsafeMutableRawPointer, max: Int) -> Int? {
        let n: Int?
        if let deflater {
            n = deflater.read(into: buffer, max: max) { source.next() }
        } else {
            var written = 0
            while written < max {
                if offset == pending.count {
                    if ended { break }
                    guard let chunk = source.next() else { ended = true; break }
                    pending = chunk
                    offset = 0
                    continue
                }
                let take = min(max - written, pending.count - offset)
                (buffer + written).copyMemory(from: pending.baseAddress! + offset, byteCount: take)
                offset += take
                written += take
            }
            n = written
        }
        if let n { sent += n }
        return n
    }

    /// Renders the whole answer and returns its length (the `Content-Length` of a HEAD answer;
    /// the stream is used up).
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
