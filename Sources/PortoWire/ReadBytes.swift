#if canImport(Glibc)
import Glibc
#endif

/// Gives back the pages of an answer's bytes that a reader has passed, while it reads on: at
/// 10,000 containers the ListContainersBy answer is 8.8 MB, held until its last container is read
/// while the samples read from it grow to 14 MB beside it.
///
/// Only whole pages strictly inside the bytes are given back (`madvise(MADV_DONTNEED)`: they read
/// as zeros afterwards), and only when at least ``batch`` bytes are ready, so that a pass makes a
/// few dozen calls. The caller must own the bytes (no other reference to the buffer) and never
/// read below the offset it reported again.
public struct ReadBytes {
    /// The least run of bytes given back at once.
    public static let batch = 256 * 1024

    private let base: UnsafeMutableRawPointer?
    private let count: Int
    /// Bytes before this offset have been given back.
    public private(set) var released = 0

    public init(_ buffer: UnsafeMutableRawBufferPointer) {
        base = buffer.baseAddress
        count = buffer.count
    }

    /// Nothing below `offset` is read again: gives back the whole pages below it not given
    /// back yet, once they add up to ``batch``.
    public mutating func passed(_ offset: Int) {
        guard let base, offset - released >= Self.batch, offset <= count else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (Int(bitPattern: base) + released + page - 1) / page * page
        let end = (Int(bitPattern: base) + offset) / page * page
        guard end > start, let pointer = UnsafeMutableRawPointer(bitPattern: start) else { return }
        if madvise(pointer, end - start, MADV_DONTNEED) == 0 {
            released = end - Int(bitPattern: base)
        }
    }
}
