import Synchronization

/// One snapshot rendered in one format and encoding, made chunk by chunk as its readers
/// (``ResponseStream``s) need it and shared by all of them: each chunk is rendered (and
/// compressed) once, by the first reader that needs it, while a reader that wants the same chunk
/// waits for it.
///
/// The chunks form a list, each holding the next. A reader holds the chunk it is copying, so the
/// chunks behind every reader are freed as soon as the last one passes them (no bookkeeping:
/// reference counting does it). Readers that keep pace hold a chunk or two between them; a reader
/// that lags (a slow client) holds what it has not sent, at most the body.
final class Rendering: Sendable {
    /// Bytes of compressed output per chunk (an identity chunk is the renderer's own chunk).
    static let gzipChunkSize = 32 * 1024

    /// Whether the chunks are gzip: false when gzip was asked for and ISA-L could not start (then
    /// the answer goes uncompressed, without `Content-Encoding`).
    let isGzip: Bool
    /// Whether the rendering has one reader, for good: then no chunks are made, the answer is
    /// rendered (or compressed) straight into the reader's buffers (``read(into:max:)``).
    let isSole: Bool
    /// Kept while any reader holds the rendering, as the old answers did: the snapshot of a
    /// collection goes with its last answer.
    let snapshot: any Snapshot
    private let tally = Tally()
    private let maker: Mutex<Maker>

    /// One piece of the answer, immutable once made, and the way to the next one.
    final class Chunk: Sendable {
        let bytes: ChunkBytes
        /// Set once, when the next chunk is made.
        fileprivate let next = Mutex<Chunk?>(nil)
        fileprivate let tally: Tally?

        fileprivate init(_ bytes: ChunkBytes, tally: Tally?) {
            self.bytes = bytes
            self.tally = tally
            tally?.add(chunks: 1, bytes: bytes.count)
        }

        /// Frees the chunks after this one that nobody else holds in a loop, not recursively: a
        /// lagging reader can hold thousands of them.
        deinit {
            tally?.add(chunks: 0, bytes: -bytes.count)
            var rest = next.withLock { $0.take() }
            while rest != nil && isKnownUniquelyReferenced(&rest!) {
                rest = rest!.next.withLock { $0.take() }
            }
        }
    }

    enum Next {
        case chunk(Chunk)
        /// The answer is complete.
        case end
        /// Compression failed: the answer cannot be completed.
        case failed
        /// Another reader is making the chunk and the caller asked not to wait.
        case pending
    }

    /// The renderer and compressor, used by one reader at a time.
    fileprivate struct Maker {
        let format: ExpositionFormat
        var source: (any ChunkSource)?
        /// `source` when it is an exposition's renderer, which can render into a given buffer.
        var exposition: ExpositionStream?
        var deflater: Gzip.Deflater?
        /// A sole reader's piece that did not fit its buffer, and how much of it was read.
        var leftover: (bytes: ChunkBytes, offset: Int)?
        /// The chunk made last; nil once the answer is complete (or failed).
        var last: Chunk?
        var failed = false
    }

    /// A new rendering (nothing is rendered yet), and the place before its first chunk, where
    /// readers start: whoever holds `start` holds every chunk made, so a reader that starts late
    /// still gets the whole answer from this rendering.
    /// - Parameters:
    ///   - gzip: compress (unless ISA-L cannot start).
    ///   - sole: the rendering will have one reader only (``isSole``).
    static func begin(_ snapshot: any Snapshot, format: ExpositionFormat, gzip: Bool, sole: Bool = false,
                      level: Int32 = Gzip.defaultLevel) -> (rendering: Rendering, start: Chunk) {
        let start = Chunk(ChunkBytes(capacity: 0), tally: nil)
        return (Rendering(snapshot, format: format, gzip: gzip, sole: sole, level: level, after: start), start)
    }

    private init(_ snapshot: any Snapshot, format: ExpositionFormat, gzip: Bool, sole: Bool, level: Int32, after start: Chunk) {
        let deflater = gzip ? Gzip.Deflater(level: level) : nil
        self.snapshot = snapshot
        isGzip = deflater != nil
        isSole = sole
        maker = Mutex(Maker(format: format, deflater: deflater, last: start))
    }

    /// Writes up to `max` bytes of the answer of a sole reader into `buffer`. Returns the number
    /// written (at least 1 unless the answer is complete: then 0), or nil when compression failed.
    func read(into buffer: UnsafeMutableRawPointer, max: Int) -> Int? {
        precondition(isSole, "a shared rendering is read chunk by chunk")
        // Passed as an address: the maker writes into it during this call only, never keeps it
        // (the checker would take it for the caller's state moving into the maker's).
        let address = UInt(bitPattern: buffer)
        return maker.withLock { $0.read(into: UnsafeMutableRawPointer(bitPattern: address)!, max: max, from: snapshot) }
    }

    /// The chunk after `chunk`, made now if no reader has made it yet. When another reader is
    /// making it, waits for it, or answers `.pending` when `wait` is false.
    func chunk(after chunk: Chunk, wait: Bool) -> Next {
        if let next = chunk.next.withLock({ $0 }) { return .chunk(next) }
        if wait { return maker.withLock { advance(&$0, after: chunk) } }
        return maker.withLockIfAvailable { advance(&$0, after: chunk) } ?? .pending
    }

