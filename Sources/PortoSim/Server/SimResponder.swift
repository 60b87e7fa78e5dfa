import PortoWire

/// What a ``SimServer`` needs from the host it serves: ``SimHost`` in the simulator, a small fake
/// in the server's own tests.
public protocol SimResponder: AnyObject, Sendable {
    /// The answer portod would give; nil means portod closes the connection without a reply
    /// (unparseable request, missing upstream-required field; PORTO.md 1.2).
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
}

extension SimResponder {
    public func canCache(_ request: Porto_TPortoRequest) -> Bool { true }
    public func servedFromCache(_ request: Porto_TPortoRequest, error: Porto_EError) {}
    public func connectionsChanged(opened: Bool, open: Int) {}
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

    /// Keeps GetSystem's `client_count` and `client_connected` true.
    public func connectionsChanged(opened: Bool, open: Int) {
        if opened { noteClientConnected() }
        clientCount = UInt64(open)
    }
}
