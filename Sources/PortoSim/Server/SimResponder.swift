import PortoWire

/// What a ``SimServer`` needs from the host it serves: ``SimHost`` in the simulator, a small fake
/// in the server's own tests.
public protocol SimResponder: AnyObject, Sendable {
    /// The answer portod would give; nil means portod closes the connection without a reply
    /// (unparseable request, missing upstream-required field; docs/porto.md §1.2).
    func respond(to request: Porto_TPortoRequest) -> Porto_TPortoResponse?

    /// Changes whenever any answer may change. The server caches encoded answers per generation,
    /// and assumes generations only increase.
    var generation: UInt64 { get }

    /// Makes something happen on the host (control socket, ``SimServer/restart()``). Returns false,
    /// changing nothing, when it cannot happen (no such container, or not in its state).
    @discardableResult
    func inject(_ event: SimEvent) -> Bool

    /// Whether the answer to `request` may be reused within one generation. Default: true.
    func canCache(_ request: Porto_TPortoRequest) -> Bool

    /// A request was answered from the cache, with this envelope error: the host may count it.
    /// Default: nothing.
    func servedFromCache(_ request: Porto_TPortoRequest, error: Porto_EError)

    /// A connection was accepted (`opened`) or closed; `open` connections remain. Default: nothing.
    func connectionsChanged(opened: Bool, open: Int)

    /// The answer encoded as the body of a reply frame, with the generation it belongs to; with
    /// `counting` false the host must not count the request (the server builds it ahead of time).
    /// Default: ``respond(to:)`` encoded (always counted), with ``generation`` read first.
    func encodedAnswer(to request: Porto_TPortoRequest, counting: Bool) -> SimEncodedAnswer

    /// Whether an answer of generation `old` may stand in for one of `current` while it is
    /// rebuilt: only when nothing but one tick of the clock lies between them. Default: false.
    func isPreviousTick(_ old: UInt64, of current: UInt64) -> Bool

    /// Does ahead of time what the answers of the current generation share. Default: nothing.
    func prepare()

    /// The CPU `request` would cost portod, in nanoseconds (``SimCostModel``), counted for every
    /// request read, cached answers included. Default: 0.
    func modelledCost(of request: Porto_TPortoRequest) -> UInt64
}

extension SimResponder {
    public func canCache(_ request: Porto_TPortoRequest) -> Bool { true }
    public func servedFromCache(_ request: Porto_TPortoRequest, error: Porto_EError) {}
    public func connectionsChanged(opened: Bool, open: Int) {}
    public func isPreviousTick(_ old: UInt64, of current: UInt64) -> Bool { false }
    public func prepare() {}
    public func modelledCost(of request: Porto_TPortoRequest) -> UInt64 { 0 }

    public func encodedAnswer(to request: Porto_TPortoRequest, counting: Bool) -> SimEncodedAnswer {
        let generation = self.generation
        guard let response = respond(to: request) else {
            return SimEncodedAnswer(body: nil, error: .success, generation: generation)
        }
        return SimEncodedAnswer(body: try? response.serializedBytes(), error: response.error, generation: generation)
    }
}

extension SimHost: SimResponder {
    /// GetSystem counts requests, so its answer changes with every request (``SimHost/isCacheable(_:)``).
    public func canCache(_ request: Porto_TPortoRequest) -> Bool {
        Self.isCacheable(request)
    }

    /// Keeps GetSystem's request counters true when the server did not call ``respond(to:)``.
    public func servedFromCache(_ request: Porto_TPortoRequest, error: Porto_EError) {
        var response = Porto_TPortoResponse()
        response.error = error
        noteServedFromCache(request, response: response)
    }

    /// One second of the clock apart, and no event between (``generation`` is the clock's
    /// seconds above 20 bits of event count).
    public func isPreviousTick(_ old: UInt64, of current: UInt64) -> Bool {
        old >> 20 &+ 1 == current >> 20 && old & 0xFFFFF == current & 0xFFFFF
    }

    /// Keeps GetSystem's `client_count` and `client_connected` true.
    public func connectionsChanged(opened: Bool, open: Int) {
        if opened { noteClientConnected() }
        clientCount = UInt64(open)
    }
}
