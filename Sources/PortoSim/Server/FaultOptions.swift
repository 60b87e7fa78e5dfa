/// The ways a ``SimServer`` can misbehave, for tests of how a client copes with a broken portod.
///
/// Every fault is independent; when several are set, one reply shows the first that applies in
/// this order: `hang`, `oversizedPrefix`, `garbage`, `cutFrame`; `delay` comes before any of them,
/// and `fail` / `failListContainersBy` / `noErrorField` change the reply that is sent. A socket that is
/// missing or refuses connections is not a fault mode: stop the server (``SimServer/stop()``).
public struct FaultOptions: Sendable, Equatable, CustomStringConvertible {
    /// Wait this long before each reply (the connection stays silent meanwhile).
    public var delay: Duration = .zero
    /// Read requests and never answer them; the connection stays open until the client closes it.
    public var hang = false
    /// Answer with a frame whose body is not valid protobuf.
    public var garbage = false
    /// Send the first half of the reply frame (cut inside its body), then close the connection.
    public var cutFrame = false
    /// Send a length prefix announcing 64 MiB (over the 32 MiB limit) and nothing else; the
    /// connection stays open, so a client that trusts the prefix waits for its deadline.
    public var oversizedPrefix = false
    /// Send the reply without its envelope `error` field (a decoder reads `LostError`).
    public var noErrorField = false
    /// Answer every `ListContainersBy` with the envelope error `Unknown` "injected failure".
    public var failListContainersBy = false
    /// Answer with the envelope error `Unknown` "injected failure" (with `onlyMethod`: only
    /// requests of that method), as portod answers a request that failed: the connection stays.
    public var fail = false
    /// Close each connection after it has been answered this many requests.
    public var closeAfterRequests: Int?
    /// When set, `delay`, `hang`, `garbage`, `cutFrame`, `oversizedPrefix`, `noErrorField` and `fail` apply
    /// only to requests of this method (``Porto_TPortoRequest/methodName``, e.g. `"GetSystem"`).
    public var onlyMethod: String?

    /// No fault: the server behaves like a healthy portod.
    public static let none = FaultOptions()

    /// The length a ``oversizedPrefix`` reply announces.
    public static let oversizedLength: UInt32 = 64 << 20

    /// The message of the ``fail`` and ``failListContainersBy`` error.
    public static let injectedFailureMessage = "injected failure"

    public init(
        delay: Duration = .zero, hang: Bool = false, garbage: Bool = false, cutFrame: Bool = false,
        oversizedPrefix: Bool = false, noErrorField: Bool = false, failListContainersBy: Bool = false,
        closeAfterRequests: Int? = nil, onlyMethod: String? = nil, fail: Bool = false
    ) {
        self.delay = delay
        self.hang = hang
        self.garbage = garbage
        self.cutFrame = cutFrame
        self.oversizedPrefix = oversizedPrefix
        self.noErrorField = noErrorField
        self.failListContainersBy = failListContainersBy
        self.closeAfterRequests = closeAfterRequests
        self.onlyMethod = onlyMethod
        self.fail = fail
    }

    /// Whether the method-specific faults apply to a request of `method`.
    public func applies(to method: String) -> Bool {
        onlyMethod.map { $0 == method } ?? true
    }

    /// The faults in the control socket's syntax (``init(words:)`` parses it back); `none` when empty.
    public var description: String {
        var words: [String] = []
        if delay != .zero { words += ["delay", Self.format(delay)] }
        if hang { words.append("hang") }
        if garbage { words.append("garbage") }
        if cutFrame { words.append("cut") }
        if oversizedPrefix { words.append("oversized") }
        if noErrorField { words.append("no-error") }
        if failListContainersBy { words.append("fail-lcb") }
        if fail { words.append("fail") }
        if let n = closeAfterRequests { words += ["close-after", String(n)] }
        if let method = onlyMethod { words += ["only", method] }
        return words.isEmpty ? "none" : words.joined(separator: " ")
    }

    // MARK: - Parsing

    /// Why a fault specification was refused; the description is shown to the user as is.
    public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Parses the control socket's fault syntax: one or more of `delay DURATION`, `hang`,
    /// `garbage`, `cut`, `oversized`, `no-error`, `fail-lcb`, `fail`, `close-after N`, `only METHOD`, or
    /// `none` alone. `DURATION` is a number with `ms` (the default), `s` or `us`.
    public init(words: [String]) throws(ParseError) {
        self.init()
        guard !words.isEmpty else { throw ParseError(description: "fault: expected a mode or none") }
        if words == ["none"] { return }
        var rest = words[...]
        while let word = rest.popFirst() {
            switch word {
            case "delay":
                guard let text = rest.popFirst() else { throw ParseError(description: "delay: expected a duration such as 200ms") }
                delay = try Self.parseDuration(text)
            case "hang": hang = true
            case "garbage": garbage = true
            case "cut": cutFrame = true
            case "oversized": oversizedPrefix = true
            case "no-error": noErrorField = true
            case "fail-lcb": failListContainersBy = true
            case "fail": fail = true
            case "close-after":
                guard let text = rest.popFirst(), let n = Int(text), n > 0 else {
                    throw ParseError(description: "close-after: expected a positive number of requests")
                }
                closeAfterRequests = n
            case "only":
                guard let method = rest.popFirst() else { throw ParseError(description: "only: expected a method name such as GetSystem") }
                onlyMethod = method
            case "none":
                throw ParseError(description: "none cannot be combined with other faults")
            default:
                throw ParseError(description: "unknown fault \(word) (expected delay, hang, garbage, cut, oversized, no-error, fail-lcb, fail, close-after, only or none)")
            }
        }
    }

    /// Parses `200ms`, `1.5s`, `500us` or a bare number of milliseconds.
    public static func parseDuration(_ text: String) throws(ParseError) -> Duration {
        let units: [(suffix: String, nanoseconds: Double)] = [("ms", 1e6), ("us", 1e3), ("s", 1e9)]
        var number = Substring(text)
        var scale = 1e6
        for unit in units where text.hasSuffix(unit.suffix) {
            number = text.dropLast(unit.suffix.count)
            scale = unit.nanoseconds
            break
        }
        guard let value = Double(number), value >= 0, value.isFinite, value * scale < 1e15 else {
            throw ParseError(description: "invalid duration \(text) (expected e.g. 200ms, 1.5s, 500us)")
        }
        return .nanoseconds(Int64(value * scale))
    }

    static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let nanoseconds = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
        if nanoseconds % 1_000_000 == 0 { return "\(nanoseconds / 1_000_000)ms" }
        return "\(nanoseconds / 1_000)us"
    }
}
