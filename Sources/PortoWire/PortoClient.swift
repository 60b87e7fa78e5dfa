import FoundationEssentials
import SwiftProtobuf
import Synchronization

/// A client for portod's RPC over its unix socket (docs/porto.md §1).
///
/// One `PortoClient` holds at most one connection. It is opened on the first call and kept open
/// between calls: portod logs every connection of a read-only client, so an exporter should keep
/// one long-lived connection rather than connect per scrape (docs/porto.md §1.6). The client is locked
/// internally and may be shared between threads; calls are serialised, one request in flight at a
/// time, as portod itself handles a connection (docs/porto.md §1.3).
///
/// Every call has one deadline, shared by connect, write and read; nothing blocks past it.
///
/// Error handling, in short (see ``PortoError``):
/// - An envelope error from portod throws `.porto(code, message:)` and keeps the connection.
/// - A socket, timeout or decode error closes the connection; the next call opens a new one.
/// - If the connection turns out to be closed *before* the request was sent (portod reloaded or
///   restarted since the last call), the client reconnects and sends the request once more. It
///   never retries after a timeout or once any byte of the request was written, because portod
///   may then have processed it.
///
/// AsyncWait push messages that arrive while waiting for the reply to any other request are
/// skipped (docs/porto.md §1.4).
///
/// ```swift
/// let porto = PortoClient(socketPath: PortoClient.socketPathFromEnvironment(), timeout: .seconds(5))
/// let (tag, _) = try porto.version()
/// let containers = try porto.listContainersBy(properties: ["state", "cpu_usage", "memory_usage"])
/// // containers[0] is "/", the host as a whole; see docs/porto.md §4 before adding levels together.
/// ```
public final class PortoClient: Sendable {
    /// portod's socket: `/run/portod.socket`.
    public static let defaultSocketPath = "/run/portod.socket"

    /// The socket path a tool should use by default: the `PORTO_SOCKET` environment variable when
    /// it is set and not empty (as upstream's Go client honours it), else ``defaultSocketPath``.
    /// ``init(socketPath:timeout:observer:)`` never reads the environment by itself.
    public static func socketPathFromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String {
        if let path = environment["PORTO_SOCKET"], !path.isEmpty { return path }
        return defaultSocketPath
    }

    /// Called once per RPC, after it finished, with the method name
    /// (``Porto_TPortoRequest/methodName``), the seconds it took (connect and any retry included)
    /// and the error it threw, or nil. The exporter turns it into
    /// `porto_exporter_request_duration_seconds{method}`. Called outside the client's lock.
    public typealias CallObserver = @Sendable (_ method: String, _ seconds: Double, _ error: PortoError?) -> Void

    /// The path of the unix socket this client connects to.
    public let socketPath: String
    /// The deadline of a call that does not pass its own.
    public let timeout: Duration
    private let observer: CallObserver?

    /// The connection and what was opened so far, held for a whole exchange: one request in flight.
    private let state = Mutex(State())

    private struct State {
        var connection: Connection?
        var connectsMade = 0
    }

    /// Creates a client. Nothing is connected until the first call.
    ///
    /// - Parameters:
    ///   - socketPath: the unix socket of portod (see ``socketPathFromEnvironment(_:)``).
    ///   - timeout: the default deadline of each call, connect included. 2-10 s suits an exporter
    ///     (docs/porto.md §1.8).
    ///   - observer: see ``CallObserver``.
    public init(socketPath: String = PortoClient.defaultSocketPath, timeout: Duration = .seconds(5),
                observer: CallObserver? = nil) {
        self.socketPath = socketPath
        self.timeout = timeout
        self.observer = observer
    }

    deinit { state.withLock { $0.connection?.close() } }

    /// Closes the connection if one is open. The next call opens a new one.
    public func close() {
        state.withLock { state in
            state.connection?.close()
            state.connection = nil
        }
    }

    /// How many connections this client has opened so far (reconnects included).
    public var connectionsOpened: Int {
        state.withLock { $0.connectsMade }
    }

    /// Sends `request` and returns portod's response. Any method can be called this way; the typed
    /// calls in this file are wrappers around it.
    ///
    /// - Parameters:
    ///   - request: a request with exactly one method field set. Fields that upstream's schema marks
    ///     `required` must be set (docs/porto.md §0): otherwise portod closes the connection without a
    ///     reply, which surfaces here as `.socket(.closed, …)`.
    ///   - timeout: this call's deadline; the client's ``timeout`` when nil.
    /// - Returns: the response, whose `error` is `Success`.
    /// - Throws: ``PortoError``: `.porto(code, message:)` for an envelope error, including
    ///   `.lostError` when the `error` field is missing; `.socket`, `.timeout` or `.decode`
    ///   (connection closed). For an `AsyncWait` request the first frame received is returned as is
    ///   (it may be a push that portod sent before the reply).
    public func call(_ request: Porto_TPortoRequest, timeout: Duration? = nil) throws(PortoError) -> Porto_TPortoResponse {
        let isAsyncWait = request.hasAsyncWait
        let method = request.methodName
        return try observed(request, timeout: timeout) { (body: [UInt8]) throws(PortoError) -> Porto_TPortoResponse? in
            let response: Porto_TPortoResponse
            do {
                response = try Porto_TPortoResponse(serializedBytes: body)
            } catch {
                throw PortoError.decode("\(method) response (\(body.count) bytes) is not a TPortoResponse: \(error)")
            }
            // A push for an AsyncWait subscription (docs/porto.md §1.4) is not the reply.
            if response.hasAsyncWait && !isAsyncWait { return nil }
            guard response.hasError else {
                throw PortoError.porto(.lostError, message: "\(method) response has no error field")
            }
            guard response.error == .success else {
                throw PortoError.porto(response.error, message: response.errorMsg)
            }
            return response
        }
    }

