import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM and SIGINT, taken over on the first line of `main` so that none is ever lost.
///
/// Both are blocked in the main thread before any other thread exists (every thread inherits the
/// mask), so from then on a signal stays pending until a thread takes it with `sigwait`: one that
/// arrives while the exporter is still starting stops it as soon as it has started. Setting
/// SIG_IGN instead (what a dispatch signal source needs) would discard a signal already pending —
/// and a process started by a thread that blocks every signal (a dispatch worker; Foundation's
/// Process keeps the mask) inherits such a pending state — and would drop one that came before
/// the source was registered: the exporter then survived SIGTERM.
enum StopSignals {
    static let numbers: [Int32] = [SIGTERM, SIGINT]

    nonisolated(unsafe) private static var first: Int32 = 0
    private static let received = DispatchSemaphore(value: 0)

    private static var set: sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for number in numbers { sigaddset(&set, number) }
        return set
    }

    /// First thing in `main`. Blocks both signals (kept pending from here on), then gives them their
    /// default action, whatever was inherited (an inherited SIG_IGN would let them be discarded).
    static func block() {
        var set = self.set
        pthread_sigmask(SIG_BLOCK, &set, nil)
        for number in numbers { signal(number, SIG_DFL) }
    }

    /// For the modes that do not serve (--once, --print-metrics-md): a signal ends the process as
    /// it would any program (default action), including one already pending.
    static func unblock() {
        var set = self.set
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// Starts the thread that takes the signals (call after `block`, from the main thread).
    static func startWaiting() {
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { _ in
            var set = StopSignals.set
            var number: Int32 = 0
            while true {
                guard sigwait(&set, &number) == 0 else { continue }
                if StopSignals.first == 0 {
                    StopSignals.first = number
                    StopSignals.received.signal()
                }
                // Later signals: the stop under way is bounded (Serve's shutdown timeout).
            }
        }, nil)
        precondition(status == 0, "pthread_create failed: \(status)")
        pthread_detach(thread)
    }

    /// Waits for the first SIGTERM or SIGINT (returns at once if one came already); returns its number.
    static func wait() -> Int32 {
        received.wait()
        return first
    }
}
