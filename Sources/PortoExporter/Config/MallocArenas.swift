import Dispatch
import Logging
import Synchronization

#if canImport(Glibc)
import CGlibc
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// glibc's malloc gives threads that contend for the heap arenas of their own, up to 8 per core,
/// and memory freed in one arena is not reused by another. Scrapes run on libmicrohttpd's and
/// Dispatch's threads, so with the default the exporter's RSS rose and fell by 25% between soak
/// samples (docs/LOAD.md); with two it stayed flat. One: Dispatch ends a worker thread idle for
/// a few seconds, and the next collection's thread could get the other arena than the kept values
/// live in, 2 MB more at the next scrape's peak at 10,000 containers (35.3-36.0 -> 33.7-34.3 MB of
/// anonymous memory). `configure` caps the arenas at start-up, before any thread exists, unless
/// the operator already chose through the environment.
///
/// glibc also keeps what a scrape frees: at 100 containers two arenas held 18 MB of which 3 MB
/// were in use between scrapes. `trimAfterRelease` hands the free pages back once a scrape's memory
/// is released: at 10,000 containers steady RSS 65.6 -> 25.7 MB for about 2% more CPU per scrape
/// (the next scrape faults the pages in again; dev/footprint.sh). Keeping up to 8 MiB of it saved
/// 8% of a scrape's CPU at 1,000 containers, but the scrape's peak anonymous memory rose 0.5-0.7 MB.
public enum MallocArenas {
    /// The cap applied when the environment says nothing.
    public static let defaultLimit: Int32 = 1

    public enum Decision: Equatable, Sendable {
        /// Call mallopt(M_ARENA_MAX, limit).
        case cap(Int32)
        /// The environment sets the limit (`MALLOC_ARENA_MAX=4`, or `glibc.malloc.arena_max` in
        /// `GLIBC_TUNABLES`) and glibc has applied it already: leave it.
        case environment(String)
    }

    /// The trim threshold set at start-up (glibc's default value). Left alone, glibc raises it to
    /// twice the largest mmapped block freed (a ListContainersBy answer is megabytes), and the
    /// free top of a thread's arena below it is never given back: malloc_trim trims only the
    /// main arena's top. In a 1,000-container soak that kept 2.3 MB in one sample out of three.
    /// Setting it fixes the mmap threshold at 128 KiB too: larger blocks are mmapped and unmapped.
    public static let trimThreshold: Int32 = 128 * 1024

    public struct Outcome: Equatable, Sendable {
        public var decision: Decision
        /// mallopt's answer for `.cap` (false where it failed or the C library is not glibc);
        /// always false for `.environment`, where nothing is called.
        public var applied: Bool
        /// The same for the trim threshold (`.cap(bytes)`: set to `bytes`).
        public var trimThreshold: Decision = .cap(MallocArenas.trimThreshold)
        public var trimThresholdApplied = false

        /// One debug line saying what was set.
        public func log(to logger: Logger) {
            switch decision {
            case .cap(let limit) where applied:
                logger.debug("malloc arenas capped", metadata: ["arena_max": "\(limit)"])
            case .cap(let limit):
                logger.debug("malloc arenas not capped: mallopt refused", metadata: ["arena_max": "\(limit)"])
            case .environment(let setting):
                logger.debug("malloc arenas left to the environment", metadata: ["setting": "\(setting)"])
            }
            switch trimThreshold {
            case .cap(let bytes):
                logger.debug(trimThresholdApplied ? "malloc trim threshold set" : "malloc trim threshold not set: mallopt refused",
                             metadata: ["trim_threshold": "\(bytes)"])
            case .environment(let setting):
                logger.debug("malloc trim threshold left to the environment", metadata: ["setting": "\(setting)"])
            }
        }
    }

    /// What to do, given the environment (`variable` reads one variable, nil when unset). A value
    /// glibc ignores (empty, zero, not a number) counts as unset, since glibc then applies no cap.
    public static func decide(variable: (String) -> String?) -> Decision {
        if let value = variable("MALLOC_ARENA_MAX"), let limit = Int(value), limit > 0 {
            return .environment("MALLOC_ARENA_MAX=\(value)")
        }
        // GLIBC_TUNABLES=name=value:name=value:…; the tunable is what MALLOC_ARENA_MAX aliases.
        if let tunables = variable("GLIBC_TUNABLES") {
            for item in tunables.split(separator: ":") {
                let pair = item.split(separator: "=", maxSplits: 1)
                if pair.count == 2, pair[0] == "glibc.malloc.arena_max", let limit = Int(pair[1]), limit > 0 {
                    return .environment("GLIBC_TUNABLES=\(item)")
                }
            }
        }
        return .cap(defaultLimit)
    }

    /// Whether to set the trim threshold: not when the environment sets it or the mmap threshold
    /// (`MALLOC_TRIM_THRESHOLD_`, `MALLOC_MMAP_THRESHOLD_`, or their `GLIBC_TUNABLES` names), since
    /// either also turns glibc's dynamic thresholds off.
    public static func decideTrimThreshold(variable: (String) -> String?) -> Decision {
        for name in ["MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_"] {
            if let value = variable(name), let bytes = Int(value), bytes >= 0 {
                return .environment("\(name)=\(value)")
            }
        }
        if let tunables = variable("GLIBC_TUNABLES") {
            for item in tunables.split(separator: ":") {
                let pair = item.split(separator: "=", maxSplits: 1)
                if pair.count == 2, pair[0] == "glibc.malloc.trim_threshold" || pair[0] == "glibc.malloc.mmap_threshold",
                   let bytes = Int(pair[1]), bytes >= 0 {
                    return .environment("GLIBC_TUNABLES=\(item)")
                }
            }
        }
        return .cap(trimThreshold)
    }

    /// Returns the free memory of every arena to the kernel (malloc_trim(0)); true when some was
    /// released. It walks the free lists under each arena's lock: call it between scrapes, not
    /// per allocation.
    @discardableResult
    public static func releaseFreeMemory() -> Bool {
        #if canImport(Glibc)
        malloc_trim(0) == 1
        #else
        false   // no arenas to trim
        #endif
    }

    private static let trimQueue = DispatchQueue(label: "porto-exporter.malloc-trim", qos: .utility)

    /// Trims run since start-up (tests).
    static var trimCount: Int { trims.withLock { $0 } }
    private static let trims = Mutex(0)

    /// `releaseFreeMemory` on a utility queue, off the caller's thread. Call it after the memory
    /// is freed: ``MetricsServer`` calls it once libmicrohttpd has released the last answer in
    /// flight (a trim started from a snapshot's own deinit, whose stored properties are freed
    /// after its body returns, raced the frees: docs/LOAD.md).
    public static func trimAfterRelease() {
        trimQueue.async {
            releaseFreeMemory()
            trims.withLock { $0 += 1 }
        }
    }

    /// Decides from the process environment and applies the decision. Call it first thing in
    /// `main`, before a thread is started.
    public static func configure() -> Outcome {
        let variable: (String) -> String? = { name in getenv(name).map { String(cString: $0) } }
        let decision = decide(variable: variable)
        var outcome = Outcome(decision: decision, applied: false)
        if case .cap(let limit) = decision {
            #if canImport(Glibc)
            outcome.applied = mallopt(M_ARENA_MAX, limit) == 1
            #endif
        }
        outcome.trimThreshold = decideTrimThreshold(variable: variable)
        if case .cap(let bytes) = outcome.trimThreshold {
            #if canImport(Glibc)
            outcome.trimThresholdApplied = mallopt(M_TRIM_THRESHOLD, bytes) == 1
            #endif
        }
        return outcome
    }
}
