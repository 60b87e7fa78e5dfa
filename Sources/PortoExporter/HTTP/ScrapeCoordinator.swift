import Dispatch
import Foundation

/// One collection's worth of metrics, ready to be rendered in any exposition format.
public protocol ScrapeSnapshot: Sendable {
    /// Whether portod answered at least one request during the collection (drives `/-/ready`).
    var reachedPorto: Bool { get }
    /// The whole exposition in `format`, ending with `# EOF` for OpenMetrics.
    func render(_ format: ExpositionFormat) -> [UInt8]
}

/// A snapshot shared by every scrape that joined one collection: each (format, gzip) body is
/// rendered at most once, by whichever scrape asks first.
public final class SharedScrape: @unchecked Sendable {
    public let snapshot: any ScrapeSnapshot
    private let lock = NSLock()
    private var bodies: [Key: ResponseBody] = [:]
    private struct Key: Hashable { var format: ExpositionFormat; var gzip: Bool }

    init(_ snapshot: any ScrapeSnapshot) { self.snapshot = snapshot }

    /// The rendered (and, when `gzip`, compressed) body, rendered once per variant.
    public func body(_ format: ExpositionFormat, gzip: Bool) -> ResponseBody {
        let key = Key(format: format, gzip: gzip)
        // Rendering happens under the lock: snapshots need not be thread-safe (an
        // ExpositionWriter is not), and a scrape waiting here would only render the same bytes.
        return lock.withLock {
            if let body = bodies[key] { return body }
            var bytes = snapshot.render(format)
            if gzip, let compressed = Gzip.compress(bytes) { bytes = compressed }
            let body = ResponseBody(bytes)
            bodies[key] = body
            return body
        }
    }
}

/// An immutable response body in C memory, handed to libmicrohttpd without a copy: every
/// response that sends it holds a reference, released when libmicrohttpd is done with it, so
/// scrapes sharing a collection share one buffer.
public final class ResponseBody: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer?
    public let count: Int

    init(_ bytes: [UInt8]) {
        count = bytes.count
        pointer = bytes.isEmpty ? nil : malloc(bytes.count)
        if let pointer { bytes.withUnsafeBytes { pointer.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) } }
    }

    deinit { free(pointer) }

    /// The bytes (tests).
    public var bytes: [UInt8] {
        guard let pointer else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}

/// Single-flight collection with per-scrape deadlines.
///
/// portod answers one request at a time per connection and every collection costs it real work,
/// so scrapes that arrive while a collection runs join it instead of starting another (an HA pair
/// of Prometheus servers, plus a curl beside them, cost portod one collection). The collection is
/// told the deadline of the scrape that started it, less a reserve for rendering, and is
/// expected to return by then with what it has. Every scrape also gets its own timer: if its deadline passes before the shared
/// collection ends (it joined late with a shorter timeout, or a collector overran), it is answered
/// with `timedOut()` instead, so the HTTP answer always comes in time.
public final class ScrapeCoordinator: @unchecked Sendable {
    public typealias Collect = @Sendable (_ deadline: ContinuousClock.Instant) -> any ScrapeSnapshot
    public typealias Completion = @Sendable (SharedScrape) -> Void

    private let collect: Collect
    private let timedOut: @Sendable () -> any ScrapeSnapshot
    private let queue = DispatchQueue(label: "porto-exporter.collection")
    private let timers = DispatchQueue(label: "porto-exporter.scrape-deadlines", attributes: .concurrent)
    private let lock = NSLock()
    private var flight: Flight?
    private var collections = 0

    private final class Waiter: @unchecked Sendable {
        let completion: Completion
        var done = false   // guarded by the coordinator's lock
        init(_ completion: @escaping Completion) { self.completion = completion }
    }
    private final class Flight: @unchecked Sendable { var waiters: [Waiter] = [] }

    /// - Parameters:
    ///   - collect: runs one collection; must return by the deadline it is given (it runs on a
    ///     private serial queue, never on an HTTP thread).
    ///   - timedOut: what a scrape whose deadline passed gets instead (self-metrics, `porto_up 0`).
    public init(collect: @escaping Collect, timedOut: @escaping @Sendable () -> any ScrapeSnapshot) {
        self.collect = collect
        self.timedOut = timedOut
    }

    /// The collection must end a little before the scrape's deadline, so that rendering and
    /// compressing fit in: 10% of the time left, at most 250 ms.
    static func collectionDeadline(for deadline: ContinuousClock.Instant) -> ContinuousClock.Instant {
        let remaining = ContinuousClock.now.duration(to: deadline)
        guard remaining > .zero else { return deadline }
        return deadline - min(.milliseconds(250), remaining / 10)
    }

    /// How many collections have started (for tests and self-checks).
    public var collectionCount: Int { lock.withLock { collections } }

    /// Joins the running collection or starts one; `completion` is called exactly once, never on
    /// the caller's thread, at the latest around `deadline`.
    public func scrape(deadline: ContinuousClock.Instant, completion: @escaping Completion) {
        let waiter = Waiter(completion)
        let start: Flight? = lock.withLock {
            if let flight {
                flight.waiters.append(waiter)
                return nil
            }
            let started = Flight()
            started.waiters.append(waiter)
            flight = started
            collections += 1
            return started
        }
        if let start {
            let collectionDeadline = Self.collectionDeadline(for: deadline)
            queue.async { [self] in
                let snapshot = SharedScrape(collect(collectionDeadline))
                let waiters: [Waiter] = lock.withLock {
                    if flight === start { flight = nil }
                    let pending = start.waiters.filter { !$0.done }
                    pending.forEach { $0.done = true }
                    return pending
                }
                for waiter in waiters { waiter.completion(snapshot) }
            }
        }
        let remaining = ContinuousClock.now.duration(to: deadline)
        let nanoseconds = max(0, remaining.components.seconds * 1_000_000_000 + remaining.components.attoseconds / 1_000_000_000)
        timers.asyncAfter(deadline: .now() + .nanoseconds(Int(clamping: nanoseconds))) { [self] in
            let expired = lock.withLock {
                if waiter.done { return false }
                waiter.done = true
                return true
            }
            if expired { waiter.completion(SharedScrape(timedOut())) }
        }
    }
}
