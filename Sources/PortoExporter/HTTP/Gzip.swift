import CMicroHTTPD

/// gzip (RFC 1952) through zlib, for `Content-Encoding: gzip` answers.
public enum Gzip {
    /// The compression level used for scrapes. Level 1 costs a fraction of the default (6) in CPU
    /// and gives up little size on exposition text, which is highly repetitive; see BENCHMARKS.md
    /// once measured.
    public static let defaultLevel: Int32 = 1

    /// Compresses `input` into one gzip member. Returns nil only when zlib fails (out of memory).
    public static func compress(_ input: [UInt8], level: Int32 = defaultLevel) -> [UInt8]? {
        var stream = z_stream()
        guard CMicroHTTPD_deflate_init_gzip(&stream, level) == Z_OK else { return nil }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(input.count)))
        var output = [UInt8](repeating: 0, count: bound)
        let status: Int32 = input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
                stream.avail_in = uInt(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = uInt(target.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { return nil }
        output.removeSubrange(Int(stream.total_out)...)
        return output
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
