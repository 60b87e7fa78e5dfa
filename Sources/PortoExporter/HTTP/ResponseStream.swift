/// One scrape's answer as libmicrohttpd sends it: each time the socket can take more,
/// libmicrohttpd asks for up to a block of bytes and gets the next part of the exposition. The
/// bytes come from the ``SharedAnswer`` of the scrape's snapshot, format and encoding: the first
/// reader to need a chunk renders (and compresses) it, the others copy it. A reader holds its
/// place in the shared answer, never a body of its own, however large the scrape and however
/// slowly the client reads.
///
/// Used by one libmicrohttpd thread at a time (the connection's).
final class ResponseStream: @unchecked Sendable {
    /// Keeps the snapshot alive while the answer is sent; released first when the stream goes
    /// (the last stream of a snapshot frees it and trims: ``SharedScrape``).
    private var shared: SharedScrape?
    private var answer: SharedAnswer?
    private let reader: Int
    /// The chunk being copied, its number and how far it has been copied.
    private var current: SharedAnswer.Chunk?
    private var index = 0
    private var offset = 0
    private var ended = false
    /// Bytes handed to libmicrohttpd so far.
    private(set) var sent = 0

    /// Whether the answer is gzip-compressed (false when gzip was asked for but zlib could not
    /// start: then the answer is sent uncompressed, without `Content-Encoding`).
    let isGzip: Bool

    init(_ shared: SharedScrape, format: ExpositionFormat, gzip: Bool) {
        self.shared = shared
        let answer = shared.answer(format, gzip: gzip)
        self.answer = answer
        isGzip = answer.isGzip
        reader = answer.attach()
    }

    deinit {
        answer?.detach(reader)
        current = nil
        answer = nil
        shared = nil
    }

    /// Writes up to `max` bytes of the answer into `buffer`. Returns the number written (at
    /// least 1 unless the answer is complete: then 0), or nil when compression failed.
    func read(into buffer: UnsafeMutableRawPointer, max: Int) -> Int? {
        guard let answer else { return nil }
        var written = 0
        while written < max {
            if let chunk = current, offset < chunk.bytes.count {
                let take = min(max - written, chunk.bytes.count - offset)
                chunk.bytes.withUnsafeBytes { bytes in
                    (buffer + written).copyMemory(from: bytes.baseAddress! + offset, byteCount: take)
                }
                offset += take
                written += take
                continue
            }
            if ended { break }
            // With bytes in hand, do not wait for another reader's chunk: send these first.
            switch answer.chunk(current == nil ? index : index + 1, for: reader, wait: written == 0) {
            case .chunk(let chunk):
                if current != nil { index += 1 }
                current = chunk
                offset = 0
            case .end:
                if current != nil { index += 1 }
                current = nil
                ended = true
            case .pending:
                return sent(written)
            case .failed:
                return nil
            }
        }
        return sent(written)
    }

    private func sent(_ n: Int) -> Int {
        sent += n
        return n
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
