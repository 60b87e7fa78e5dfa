import Foundation
import PortoWire

/// How a ``SimServer`` keeps answers ready ahead of the requests.
public struct RefreshOptions: Sendable, Equatable {
    /// Whether a background thread rebuilds recent answers at each new host generation.
    public var enabled: Bool
    /// Requests asked within this long are rebuilt (60 s covers Prometheus' usual scrape
    /// intervals of 15 and 30 s, so a scraper never waits for a rebuild after its first scrape).
    public var window: Duration
    /// The most distinct requests kept up to date (the most recently asked).
    public var maxRequests: Int
    /// While the refresher rebuilds an answer for a new second of the clock, requests get the
    /// previous second's answer (timestamp included) instead of building it themselves. Never
    /// after an event (OOM kill, restart...): those are seen at once.
    public var serveStale: Bool

    public init(enabled: Bool, window: Duration = .seconds(60), maxRequests: Int = 8, serveStale: Bool = true) {
        self.enabled = enabled
        self.window = window
        self.maxRequests = maxRequests
        self.serveStale = serveStale
    }

    /// No refresher: answers are built by the first request of each generation (the default for
    /// in-process tests, whose clocks move only when they say so).
    public static let off = RefreshOptions(enabled: false, serveStale: false)
    /// What `porto-sim` runs with.
    public static let standard = RefreshOptions(enabled: true)
}

/// The background thread of ``RefreshOptions``: remembers the cacheable requests asked lately and,
/// whenever the host's generation changes (a clock tick, an event), builds their answers for
/// the new generation into the ``ResponseCache``, uncounted.
///
/// A request asked at a steady interval (a scraper) is rebuilt only in the last ``lead`` before
/// its next ask is due, not at every tick: a client scraping every 15 s costs two or three builds
/// per scrape, not fifteen. A request asked once, or more often than that, is rebuilt at every
/// change.
final class Refresher: @unchecked Sendable {
    private let options: RefreshOptions
    private let host: any SimResponder
    private let cache: ResponseCache
    private let condition = NSCondition()
    private var stopped = false
    private var thread: Thread?
    /// A cacheable request, when it was last asked, and the time between its last two asks.
    private struct Tracked {
        var request: Porto_TPortoRequest
        var asked: ContinuousClock.Instant
        var interval: Duration?

        func isDue(at now: ContinuousClock.Instant) -> Bool {
            Refresher.isDue(asked: asked, interval: interval, at: now)
        }
    }

    /// Whether a request last asked at `asked`, `interval` after the ask before (nil: asked once),
    /// is rebuilt at a change at `now`: when its next ask may come before the next tick.
    static func isDue(asked: ContinuousClock.Instant, interval: Duration?, at now: ContinuousClock.Instant) -> Bool {
        guard let interval else { return true }
        return now >= asked + interval - lead
    }

    /// How long before a steady client's next ask its answer is kept refreshed: the tick its ask
    /// falls in, and 1.2 s of jitter (back-to-back scrapes of varying length; an ask earlier than
    /// that is built on the request path).
    static let lead: Duration = .milliseconds(2_200)

    /// Cacheable requests by their bytes.
    private var recent: [[UInt8]: Tracked] = [:]
    /// The requests whose answers the refresh under way has yet to store.
    private var pending: Set<[UInt8]> = []
    private var refreshes = 0
    private var built = 0
    private var completed: UInt64?

    init(options: RefreshOptions, host: any SimResponder, cache: ResponseCache) {
        self.options = options
        self.host = host
        self.cache = cache
    }

    /// Generations refreshed so far, and answers built for them.
    var statistics: (refreshes: Int, answers: Int) {
        condition.withLock { (refreshes, built) }
    }

    /// The generation the last finished refresh was for.
    var refreshedGeneration: UInt64? {
        condition.withLock { completed }
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "porto-sim refresher"
        self.thread = thread
        thread.start()
    }

    /// Stops the thread (it finishes the answer it is building first).
    func stop() {
        condition.withLock {
            stopped = true
            condition.broadcast()
        }
    }

    /// A cacheable request was read (`body`: its bytes).
    func noteAsked(_ request: Porto_TPortoRequest, body: [UInt8]) {
        let now = ContinuousClock.now
        condition.withLock {
            if recent[body] == nil, recent.count >= options.maxRequests,
                let oldest = recent.min(by: { $0.value.asked < $1.value.asked })?.key
            {
                recent[oldest] = nil
            }
            let interval = recent[body].map { now - $0.asked }
            recent[body] = Tracked(request: request, asked: now, interval: interval)
        }
    }

    /// Whether the refresh under way is building the answer to `body`, so that the previous
    /// answer will be replaced within the time of that build.
    func isRefreshing(_ body: [UInt8]) -> Bool {
        condition.withLock { pending.contains(body) }
    }

    private func run() {
        var done: UInt64?
        while true {
            condition.lock()
            if !stopped {
                // Wake just after each second of the wall clock (the host's clock ticks then),
                // and every 50 ms for events.
                let now = Date().timeIntervalSince1970
                let toNextSecond = now.rounded(.down) + 1.002 - now
                condition.wait(until: Date(timeIntervalSinceNow: min(toNextSecond, 0.05)))
            }
            if stopped {
                condition.unlock()
                return
            }
            let wall = ContinuousClock.now
            let cutoff = wall - options.window
            recent = recent.filter { $0.value.asked >= cutoff }
            condition.unlock()

            let generation = host.generation
            guard generation != done else { continue }
            done = generation
            let work = condition.withLock { recent.filter { $0.value.isDue(at: wall) } }
            guard !work.isEmpty else { continue }
            condition.withLock { pending = Set(work.keys) }
            host.prepare()
            for (body, entry) in work {
                let answer = host.encodedAnswer(to: entry.request, counting: false)
                let frame = answer.body.flatMap(SimServer.frame(body:))
                cache.store(.init(frame: frame, error: answer.error, generation: answer.generation), for: body)
                condition.withLock {
                    pending.remove(body)
                    built += 1
                }
            }
            condition.withLock {
                refreshes += 1
                completed = generation
            }
        }
    }
}
