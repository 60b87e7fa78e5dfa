import Foundation

/// Where the simulated host reads the time: every timestamp and every counter of the synthetic
/// host is a function of this clock (whole seconds since the Unix epoch).
///
/// - `system`: the real wall clock, for demos and benchmarks.
/// - `fixed(epochSeconds:)`: a clock that never moves, for golden files.
/// - `manual(_:)`: a clock that moves only when a test moves it (`SimManualClock.advance(by:)`).
public enum SimClock: Sendable {
    case system
    case fixed(epochSeconds: UInt64)
    case manual(SimManualClock)

    /// The current time in whole seconds since the Unix epoch.
    public var now: UInt64 {
        switch self {
        case .system: return UInt64(max(0, Date().timeIntervalSince1970))
        case .fixed(let seconds): return seconds
        case .manual(let clock): return clock.epochSeconds
        }
    }
}

/// A settable clock for tests: starts at a given time and moves only when told to.
public final class SimManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var seconds: UInt64

    public init(epochSeconds: UInt64) {
        seconds = epochSeconds
    }

    /// The clock's time in seconds since the Unix epoch. Setting it backwards is allowed but the
    /// host's counters are only promised to be monotonic while time moves forward.
    public var epochSeconds: UInt64 {
        get { lock.withLock { seconds } }
        set { lock.withLock { seconds = newValue } }
    }

    /// Moves the clock forward.
    public func advance(by delta: UInt64) {
        lock.withLock { seconds += delta }
    }
}
