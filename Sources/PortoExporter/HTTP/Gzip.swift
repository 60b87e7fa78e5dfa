import CMicroHTTPD

/// gzip (RFC 1952) through zlib, for `Content-Encoding: gzip` answers.
public enum Gzip {
    /// The compression level used for scrapes. Level 1 costs a fraction of the default (6) in CPU
    /// and gives up little size on exposition text, which is highly repetitive; see BENCHMARKS.md
    /// once measured.
    public static let defaultLevel: Int32 = 1

    /// Streams chunks through deflate into a `ResponseBody`: the uncompressed exposition is never
    /// held whole.
    final class Compressor {
        private var stream = z_stream()
        private let output: ResponseBody.Builder
        private var failed = false

        /// nil when zlib cannot start (out of memory).
        init?(level: Int32 = Gzip.defaultLevel, expectedInput: Int?) {
            guard CMicroHTTPD_deflate_init_gzip(&stream, level) == Z_OK else { return nil }
            // Exposition text compresses about tenfold at level 1.
            output = ResponseBody.Builder(capacity: max(4096, (expectedInput ?? 256 * 1024) / 8))
        }

        deinit { deflateEnd(&stream) }

        func append(_ chunk: UnsafeRawBufferPointer) {
            guard let base = chunk.baseAddress, chunk.count > 0 else { return }
            stream.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(chunk.count)
            run(Z_NO_FLUSH)
        }

        func finish() -> ResponseBody {
            stream.next_in = nil
            stream.avail_in = 0
            run(Z_FINISH)
            return output.finish()
        }

        private func run(_ flush: Int32) {
            while true {
                if output.spare < 4096 { output.reserve(64 * 1024) }
                let spare = output.spare
                let target = output.reserve(0)
                stream.next_out = target.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(spare)
                let status = deflate(&stream, flush)
                output.commit(spare - Int(stream.avail_out))
                if flush == Z_FINISH {
                    if status == Z_STREAM_END || status < 0 { return }
                } else if stream.avail_in == 0 && stream.avail_out > 0 || status < 0 {
                    return
                }
            }
        }
    }

    /// Compresses `input` into one gzip member. Returns nil only when zlib fails (out of memory).
    public static func compress(_ input: [UInt8], level: Int32 = defaultLevel) -> [UInt8]? {
        guard let compressor = Compressor(level: level, expectedInput: input.count) else { return nil }
        input.withUnsafeBytes { compressor.append($0) }
        return compressor.finish().bytes
    }

    /// Decompresses a gzip stream (tests and tools). Returns nil when the input is not valid gzip.
    public static func decompress(_ input: [UInt8]) -> [UInt8]? {
        var stream = z_stream()
        guard CMicroHTTPD_inflate_init_gzip(&stream) == Z_OK else { return nil }
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
