import Foundation
import PortoWire

/// Encoded reply frames keyed by the request's bytes, each tagged with the host generation it
/// was built for.
///
/// A benchmark asks the same few questions over and over (`ListContainersBy` with the same
/// properties, `GetSystem`); while the host's ``SimResponder/generation`` stays the same, their
/// answers cannot change, so the frames are encoded once and sent as they are. A lookup hits only
/// an entry of the current generation, or, when the caller accepts it, the entry of the previous
/// one while the ``SimServer`` refresher rebuilds it. Entries of older generations are dropped. A
/// dropped request (no reply) is cached too.
final class ResponseCache: @unchecked Sendable {
    /// A cached answer: the frame to send (nil: close without a reply), its envelope error and
    /// the generation it belongs to.
    struct Entry {
        var frame: [UInt8]?
        var error: Porto_EError
        var generation: UInt64
    }

    /// The most distinct requests kept; more empties the cache (a client that never repeats
    /// itself gains nothing from it anyway).
    static let maxEntries = 256
    /// Longer requests are not cached.
    static let maxRequestLength = 64 << 10

    private let lock = NSLock()
    /// The newest generation stored, and the one before it.
    private var latest: UInt64 = 0
    private var previous: UInt64 = 0
    private var entries: [[UInt8]: Entry] = [:]
    private var hits = 0
    private var staleHits = 0
    private var misses = 0

    /// Lookups answered (of which `stale` from the previous generation) and not answered so far.
    var statistics: (hits: Int, stale: Int, misses: Int) {
        lock.withLock { (hits, staleHits, misses) }
    }

    /// The cached answer to `request` in `generation`; or, if `acceptStale` says yes to its
    /// generation, the one kept from an earlier generation.
    func lookup(_ request: [UInt8], generation: UInt64, acceptStale: (UInt64) -> Bool = { _ in false }) -> Entry? {
        lock.lock()
        defer { lock.unlock() }
        guard let entry = entries[request] else {
            misses += 1
            return nil
        }
        if entry.generation == generation {
            hits += 1
            return entry
        }
        if entry.generation < generation, acceptStale(entry.generation) {
            hits += 1
            staleHits += 1
            return entry
        }
        misses += 1
        return nil
    }

    /// Keeps `entry` unless a newer one for `request` is already there.
    func store(_ entry: Entry, for request: [UInt8]) {
        lock.lock()
        defer { lock.unlock() }
        if entry.generation > latest {
            previous = latest
            latest = entry.generation
            // Only the newest two generations can be served.
            entries = entries.filter { $0.value.generation >= previous }
        } else if entry.generation < previous {
            return
        }
        if let old = entries[request], old.generation > entry.generation { return }
        if entries[request] == nil && entries.count >= Self.maxEntries { entries.removeAll(keepingCapacity: true) }
        entries[request] = entry
    }

    func removeAll() {
        lock.lock()
        entries.removeAll()
        lock.unlock()
    }
}
