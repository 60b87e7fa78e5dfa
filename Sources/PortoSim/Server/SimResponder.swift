import PortoWire

/// What a ``SimServer`` needs from the host it serves: ``SimHost`` in the simulator, a small fake
/// in the server's own tests.
public protocol SimResponder: AnyObject, Sendable {
    /// The answer portod would give; nil means portod closes the connection without a reply
    /// (unparseable request, missing upstream-required field; PORTO.md 1.2).
    func respond(to request: Porto_TPortoRequest) -> Porto_TPortoResponse?

    /// Changes whenever any answer may change. The server caches encoded answers per generation.
    var generation: UInt64 { get }

    /// Makes something happen on the host, as asked on the control socket or by
    /// ``SimServer/restart()``.
    ///
    /// - Throws: ``HostEventError`` when the event cannot happen (e.g. no such container); its
    ///   message goes back to the control client.
    func apply(_ event: HostEvent) throws(HostEventError)
}

/// An event the control socket can make happen on the simulated host.
public enum HostEvent: Equatable, Sendable {
    /// The kernel OOM-kills a process in the named container (its OOM counters grow).
    case oomKill(String)
    /// The named container fails to start (`container_start_failed` grows).
    case failStart(String)
    /// portod restarts: `porto_starts` grows by one and its uptime starts again from zero.
    case restart
}

/// Why a ``HostEvent`` could not happen.
public struct HostEventError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
