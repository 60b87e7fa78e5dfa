import Dispatch
import Synchronization

/// The serving core: single-flight collection, a deadline per scrape, and answers that share one
/// rendering. How a scrape goes:
///
/// 1. ``MetricsServer`` admits the scrape (`--web.max-requests`), works out its deadline (from
///    `X-Prometheus-Scrape-Timeout-Seconds`), format and encoding, suspends the connection and
///    calls ``scrape(deadline:format:gzip:completion:)``.
/// 2. The scrape joins the collection under way, or starts one on a Dispatch thread. **Single
///    flight:** portod answers one request at a time per connection and each collection costs it
///    real work, so however many scrapes come at once (an HA pair of Prometheus servers and a
///    curl) portod sees one ListContainersBy and one GetSystem.
/// 3. The collection (`collect`: ``CollectorSet`` into a ``CollectionSnapshot``) publishes a
///    partial snapshot each time a collector finishes, then the whole one. A snapshot is
///    immutable and can be rendered any number of times.
/// 4. The scrape is answered at its own deadline or when the collection ends, whichever comes
///    first, whether it started the collection or joined it: with the whole snapshot, else the
///    last partial one, else ``timedOut``'s (`porto_up 0`).
/// 5. The answer is a ``ResponseStream``, a reader of a ``Rendering`` of that snapshot in the
///    scrape's format and encoding. The scrapes answered together by one collection that ask for
///    the same format and encoding read one rendering: each chunk is rendered and gzipped once.
/// 6. ``MetricsServer`` resumes the connection and gives libmicrohttpd the stream, which it reads
///    as the socket drains; a chunk is freed once every reader has passed it, and the snapshot
///    once the last stream reading it is released. When no scrape is left in flight, the memory
///    glibc kept is handed back (``MallocArenas``).
///
/// State here is one `Mutex`: the collection under way and the scrapes waiting for it.
public final class ScrapeCoordinator: Sendable {
    /// Runs one collection until `deadline`, handing `progress` a partial snapshot whenever a
    /// part of it is done, and returns the whole snapshot.
    public typealias Collect = @Sendable (_ deadline: ContinuousClock.Instant,
                                          _ progress: @escaping @Sendable (any Snapshot) -> Void) -> any Snapshot
    /// Gets the scrape's answer, exactly once, on a thread of the coordinator's.
    typealias Completion = @Sendable (ResponseStream) -> Void

    private let collect: Collect
    private let timedOut: @Sendable () -> any Snapshot
    private let collectionTimeout: Duration
    private let state = Mutex(State())

    private struct State {
        /// The collection under way.
        var flight: Flight?
        var collections = 0
        var nextScrape = 0
    }

    private struct Flight {
        /// The scrapes waiting, by number. A scrape leaves when answered, so its completion (and
        /// the HTTP exchange it holds) is freed then, not at its deadline.
        var waiting: [Int: Waiter] = [:]
        /// The last partial snapshot the collection published.
        var partial: (any Snapshot)?
    }

    private struct Waiter {
        var format: ExpositionFormat
        var gzip: Bool
        var completion: Completion
    }

    /// - Parameters:
    ///   - collectionTimeout: the least time a collection is given, whatever the deadline of the
    ///     scrape that starts it (`--porto.timeout`): the longest a joining scrape is expected to wait.
    ///   - collect: runs one collection; must return by the deadline it is given (it runs on a
    ///     Dispatch thread, never on an HTTP thread).
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
    public var collectionCount: Int { state.withLock { $0.collections } }

    /// Joins the collection under way or starts one; `completion` gets the answer in `format`
    /// (gzip-compressed when `gzip`) exactly once, never on the caller's thread, at the latest
    /// around `deadline`.
    func scrape(deadline: ContinuousClock.Instant, format: ExpositionFormat, gzip: Bool, completion: @escaping Completion) {
        let (number, starts) = state.withLock { state in
            let number = state.nextScrape
            state.nextScrape += 1
            let starts = state.flight == nil
            if starts {
                state.flight = Flight()
                state.collections += 1
            }
            state.flight!.waiting[number] = Waiter(format: format, gzip: gzip, completion: completion)
            return (number, starts)
        }
        if starts {
            // At least the deadline a scrape of `collectionTimeout` seconds gets (the margin of
            // MetricsServer.scrapeDeadline), so that with the defaults (a 10 s Prometheus timeout,
            // --porto.timeout 10) a lone scrape's collection ends before its deadline.
            let longest = ContinuousClock.now + collectionTimeout - min(.milliseconds(500), collectionTimeout / 10)
            let collectionDeadline = Self.collectionDeadline(for: max(deadline, longest))
            DispatchQueue.global().async { [self] in
                let snapshot = collect(collectionDeadline) { [self] partial in
                    state.withLock { $0.flight?.partial = partial }
                }
                let waiting = state.withLock { state in
                    defer { state.flight = nil }
                    return Array(state.flight!.waiting.values)
                }
                answer(waiting, with: consume snapshot)
            }
        }
        let remaining = ContinuousClock.now.duration(to: deadline)
        let nanoseconds = max(0, remaining.components.seconds * 1_000_000_000 + remaining.components.attoseconds / 1_000_000_000)
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(clamping: nanoseconds))) { [self] in
            let late: (Waiter, (any Snapshot)?)? = state.withLock { state in
                guard let waiter = state.flight?.waiting.removeValue(forKey: number) else { return nil }   // answered
                return (waiter, state.flight!.partial)
            }
            guard let (waiter, partial) = consume late else { return }
            let stream = ResponseStream(consume partial ?? timedOut(), format: waiter.format, gzip: waiter.gzip, sole: true)
            waiter.completion(stream)
        }
    }

    /// Answers the scrapes that waited for the collection. Those asking for the same format and
    /// encoding read one rendering: 47 -> 633 answers/s at 1,000 containers under 64 concurrent
    /// scrapes (BENCHMARKS.md, "Concurrent scrapes").
    private func answer(_ waiting: [Waiter], with snapshot: consuming any Snapshot) {
        var firsts: [Kind: ResponseStream] = [:]
        var answers: [(Waiter, ResponseStream)] = []
        var readers: [Kind: Int] = [:]
        for waiter in waiting { readers[Kind(format: waiter.format, gzip: waiter.gzip), default: 0] += 1 }
        for waiter in waiting {
            let kind = Kind(format: waiter.format, gzip: waiter.gzip)
            if let first = firsts[kind] {
                answers.append((waiter, ResponseStream(alongside: first)))   // at the start: nothing is read yet
            } else {
                // A scrape alone in its format and encoding is rendered into libmicrohttpd's buffers.
                let first = ResponseStream(copy snapshot, format: waiter.format, gzip: waiter.gzip, sole: readers[kind] == 1)
                firsts[kind] = first
                answers.append((waiter, first))
            }
        }
        // Nothing here holds the snapshot once the scrapes have their streams, so that it is freed
        // with the last stream, before the memory trim that follows it (MetricsServer).
        firsts.removeAll()
        _ = consume snapshot
        while let (waiter, stream) = answers.popLast() { waiter.completion(stream) }
    }

    private struct Kind: Hashable {
        var format: ExpositionFormat
        var gzip: Bool
    }
}
