import Foundation

/// One request on a fresh connection, whatever the bytes: the status of the answer, or `.closed`
/// when the server closed (or reset) the connection without one. Waits at most 20 s.
public enum RawExchange: Equatable, CustomStringConvertible {
    case status(Int)
    case closed

    public var description: String {
        switch self {
        case .status(let s): "HTTP \(s)"
        case .closed: "closed without an answer"
        }
    }

    public static func send(_ request: String, port: UInt16) -> RawExchange {
        guard let c = try? RawConnection(port: port) else { return .closed }
        c.send(request)
        return (try? c.readStatus()).map { .status($0) } ?? .closed
    }
}

/// A TCP connection that sends bytes as they are (Latin-1: each scalar below 256 is one byte)
/// and tolerates the server hanging up mid-send, as a hostile client would.
public final class RawConnection {
    public let fd: Int32
    private var buffer: [UInt8] = []

    public init(port: UInt16, timeout: Int = 20) throws {
        fd = try HTTPTestClient.connect(port: port, timeout: Double(timeout))
    }

    deinit { close(fd) }

    /// Sends the text's scalars as bytes; stops quietly when the server closes.
    public func send(_ text: String) {
        var bytes = text.unicodeScalars.map { $0.value < 256 ? UInt8($0.value) : UInt8(ascii: "?") }
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return }
            bytes.removeFirst(n)
        }
    }

    /// Whether something (an answer or EOF) is waiting to be read.
    public var hasData: Bool {
        if !buffer.isEmpty { return true }
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) > 0
    }

    /// Reads the status line of the next answer (and drops the rest of its head).
    public func readStatus() throws -> Int {
        try readResponse(headOnly: true).status
    }

    public struct Response {
        public var status: Int
        public var head: String
        public var body: String
    }

    /// Reads one answer; the body is read by Content-Length (or to EOF), unless `headOnly`.
    public func readResponse(headOnly: Bool = false) throws -> Response {
        var end: Int?
        while end == nil {
            end = buffer.firstRange(of: [13, 10, 13, 10])?.lowerBound
            if end == nil { try fill() }
        }
        let head = String(decoding: buffer[..<end!], as: UTF8.self)
        buffer.removeFirst(end! + 4)
        let parts = head.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else {
            throw HTTPTestClient.Failure(description: "not an HTTP answer: \(head.prefix(100))")
        }
        if headOnly { return Response(status: status, head: head, body: "") }
        let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) }
        if let length {
            while buffer.count < length { try fill() }
        } else {
            while (try? fill()) != nil {}
        }
        let body = String(decoding: buffer.prefix(length ?? buffer.count), as: UTF8.self)
        buffer.removeFirst(min(buffer.count, length ?? buffer.count))
        return Response(status: status, head: head, body: body)
    }

    /// Whether the server closes the connection (waits at most the read timeout).
    public func readsEOF() -> Bool {
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, 0) == 0
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &chunk, chunk.count, 0)
        guard n > 0 else { throw HTTPTestClient.Failure(description: n == 0 ? "connection closed" : "recv: errno \(errno)") }
        buffer += chunk[0..<n]
    }
}
