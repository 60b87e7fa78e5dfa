/// One rendering of a snapshot in one format and encoding, shared by every scrape of the snapshot
/// that asked for it: the exposition is rendered (and compressed) once, chunk by chunk, by
/// whichever reader first needs a chunk that does not exist yet; the other readers copy the same
/// chunks, or wait while one is being made. A chunk is dropped as soon as every reader has gone
/// past it, so readers that keep pace hold about one chunk between them, and a reader that lags
/// (a slow client) holds at most the body, never more; a reader that goes away releases its
/// place at once.
///
/// Readers ``attach()`` at the start of the answer. While the answer is *held* (the scrapes of
/// the collection are still being handed out: ``SharedScrape/handOutDone()``), no chunk is
/// dropped, so a reader that attaches late still finds the body from its first byte.
final class SharedAnswer: @unchecked Sendable {
    let format: ExpositionFormat
    /// Whether the chunks are gzip (false when zlib could not start: see ``SharedScrape``).
    let isGzip: Bool
    /// Bytes of compressed output per chunk (an identity chunk is the renderer's own chunk).
    static let gzipChunkSize = 32 * 1024

    /// One piece of the answer; immutable once made.
    final class Chunk: @unchecked Sendable {
        let bytes: [UInt8]
        init(_ bytes: [UInt8]) { self.bytes = bytes }
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

    private let state = ConditionLock()
    // Guarded by `state`:
    /// `chunks[i]` is chunk number `dropped + i`.
    private var chunks: [Chunk] = []
    private var dropped = 0
    /// The chunk number each attached reader needs next, by reader id.
    private var positions: [Int: Int] = [:]
    private var nextReader = 0
    private var held: Bool
    private var producing = false
    private var complete = false
    private var failed = false
    /// Set when the answer can never be read again (released, or no reader left once handed out).
    private var closed = false
    /// The snapshot, renderer and compressor: touched only by the reader that set `producing`
    /// (or under `state` when `producing` is false).
    private var snapshot: (any Snapshot)?
    private var source: (any ChunkSource)?
    private var deflater: Gzip.Deflater?

    /// Bytes of the chunks made so far and dropped so far (tests and self-checks).
    private var madeBytes = 0
    private var droppedBytes = 0

    /// nil when gzip was asked for and zlib could not start.
    init?(_ snapshot: any Snapshot, format: ExpositionFormat, gzip: Bool, held: Bool, level: Int32 = Gzip.defaultLevel) {
        self.format = format
        self.snapshot = snapshot
        self.held = held
        if gzip {
            guard let deflater = Gzip.Deflater(level: level) else { return nil }
            self.deflater = deflater
        }
        isGzip = gzip
    }

    /// Registers a reader at the first byte of the answer; returns its id.
    func attach() -> Int {
        state.withLock {
            let id = nextReader
            nextReader += 1
            positions[id] = 0
            return id
        }
    }

    /// The reader is gone: its chunks may be dropped.
    func detach(_ reader: Int) {
        state.withLock {
            positions[reader] = nil
            dropPassedChunks()
        }
    }

    /// Every reader that will share the answer has attached: chunks may now be dropped.
    func release() {
        state.withLock {
            held = false
            dropPassedChunks()
        }
    }

    /// Chunk number `index` for `reader`, made now if no reader has made it yet. The reader is
    /// done with every chunk before `index`. When another reader is making the chunk, waits for
    /// it, or answers `.pending` when `wait` is false.
    func chunk(_ index: Int, for reader: Int, wait: Bool = true) -> Next {
        state.lock()
        defer { state.unlock() }
        if positions[reader] != index {
            positions[reader] = index
            dropPassedChunks()
        }
        while true {
            if index < dropped { return .failed }   // cannot happen: a reader's chunks are kept
            if index < dropped + chunks.count { return .chunk(chunks[index - dropped]) }
            if failed || closed { return .failed }
            if complete { return .end }
            if producing {
                if !wait { return .pending }
                state.wait()
                continue
            }
            producing = true
            state.unlock()
            let made = produce()
            state.lock()
            producing = false
            switch made {
            case .chunk(let chunk):
                chunks.append(chunk)
                madeBytes += chunk.bytes.count
            case .end:
                complete = true
                source = nil
                deflater = nil
            default:
                failed = true
                source = nil
                deflater = nil
            }
            state.broadcast()
        }
    }

    /// Renders (and compresses) the next chunk. Called by one reader at a time, without the lock.
    private func produce() -> Next {
        if source == nil {
            guard let snapshot else { return .failed }
            source = snapshot.chunks(format)
        }
        guard let source else { return .failed }
        guard let deflater else {
            guard let next = source.next() else { return .end }
            return .chunk(Chunk(Array(next)))
        }
        var result: Int?
        let bytes = [UInt8](unsafeUninitializedCapacity: Self.gzipChunkSize) { buffer, count in
            result = deflater.read(into: buffer.baseAddress!, max: buffer.count) { source.next() }
            count = result ?? 0
        }
        guard let result else { return .failed }
        return result == 0 ? .end : .chunk(Chunk(bytes))
    }

    /// Drops the chunks every reader has gone past (none while held); when no reader is left after
    /// the hand-out, nobody can read the answer again: the renderer, compressor and chunks go.
    /// Called with `state` locked.
    private func dropPassedChunks() {
        if held { return }
        if positions.isEmpty {
            closed = true
            droppedBytes += chunks.reduce(0) { $0 + $1.bytes.count }
            dropped += chunks.count
            chunks.removeAll()
            if !producing {
                source = nil
                deflater = nil
                snapshot = nil
            }
            return
        }
        let lowest = positions.values.min()!
        let count = min(lowest - dropped, chunks.count)
        guard count > 0 else { return }
        droppedBytes += chunks.prefix(count).reduce(0) { $0 + $1.bytes.count }
        chunks.removeFirst(count)
        dropped += count
    }

    /// Chunks made and bytes made, and bytes still held (tests).
    var counts: (made: Int, madeBytes: Int, heldBytes: Int) {
        state.withLock { (dropped + chunks.count, madeBytes, madeBytes - droppedBytes) }
    }
}
