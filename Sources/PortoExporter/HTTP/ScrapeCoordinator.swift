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
/// of Prometheus servers, plus a curl beside them, cost portod one collection).
///
/// Every scrape is answered at its own deadline, whether it started the collection or joined it:
/// the collection runs until the later of the starting scrape's deadline and the deadline a scrape
/// with Prometheus' timeout at `collectionTimeout` (`--porto.timeout`) would have, less a reserve
/// for rendering, and each scrape has a timer.
/// When its deadline comes first, the scrape is answered with what the collection has done so far
/// (the last partial snapshot it published: the collectors that finished), or `timedOut()` when
/// none has finished. So a scrape with a 3 s timeout does not cut short the collection that a
/// scrape with a 10 s timeout joins, and each gets the most its own deadline allows.
public final class ScrapeCoordinator: @unchecked Sendable {
    /// Runs one collection until `deadline`, handing `progress` a partial snapshot whenever a
    /// part of it is done, and returns the whole snapshot.
    public typealias Collect = @Sendable (_ deadline: ContinuousClock.Instant,
                                          _ progress: @escaping @Sendable (any Snapshot) -> Void) -> any Snapshot
    public typealias Completion = @Sendable (SharedScrape) -> Void

    private let collect: Collect
    private let timedOut: @Sendable () -> any Snapshot
    private let collectionTimeout: Duration
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
    /// One collection and the scrapes waiting for it. Guarded by the coordinator's lock.
    private final class Flight: @unchecked Sendable {
        var waiters: [Waiter] = []
        /// The last partial snapshot the collection published.
        var partial: (any Snapshot)?
    }

    /// - Parameters:
    ///   - collectionTimeout: the least time a collection is given, whatever the deadline of the
    ///     scrape that starts it (`--porto.timeout`): the longest a joining scrape is expected to wait.
    ///   - collect: runs one collection; must return by the deadline it is given (it runs on a
    ///     private serial queue, never on an HTTP thread).
    ///   - timedOut: what a scrape whose deadline passed before any partial snapshot gets
    ///     (self-metrics, `porto_up 0`).
    public init(collectionTimeout: Duration, collect: @escaping Collect, timedOut: @escaping @Sendable () -> any Snapshot) {
        self.collectionTimeout = collectionTimeout
        self.collect = collect
        self.timedOut = timedOut
    }

    /// The same with a collection that publishes no partial snapshot (tests).
    public convenience init(collectionTimeout: Duration, collect: @escaping @Sendable (_ deadline: ContinuousClock.Instant) -> any Snapshot,
                            timedOut: @escaping @Sendable () -> any Snapshot) {
        self.init(collectionTimeout: collectionTimeout, collect: { deadline, _ in collect(deadline) }, timedOut: timedOut)
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
        let (joined, started): (Flight, Bool) = lock.withLock {
            waiter.timer = timer
            if let flight {
                flight.waiters.append(waiter)
                return (flight, false)
            }
            let started = Flight()
            started.waiters.append(waiter)
            flight = started
            collections += 1
            return (started, true)
        }
        if started {
            // At least the deadline a scrape of `collectionTimeout` seconds gets (the margin of
            // MetricsServer.scrapeDeadline), so that with the defaults (a 10 s Prometheus timeout,
            // --porto.timeout 10) a lone scrape's collection ends before its deadline.
            let longest = ContinuousClock.now + collectionTimeout - min(.milliseconds(500), collectionTimeout / 10)
            let collectionDeadline = Self.collectionDeadline(for: max(deadline, longest))
            queue.async { [self] in
                let snapshot = SharedScrape(collect(collectionDeadline) { [self] partial in
                    lock.withLock { joined.partial = partial }
                })
                let completions: [Completion] = lock.withLock {
                    if flight === joined { flight = nil }
                    joined.partial = nil
                    return joined.waiters.compactMap { $0.take() }
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
            guard let (completion, partial) = lock.withLock({ waiter.take().map { ($0, joined.partial) } }) else { return }
            let snapshot = SharedScrape(partial ?? timedOut())
            completion(snapshot)
            snapshot.handOutDone()
        }
        // Activated even when the scrape was answered (and the timer cancelled) meanwhile:
        // libdispatch does not allow releasing a source that was never activated.
        timer.activate()
    }
}
