#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import PortoWire

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
}

extension PortoTransport {
    public func callRaw(_ request: Porto_TPortoRequest, timeout: Duration?) throws(PortoError) -> [UInt8] {
        let response = try call(request, timeout: timeout)
        do {
            return try response.serializedBytes()
        } catch {
            throw PortoError.decode("\(request.methodName) response cannot be encoded: \(error)")
        }
    }
}

/// Per-connection decisions: which fallbacks an old portod needs (PORTO.md 8). Forgotten when the
/// connection is lost (socket, timeout or decode error: the client reconnects, possibly to an
/// upgraded portod).
final class ConnectionState: @unchecked Sendable {
    private let lock = Lock()
    private var _legacyContainers = false
    private var _legacyVolumes = false

    var legacyContainers: Bool {
        get { lock.withLock { _legacyContainers } }
        set { lock.withLock { _legacyContainers = newValue } }
    }

    var legacyVolumes: Bool {
        get { lock.withLock { _legacyVolumes } }
        set { lock.withLock { _legacyVolumes = newValue } }
    }

    /// Called when the connection was closed by an error.
    func connectionLost() {
        lock.withLock {
            _legacyContainers = false
            _legacyVolumes = false
        }
    }
}

/// A small pthread mutex (Foundation-free).
final class Lock: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}

extension PortoClient: PortoTransport {}
