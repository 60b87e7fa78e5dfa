import Foundation

/// An immutable response body in C memory, handed to libmicrohttpd without a copy: every
/// response that sends it holds a reference, released when libmicrohttpd is done with it, so
/// scrapes sharing a collection share one buffer.
public final class ResponseBody: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer?
    public let count: Int

    fileprivate init(pointer: UnsafeMutableRawPointer?, count: Int) {
        self.pointer = pointer
        self.count = count
    }

    convenience init(_ bytes: [UInt8]) {
        let builder = Builder(capacity: bytes.count)
        bytes.withUnsafeBytes { builder.append($0) }
        self.init(pointer: builder.take(), count: bytes.count)
    }

    deinit { free(pointer) }

    /// The bytes (tests).
    public var bytes: [UInt8] {
        guard let pointer else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// Appends chunks into one malloc'd buffer, growing it by doubling when the expected size
    /// was wrong.
    final class Builder {
        private var pointer: UnsafeMutableRawPointer?
        private var capacity: Int
        private(set) var count = 0

        init(capacity: Int) {
            self.capacity = max(capacity, 1)
            pointer = malloc(self.capacity)
        }

        deinit { free(pointer) }

        func append(_ chunk: UnsafeRawBufferPointer) {
            guard let base = chunk.baseAddress, chunk.count > 0 else { return }
            reserve(chunk.count)
            (pointer! + count).copyMemory(from: base, byteCount: chunk.count)
            count += chunk.count
        }

        /// Room for `more` bytes at the end; returns where they go.
        @discardableResult
        func reserve(_ more: Int) -> UnsafeMutableRawPointer {
            if count + more > capacity {
                capacity = max(capacity * 2, count + more)
                guard let grown = realloc(pointer, capacity) else { fatalError("out of memory for a response of \(capacity) bytes") }
                pointer = grown
            }
            return pointer! + count
        }

        /// Counts `n` bytes written at `reserve`'s pointer.
        func commit(_ n: Int) { count += n }

        var spare: Int { capacity - count }

        fileprivate func take() -> UnsafeMutableRawPointer? {
            defer { pointer = nil }
            return pointer
        }

        func finish() -> ResponseBody {
            let n = count
            return ResponseBody(pointer: take(), count: n)
        }
    }
}
