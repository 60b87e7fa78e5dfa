import Foundation

/// A tiny blocking HTTP/1.1 client over a raw TCP socket, for exact control in tests: what is
/// sent is byte for byte what the test wrote, several requests can share one connection, and
/// every read has a bounded wait.
public final class HTTPTestClient {
    public struct Response: CustomStringConvertible {
        public var status: Int
        public var headers: [(String, String)]
        public var body: [UInt8]
        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
        public var text: String { String(decoding: body, as: UTF8.self) }
        public var description: String { "HTTP \(status) \(headers) \(text.prefix(200))" }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    private let fd: Int32
    private var buffer: [UInt8] = []

    /// Connects to 127.0.0.1:`port`; reads wait at most `timeout` seconds each.
    public init(port: UInt16, timeout: Double = 10) throws {
        fd = try Self.connect(port: port, timeout: timeout)
    }

    /// A TCP socket connected to 127.0.0.1:`port`, each read and write waiting at most `timeout`
    /// seconds (shared with ``RawConnection``).
    public static func connect(port: UInt16, timeout: Double) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(errno)") }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else {
            let error = errno
            close(fd)
            throw Failure(description: "connect to port \(port): errno \(error)")
        }
        return fd
    }

    deinit { close(fd) }

    /// Sends raw bytes.
    public func send(_ text: String) throws {
        var bytes = Array(text.utf8)
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send: errno \(errno)") }
            bytes.removeFirst(n)
        }
    }

    /// Sends a request with the given headers (Host is added) and reads the answer.
    public func request(_ method: String = "GET", _ path: String, headers: [String: String] = [:]) throws -> Response {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        try send(text)
        return try readResponse(method: method)
    }

    /// Reads one response; HEAD responses have no body whatever Content-Length says.
    public func readResponse(method: String = "GET") throws -> Response {
        let headerEnd: Int = try {
            while true {
                if let range = find([13, 10, 13, 10]) { return range }
                try fill()
            }
        }()
        let head = String(decoding: buffer[0..<headerEnd], as: UTF8.self)
        buffer.removeFirst(headerEnd + 4)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw Failure(description: "bad status line in \(head)") }
        let headers: [(String, String)] = lines.compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        var response = Response(status: status, headers: headers, body: [])
        if method == "HEAD" || status == 204 || status == 304 { return response }
        if let length = response.header("Content-Length").flatMap(Int.init) {
            while buffer.count < length { try fill() }
            response.body = Array(buffer[0..<length])
            buffer.removeFirst(length)
        } else if response.header("Transfer-Encoding")?.lowercased() == "chunked" {
            while true {
                var lineEnd: Int
                while true { if let e = find([13, 10]) { lineEnd = e; break }; try fill() }
                let sizeText = String(decoding: buffer[0..<lineEnd], as: UTF8.self).split(separator: ";")[0]
                guard let size = Int(sizeText, radix: 16) else { throw Failure(description: "bad chunk size") }
                buffer.removeFirst(lineEnd + 2)
                while buffer.count < size + 2 { try fill() }
                response.body += buffer[0..<size]
                buffer.removeFirst(size + 2)
                if size == 0 { break }
            }
        } else {
            while (try? fill()) != nil {}
            response.body = buffer
            buffer = []
        }
        return response
    }

    /// Whether the server closed the connection (waits at most the read timeout).
    public func isClosedByPeer() -> Bool {
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, 0)
        return n == 0
    }

    private func find(_ pattern: [UInt8]) -> Int? {
        guard buffer.count >= pattern.count else { return nil }
        for i in 0...(buffer.count - pattern.count) where buffer[i] == pattern[0] {
            if Array(buffer[i..<(i + pattern.count)]) == pattern { return i }
        }
        return nil
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &chunk, chunk.count, 0)
        guard n > 0 else { throw Failure(description: n == 0 ? "connection closed" : "recv: errno \(errno) (timeout?)") }
        buffer += chunk[0..<n]
    }
}
