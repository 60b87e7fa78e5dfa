#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PortoWire
import Synchronization

/// What the collectors need from a connection to portod: one call with a per-call timeout.
///
/// `PortoClient` is the real one; tests may also answer in-process from porto-sim's `SimHost`.
/// A call returns portod's response or throws; an answer whose envelope `error` is not `Success`
/// may be thrown as `.porto` or returned (``CollectContext/call(_:)`` checks it either way).
public protocol PortoTransport: AnyObject, Sendable {
    func call(_ request: Porto_TPortoRequest, timeout: Duration?) throws(PortoError) -> Porto_TPortoResponse
    /// The response as bytes (an encoded `TPortoResponse`), for answers read piece by piece
    /// (ListContainersBy). The default encodes what ``call(_:timeout:)`` returns; `PortoClient`
    /// returns the bytes it received (``PortoClient/callRaw(_:timeout:)``). Its envelope may be
    /// an error: the caller checks it.
    func callRaw(_ request: Porto_TPortoRequest, timeout: Duration?) throws(PortoError) -> [UInt8]
    /// Changes whenever the transport opens a new connection to portod (nil: it does not tell).
    /// Per-connection decisions (``ConnectionState``) are kept only while it stays the same.
    var connectionGeneration: Int? { get }
    /// Where portod is reached (a socket path), for log lines; nil when the transport does not tell.
    var portodSocket: String? { get }
}

extension PortoTransport {
    public var connectionGeneration: Int? { nil }
    public var portodSocket: String? { nil }

    public func callRaw(_ request: Porto_TPortoRequest, timeout: Duration?) throws(PortoError) -> [UInt8] {
        let response = try call(request, timeout: timeout)
        do {
            return try response.serializedBytes()
        } catch {
            throw PortoError.decode("\(request.methodName) response cannot be encoded: \(error)")
        }
    }
}

/// Per-connection decisions: which fallbacks an old portod needs (docs/porto.md §8).
///
/// A decision belongs to the connection it was made on (``PortoTransport/connectionGeneration``
/// when portod answered InvalidMethod). It is forgotten when that connection is gone: when a
/// call fails with a socket, timeout or decode error (``connectionLost()``), and also when the
/// transport has silently opened another connection since (PortoClient reconnects and resends
/// without an error when it finds the connection closed before a request, as after a portod
/// upgrade: the new portod may have the method).
final class ConnectionState: Sendable {
    enum Fallback: Hashable {
        /// Containers through `Get` instead of ListContainersBy.
        case containers
        /// Volumes through ListVolumes instead of GetVolume.
        case volumes
        /// Memory through the memory.stat-derived properties in ListContainersBy, not through a
        /// `Get` of memory.stat (which portod refused).
        case memoryStat
    }

    private struct State {
        /// The connection generation each fallback was decided on (`Int.min`: the transport does not tell).
        var decided: [Fallback: Int] = [:]
        /// The notes logged on the connection `notesConnection` (``firstTime(_:connection:)``).
        var notes: Set<String> = []
        var notesConnection: Int?
        /// What ListProperties answered, and on which connection generation.
        var listed: (Int, KnownProperties)?
    }

    private let state = Mutex(State())

    /// Whether `fallback` is in use on the connection `generation` (the transport's current
    /// ``PortoTransport/connectionGeneration``). A fallback decided on another connection is
    /// forgotten here.
    func uses(_ fallback: Fallback, connection generation: Int?) -> Bool {
        state.withLock { state in
            guard let at = state.decided[fallback] else { return false }
            if let generation, at != generation {
                state.decided[fallback] = nil
                return false
            }
            return true
        }
    }

    /// Remembers `fallback` for the connection `generation`.
    func use(_ fallback: Fallback, connection generation: Int?) {
        state.withLock { $0.decided[fallback] = generation ?? Int.min }
    }

    /// Whether `note` is told for the first time on the connection `generation`: a log line that
    /// says something about the connection (a fallback, unknown properties) is written once per
    /// connection.
    func firstTime(_ note: String, connection generation: Int?) -> Bool {
        state.withLock { state in
            if let generation, generation != state.notesConnection {
                state.notes.removeAll()
                state.notesConnection = generation
            }
            return state.notes.insert(note).inserted
        }
    }

    /// The properties portod listed on the connection `generation` (``KnownProperties``), nil
    /// when ListProperties was not asked on it yet.
    func knownProperties(connection generation: Int?) -> KnownProperties? {
        state.withLock { state in
            guard let (at, known) = state.listed else { return nil }
            if let generation, at != generation {
                state.listed = nil
                return nil
            }
            return known
        }
    }

    /// Remembers what ListProperties answered on the connection `generation`.
    func setKnownProperties(_ known: KnownProperties, connection generation: Int?) {
        state.withLock { $0.listed = (generation ?? Int.min, known) }
    }

    /// Called when the connection was closed by an error.
    func connectionLost() {
        state.withLock { state in
            state.decided.removeAll()
            state.notes.removeAll()
            state.listed = nil
        }
    }
}

/// The container properties a portod knows: what ListProperties listed (docs/porto.md §3.1:
/// properties the kernel cannot support are left out), or every one when it could not say.
struct KnownProperties: Sendable {
    /// nil: ListProperties failed, so nothing is dropped.
    let names: Set<String>?

    func knows(_ property: String) -> Bool { names?.contains(property) ?? true }
}

extension PortoClient: PortoTransport {
    /// ``PortoClient/connectionsOpened``.
    public var connectionGeneration: Int? { connectionsOpened }
    /// ``PortoClient/socketPath``.
    public var portodSocket: String? { socketPath }
}
