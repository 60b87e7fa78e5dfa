import Foundation

/// Encoded reply frames keyed by the request's bytes, valid for one host generation.
///
/// A benchmark asks the same few questions over and over (`ListContainersBy` with the same
/// properties, `GetSystem`); while the host's ``SimResponder/generation`` stays the same, their
/// answers cannot change, so the frames are encoded once and sent as they are. A new generation
/// empties the cache. `nil` is cached too: a request portod would drop stays dropped.
final class ResponseCache: @unchecked Sendable {
    /// The most distinct requests kept per generation; more empties the cache (a client that never
    /// repeats itself gains nothing from it anyway).
    static let maxEntries = 256
    /// Longer requests are not cached.
    static let maxRequestLength = 64 << 10

    private let lock = NSLock()
    private var generation: UInt64 = 0
    private var entries: [[UInt8]: [UInt8]?] = [:]
    private(set) var hits = 0
    private(set) var misses = 0

    /// The cached frame for `request` in `generation`: `.some(nil)` when the request is known to
    /// be dropped, nil when it is not cached.
    func lookup(_ request: [UInt8], generation: UInt64) -> [UInt8]?? {
        lock.lock()
        defer { lock.unlock() }
        guard generation == self.generation, let entry = entries[request] else {
            misses += 1
            return nil
        }
        hits += 1
        return .some(entry)
    }

    func store(_ frame: [UInt8]?, for request: [UInt8], generation: UInt64) {
        lock.lock()
        defer { lock.unlock() }
        if generation != self.generation {
            // Only move forward: a slow request of an older generation must not evict newer frames.
            guard generation > self.generation else { return }
            self.generation = generation
            entries.removeAll(keepingCapacity: true)
        }
        if entries.count >= Self.maxEntries { entries.removeAll(keepingCapacity: true) }
        entries[request] = .some(frame)
    }

    func removeAll() {
        lock.lock()
        entries.removeAll()
        lock.unlock()
    }
}