    /// Makes the chunk after `chunk`, with the maker locked.
    private func advance(_ maker: inout Maker, after chunk: Chunk) -> Next {
        // Made by another reader while this one waited for the maker?
        if let next = chunk.next.withLock({ $0 }) { return .chunk(next) }
        if maker.failed { return .failed }
        // Chunks are linked as they are made: the one with no next is the last one made.
        guard let last = maker.last else { return .end }
        switch maker.make(from: snapshot, tally: tally) {
        case .chunk(let made):
            last.next.withLock { $0 = made }
            maker.last = made
            return .chunk(made)
        case .end:
            maker.finish()
            return .end
        default:
            maker.failed = true
            maker.finish()
            return .failed
        }
    }

    /// Chunks made so far, and the bytes of those still held by a reader (tests).
    var counts: (made: Int, heldBytes: Int) { tally.counts }
}

extension Rendering.Maker {
    /// The renderer, made at the first call.
    private mutating func start(_ snapshot: any Snapshot) -> (any ChunkSource)? {
        if source == nil {
            source = snapshot.chunks(format)
            exposition = source as? ExpositionStream
        }
        return source
    }

    /// Renders (and compresses) the next chunk.
    mutating func make(from snapshot: any Snapshot, tally: Rendering.Tally) -> Rendering.Next {
        guard let source = start(snapshot) else { return .failed }
        guard let deflater else {
            // The exposition's renderer hands over the chunk it rendered into, not a copy.
            if let stream = exposition {
                guard let bytes = stream.nextChunk() else { return .end }
                return .chunk(Rendering.Chunk(bytes, tally: tally))
            }
            guard let next = source.next() else { return .end }
            return .chunk(Rendering.Chunk(ChunkBytes(copying: next), tally: tally))
        }
        guard let bytes = Self.compressed(from: source, deflater) else { return .failed }
        return bytes.count == 0 ? .end : .chunk(Rendering.Chunk(bytes, tally: tally))
    }

    /// The next piece of the compressed answer (empty once it is complete), nil when compression
    /// failed.
    private static func compressed(from source: any ChunkSource, _ deflater: Gzip.Deflater) -> ChunkBytes? {
        let bytes = ChunkBytes(capacity: Rendering.gzipChunkSize)
        guard let count = deflater.read(into: bytes.base, max: bytes.capacity, input: { source.next() }) else { return nil }
        bytes.count = count
        return bytes
    }

    /// Room left in a sole reader's buffer for the line that reaches the end of what is rendered
    /// into it: a longer line moves the rendering to memory of its own, copied from there.
    static let lineRoom = 2048

    /// Writes up to `max` bytes of a sole reader's answer into `buffer`: compressed or rendered
    /// there, and only what does not fit kept for the next read. nil when compression failed.
    mutating func read(into buffer: UnsafeMutableRawPointer, max: Int, from snapshot: any Snapshot) -> Int? {
        if failed { return nil }
        if let leftover { return send(leftover, into: buffer, max: max) }
        guard last != nil else { return 0 }   // complete
        guard let source = start(snapshot) else { return nil }
        if let deflater {
            // Compressed a chunk at a time as for shared renderings, not into `buffer`: ISA-L's
            // output depends on where its output space ends, and the answer should not depend on
            // the sizes it is read in (a HEAD answer's length is that of the GET answer).
            guard let piece = Self.compressed(from: source, deflater) else {
                failed = true
                finish()
                return nil
            }
            if piece.count == 0 { finish(); return 0 }
            return send((piece, 0), into: buffer, max: max)
        }
        if let exposition, max > 2 * Self.lineRoom {
            let out = ChunkBytes(borrowing: buffer.assumingMemoryBound(to: UInt8.self), capacity: max)
            exposition.render(into: out, until: max - Self.lineRoom)
            if out.count == 0 { finish(); return 0 }
            if out.isBorrowed { return out.count }
            return send((out, 0), into: buffer, max: max)   // a longer line: the bytes moved
        }
        // A small buffer, or a source that only hands out its own chunks: a piece of its own,
        // sent over as many reads as it takes.
        while true {
            let piece = exposition.map { $0.nextChunk() } ?? source.next().map { ChunkBytes(copying: $0) }
            guard let piece else { finish(); return 0 }
            if piece.count > 0 { return send((piece, 0), into: buffer, max: max) }
        }
    }

    /// Sends what `piece` has from its offset on, keeping what does not fit.
    private mutating func send(_ piece: (bytes: ChunkBytes, offset: Int), into buffer: UnsafeMutableRawPointer, max: Int) -> Int {
        let take = Swift.min(max, piece.bytes.count - piece.offset)
        buffer.copyMemory(from: piece.bytes.base + piece.offset, byteCount: take)
        leftover = piece.offset + take < piece.bytes.count ? (piece.bytes, piece.offset + take) : nil
        return take
    }

    /// The answer is complete: the renderer and the compressor go at once, whatever the readers
    /// still have to send.
    mutating func finish() {
        source = nil
        exposition = nil
        deflater = nil
        last = nil
    }
}

extension Rendering {
    /// Chunks made and bytes held (tests and self-checks).
    final class Tally: Sendable {
        private let state = Mutex((made: 0, heldBytes: 0))
        func add(chunks: Int, bytes: Int) {
            state.withLock { $0.made += chunks; $0.heldBytes += bytes }
        }
        var counts: (made: Int, heldBytes: Int) { state.withLock { $0 } }
    }
}
