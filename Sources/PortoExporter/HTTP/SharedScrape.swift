import Foundation

/// A snapshot shared by every scrape that joined one collection: each (format, gzip) body is
/// rendered at most once, by whichever scrape asks first, straight from the snapshot's chunks
/// into the buffer libmicrohttpd sends (compressed on the way when gzip is asked for), so a
/// scrape costs one copy of the exposition at most.
public final class SharedScrape: @unchecked Sendable {
    public let snapshot: any ScrapeSnapshot
    private let lock = NSLock()
    private var bodies: [Key: ResponseBody] = [:]
    private struct Key: Hashable { var format: ExpositionFormat; var gzip: Bool }

    init(_ snapshot: any ScrapeSnapshot) { self.snapshot = snapshot }

    /// The rendered (and, when `gzip`, compressed) body.
    public func body(_ format: ExpositionFormat, gzip: Bool) -> ResponseBody {
        let key = Key(format: format, gzip: gzip)
        // Rendering happens under the lock: snapshots need not be thread-safe (an
        // ExpositionWriter is not), and a scrape waiting here would only render the same bytes.
        return lock.withLock {
            if let body = bodies[key] { return body }
            let size = snapshot.byteCount(format)
            let body: ResponseBody
            if gzip, let compressor = Gzip.Compressor(expectedInput: size) {
                snapshot.write(format) { compressor.append($0) }
                body = compressor.finish()
            } else {
                let builder = ResponseBody.Builder(capacity: size ?? 64 * 1024)
                snapshot.write(format) { builder.append($0) }
                body = builder.finish()
            }
            bodies[key] = body
            return body
        }
    }
}
