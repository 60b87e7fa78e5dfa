import Foundation

/// Polls `condition` every 10 ms for at most `timeout`; returns whether it became true. For
/// waits on another thread or process; never a measurement of speed.
@discardableResult
public func eventually(timeout: Duration = .seconds(10), _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        usleep(10_000)
    }
    return try condition()
}

/// ``eventually(timeout:_:)`` that throws when `condition` does not become true within
/// `timeout` seconds.
public func waitUntil(timeout: Double = 10, _ condition: () throws -> Bool) throws {
    guard try eventually(timeout: .milliseconds(Int(timeout * 1000)), condition) else {
        throw TestSupportFailure("condition not met within \(timeout) s")
    }
}

/// A one-shot barrier: `wait` blocks (at most `timeout` seconds) until `open` is called.
public final class Gate: @unchecked Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var isOpen = false
    public init() {}
    public func wait(timeout: Double = 20) {
        if lock.withLock({ isOpen }) { return }
        _ = semaphore.wait(timeout: .now() + timeout)
        semaphore.signal()
    }
    public func open() {
        lock.withLock { isOpen = true }
        semaphore.signal()
    }
}
