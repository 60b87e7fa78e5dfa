/// One chunk of an answer in memory of its own: written by whoever makes the chunk (the renderer,
/// the compressor), which grows it as needed, then handed on as it is, never copied, and only read
/// from then on (by any number of threads: that is what makes it `Sendable`).
///
/// It may also start in memory it borrows (the buffer an answer is read into), which it leaves
/// for memory of its own if it has to grow (``isBorrowed`` then turns false).
final class ChunkBytes: @unchecked Sendable {
    /// The first ``count`` of ``capacity`` bytes are written.
    @exclusivity(unchecked) private(set) var base: UnsafeMutablePointer<UInt8>
    @exclusivity(unchecked) private(set) var capacity: Int
    @exclusivity(unchecked) var count = 0
    @exclusivity(unchecked) private(set) var isBorrowed = false

    init(capacity: Int) {
        self.capacity = max(capacity, 1)
        base = .allocate(capacity: self.capacity)
    }

    /// Writes into `memory` (`capacity` bytes, which stay the caller's) until it needs more room.
    init(borrowing memory: UnsafeMutablePointer<UInt8>, capacity: Int) {
        base = memory
        self.capacity = capacity
        isBorrowed = true
    }

    /// A copy of `bytes`.
    convenience init(copying bytes: UnsafeRawBufferPointer) {
        self.init(capacity: bytes.count)
        append(bytes)
    }

    deinit { if !isBorrowed { base.deallocate() } }

    /// The bytes written.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Makes room for `n` more bytes at `base + count` (``base`` moves when it grows).
    @inline(__always)
    func reserve(_ n: Int) {
        if count + n > capacity { grow(to: count + n) }
    }

    private func grow(to needed: Int) {
        let newCapacity = max(needed, 2 * capacity)
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.update(from: base, count: count)
        if !isBorrowed { base.deallocate() }
        isBorrowed = false
        base = newBase
        capacity = newCapacity
    }

    func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count)
        UnsafeMutableRawPointer(base + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }

    func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }
}
