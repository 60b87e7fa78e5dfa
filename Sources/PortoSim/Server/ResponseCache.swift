import Foundation
import PortoWire

/// Encoded reply frames keyed by the request's bytes, valid for one host generation.
///
/// A benchmark asks the same few questions over and over (`ListContainersBy` with the same
/// properties, `GetSystem`); while the host's ``SimResponder/generation`` stays the same, their
/// answers cannot change, so the frames are encoded once and sent as they are. A new generation
/// empties the cache. A dropped request (no reply) is cached too.
final class ResponseCache: @unchecked Sendable {
    /// A cached answer: the frame to send (nil: close without a reply) and its envelope error.
    struct Entry {
        var frame: [UInt8]?
        var error: Porto_EError
    }

    /// The most distinct requests kept per generation; more empties the cache (a client that never
    /// repeats itself gains nothing from it anyway).
    static let maxEntries = 256
    /// Longer requests are not cached.
    static let maxRequestLength = 64 << 10

    private let lock = NSLock()
    private var generation: UInt64 = 0
    private var entries: [[UInt8]: Entry] = [:]
    private var hits = 0
    private var misses = 0

    /// Lookups answered and not answered so far.
    var statistics: (hits: Int, misses: Int) {
        lock.withLock { (hits, misses) }
    }

    /// The cached answer to `request` in `generation`, if any.
    func lookup(_ request: [UInt8], generation: UInt64) -> Entry? {
        lock.lock()
        defer { lock.unlock() }
        guard generation == self.generation, let entry = entries[request] else {
            misses += 1
            return nil
        }
        hits += 1
        return entry
    }

    func store(_ entry: Entry, for request: [UInt8], generation: UInt64) {
        lock.lock()
        defer { lock.unlock() }
        if generation != self.generation {
            // Only move forward: a slow request of an older generation must not evict newer frames.
            guard generation > self.generation else { return }
            self.generation = generation
            entries.removeAll(keepingCapacity: true)
        }
        if entries.count >= Self.maxEntries { entries.removeAll(keepingCapacity: true) }
        entries[request] = entry
    }

    func removeAll() {
        lock.lock()
        entries.removeAll()
        lock.unlock()
    }
}
