import Dispatch
import PortoWire
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

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
    private let lock = Lock()
    private var flight: Flight?
    private var collections = 0

    /// A scrape waiting for its answer. Its deadline timer is cancelled as soon as it is
    /// answered, which frees the timer and everything the completion holds (the HTTP exchange):
    /// at hundreds of answers a second, timers left to run out held megabytes for the length of
    /// the scrape timeout.
    private final class Waiter: @unchecked Sendable {
        // Guarded by the coordinator's lock:
        private var completion: Completion?
        var timer: (any DispatchSourceTimer)?
        init(_ completion: @escaping Completion) { self.completion = completion }

        /// The completion, once: nil when the scrape was answered already. Cancels the timer.
        func take() -> Completion? {
            guard let completion else { return nil }
            self.completion = nil
            timer?.cancel()
            timer = nil
            return completion
        }
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
        let timer = DispatchSource.makeTimerSource(queue: timers)
        let start: Flight? = lock.withLock {
            waiter.timer = timer
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
                let completions: [Completion] = lock.withLock {
                    if flight === start { flight = nil }
                    return start.waiters.compactMap { $0.take() }
                }
                for completion in completions { completion(snapshot) }
                // Every scrape of the collection has its answer: rendered chunks that all of them
                // have sent may go.
                snapshot.handOutDone()
            }
        }
        let remaining = ContinuousClock.now.duration(to: deadline)
        let nanoseconds = max(0, remaining.components.seconds * 1_000_000_000 + remaining.components.attoseconds / 1_000_000_000)
        timer.schedule(deadline: .now() + .nanoseconds(Int(clamping: nanoseconds)))
        timer.setEventHandler { [self] in
            guard let completion = lock.withLock({ waiter.take() }) else { return }
            let snapshot = SharedScrape(timedOut())
            completion(snapshot)
            snapshot.handOutDone()
        }
        // Activated even when the scrape was answered (and the timer cancelled) meanwhile:
        // libdispatch does not allow releasing a source that was never activated.
        timer.activate()
    }
}
