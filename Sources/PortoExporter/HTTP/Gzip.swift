import CZlib

/// gzip (RFC 1952) through zlib, for `Content-Encoding: gzip` answers.
public enum Gzip {
    /// The compression level used for scrapes. Level 1 costs about a quarter of level 6's CPU for
    /// an answer about 26% larger (still 8 times smaller than the text): BENCHMARKS.md, "gzip level".
    /// libdeflate, faster still, compresses only whole buffers, which streamed answers never have.
    public static let defaultLevel: Int32 = 1

    /// One gzip member compressed as its reader asks for output: input is pulled chunk by chunk
    /// from a source, so neither the input nor the output is ever held whole (zlib's own state at
    /// level 1 is about 256 KB).
    final class Deflater {
        private var stream = z_stream()
        private var inputEnded = false
        private var finished = false

        /// nil when zlib cannot start (out of memory).
        init?(level: Int32 = Gzip.defaultLevel) {
            guard CZlib_deflate_init_gzip(&stream, level) == Z_OK else { return nil }
        }

        deinit { deflateEnd(&stream) }

        /// Writes up to `max` bytes of compressed output into `buffer`, pulling input from
        /// `input` (a chunk stays valid until the next pull; nil when the input ends). Returns the
        /// bytes written (at least one unless the member is complete: then 0), or nil when zlib
        /// fails.
        func read(into buffer: UnsafeMutableRawPointer, max: Int, input: () -> UnsafeRawBufferPointer?) -> Int? {
            if finished || max <= 0 { return 0 }
            stream.next_out = buffer.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(Swift.min(max, Int(UInt32.max)))
            let capacity = Int(stream.avail_out)
            while stream.avail_out > 0 && !finished {
                if stream.avail_in == 0 && !inputEnded {
                    if let chunk = input() {
                        guard let base = chunk.baseAddress, chunk.count > 0 else { continue }
                        stream.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
                        stream.avail_in = uInt(chunk.count)
                    } else {
                        inputEnded = true
                    }
                }
                let status = deflate(&stream, inputEnded ? Z_FINISH : Z_NO_FLUSH)
                if status == Z_STREAM_END {
                    finished = true
                } else if status != Z_OK && status != Z_BUF_ERROR {
                    return nil
                }
            }
            stream.next_out = nil
            return capacity - Int(stream.avail_out)
        }
    }

    /// Compresses `input` into one gzip member. Returns nil only when zlib fails (out of memory).
    public static func compress(_ input: [UInt8], level: Int32 = defaultLevel) -> [UInt8]? {
        guard let deflater = Deflater(level: level) else { return nil }
        return input.withUnsafeBytes { all -> [UInt8]? in
            var given = false
            var output: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let n = chunk.withUnsafeMutableBytes { target in
                    deflater.read(into: target.baseAddress!, max: target.count) {
                        if given || all.isEmpty { return nil }
                        given = true
                        return all
                    }
                }
                guard let n else { return nil }
                if n == 0 { return output }
                output.append(contentsOf: chunk[0..<n])
            }
        }
    }

    /// Decompresses a gzip stream (tests and tools). Returns nil when the input is not valid gzip.
    public static func decompress(_ input: [UInt8]) -> [UInt8]? {
        var stream = z_stream()
        guard CZlib_inflate_init_gzip(&stream) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        return input.withUnsafeBufferPointer { source -> [UInt8]? in
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.avail_in = uInt(source.count)
            while true {
                let (status, produced) = chunk.withUnsafeMutableBufferPointer { target -> (Int32, Int) in
                    stream.next_out = target.baseAddress
                    stream.avail_out = uInt(target.count)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    return (status, target.count - Int(stream.avail_out))
                }
                output.append(contentsOf: chunk[0..<produced])
                switch status {
                case Z_STREAM_END: return output
                case Z_OK: if stream.avail_in == 0 && produced == 0 { return nil }
                default: return nil
                }
            }
        }
    }
}
