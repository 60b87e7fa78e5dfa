import Dispatch
import Synchronization

/// `/-/ready`: whether portod answers now, found out by a cheap call (Version) made off the HTTP
/// threads, one at a time and at most one a second: the answer of a call started less than a
/// second ago is reused, and a request that comes while a call is under way waits for it. So a
/// probe flood costs portod one Version a second, and a hung portod never holds an HTTP thread.
final class Readiness: Sendable {
    typealias Completion = @Sendable (Bool) -> Void

    /// How long an answer is reused.
    static let reuse: Duration = .seconds(1)

    private struct State {
        var answer: Bool?
        var startedAt: ContinuousClock.Instant?
        /// Set while a call is under way: who waits for it.
        var waiting: [Completion]?
        var calls = 0
    }

    private let portodAnswers: @Sendable () -> Bool
    private let state = Mutex(State())

    /// - Parameter portodAnswers: one call to portod; true when it answered. Must return within
    ///   about a second (the exporter gives the Version call its own short timeout).
    init(portodAnswers: @escaping @Sendable () -> Bool) {
        self.portodAnswers = portodAnswers
    }

    /// Calls made so far (tests).
    var callCount: Int { state.withLock { $0.calls } }

    /// The answer now when a call started less than ``reuse`` ago has one; otherwise nil, and
    /// `completion` gets it when the call under way (or one started now) ends, on another thread.
    func check(completion: @escaping Completion) -> Bool? {
        let now = ContinuousClock.now
        let (answer, start): (Bool?, Bool) = state.withLock { state in
            if state.waiting != nil {
                state.waiting!.append(completion)
                return (nil, false)
            }
            if let answer = state.answer, let startedAt = state.startedAt, startedAt.duration(to: now) < Self.reuse {
                return (answer, false)
            }
            state.waiting = [completion]
            state.startedAt = now
            state.calls += 1
            return (nil, true)
        }
        if start {
            DispatchQueue.global().async { [self] in
                let answered = portodAnswers()
                let waiting: [Completion] = state.withLock { state in
                    state.answer = answered
                    defer { state.waiting = nil }
                    return state.waiting ?? []
                }
                for completion in waiting { completion(answered) }
            }
        }
        return answer
    }
}