    /// Like ``call(_:timeout:)``, but returns the response's bytes (an encoded `TPortoResponse`)
    /// without decoding them: for a large answer that the caller reads piece by piece with
    /// ``WireReader`` (the exporter decodes a ListContainersBy answer one container at a time, so
    /// that the decoded messages of all containers never exist at once).
    ///
    /// The envelope is checked as ``call(_:timeout:)`` checks it (``ResponseEnvelope``): a missing
    /// `error` field throws `.porto(.lostError, …)`, an error other than `Success` throws
    /// `.porto(code, message:)`, AsyncWait pushes are skipped, and bytes whose top-level fields are
    /// not well-formed throw `.decode` (connection closed). The fields inside the returned bytes
    /// are not checked: the caller's decoding does that.
    public func callRaw(_ request: Porto_TPortoRequest, timeout: Duration? = nil) throws(PortoError) -> [UInt8] {
        let isAsyncWait = request.hasAsyncWait
        let method = request.methodName
        return try observed(request, timeout: timeout) { (body: [UInt8]) throws(PortoError) -> [UInt8]? in
            let envelope: ResponseEnvelope
            do throws(PortoError) {
                envelope = try ResponseEnvelope(body)
            } catch {
                throw PortoError.decode("\(method) response (\(body.count) bytes) is not a TPortoResponse: \(error)")
            }
            if envelope.isAsyncWait && !isAsyncWait { return nil }
            try envelope.check(method: method)
            return body
        }
    }

    /// Runs one exchange under the lock, then tells the observer. `accept` turns a received frame
    /// into the result, or nil for a push that is not the reply.
    private func observed<T: Sendable>(
        _ request: Porto_TPortoRequest, timeout: Duration?, accept: @Sendable ([UInt8]) throws(PortoError) -> T?
    ) throws(PortoError) -> T {
        let started = ContinuousClock.now
        let result = state.withLock { state -> Result<T, PortoError> in
            do throws(PortoError) {
                return .success(try exchange(request, on: &state, timeout: timeout ?? self.timeout, accept: accept))
            } catch {
                return .failure(error)
            }
        }
        if let observer {
            let elapsed = started.duration(to: .now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            if case .failure(let error) = result {
                observer(request.methodName, seconds, error)
            } else {
                observer(request.methodName, seconds, nil)
            }
        }
        return try result.get()
    }

    // MARK: - The exchange, under the lock

    private func exchange<T>(
        _ request: Porto_TPortoRequest, on state: inout State, timeout: Duration,
        accept: @Sendable ([UInt8]) throws(PortoError) -> T?
    ) throws(PortoError) -> T {
        let method = request.methodName
        let deadline = Deadline(after: timeout)
        let frame: [UInt8]
        do {
            frame = try Framing.frame(try request.serializedBytes())
        } catch let error as Framing.FrameError {
            throw .decode("\(method) request not sent: \(error)")
        } catch {
            throw .decode("\(method) request cannot be encoded: \(error)")
        }

        do throws(PortoError) {
            try send(frame, on: &state, deadline: deadline)
            while true {
                let body = try state.connection!.readFrame(deadline: deadline)
                if let result = try accept(body) { return result }
            }
        } catch {
            switch error {
            case .porto:
                break // portod answered in full; the stream is in step
            case .timeout(let doing):
                Self.dropConnection(&state)
                throw .timeout("\(method): no answer within \(timeout) (deadline passed while \(doing))")
            case .socket, .decode:
                Self.dropConnection(&state)
            }
            throw error
        }
    }

    /// Sends `frame` on the open connection, (re)connecting as needed: a connection found closed
    /// before anything was written is replaced once.
    private func send(_ frame: [UInt8], on state: inout State, deadline: Deadline) throws(PortoError) {
        var reused = false
        if let existing = state.connection {
            if existing.peerHasClosed {
                Self.dropConnection(&state)
            } else {
                reused = true
            }
        }
        while true {
            if state.connection == nil {
                state.connection = try Connection.open(path: socketPath, deadline: deadline)
                state.connectsMade += 1
            }
            do {
                try state.connection!.write(frame, deadline: deadline)
                return
            } catch {
                Self.dropConnection(&state)
                if reused, error.bytesWritten == 0, case .socket(.closed, _) = error.error {
                    // portod went away between calls, and saw nothing of this request.
                    reused = false
                    continue
                }
                throw error.error
            }
        }
    }

    private static func dropConnection(_ state: inout State) {
        state.connection?.close()
        state.connection = nil
    }
}
