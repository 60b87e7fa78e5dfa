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

    /// Takes the first SIGTERM or SIGINT on the calling thread (at once if one is pending already);
    /// returns its number. No other thread takes them: every thread blocks both, and nothing but
    /// this `sigwait` waits for them, so the one that comes is the one returned (later ones stay
    /// pending; the stop under way is bounded by Serve's shutdown timeout).
    static func wait() -> Int32 {
        var set = self.set
        var number: Int32 = 0
        while sigwait(&set, &number) != 0 {}
        return number
    }
}
