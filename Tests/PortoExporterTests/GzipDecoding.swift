import CZlib
@testable import PortoExporter

extension Gzip {
    /// Decompresses one gzip member with zlib, a decoder independent of the encoder. nil when the
    /// input is not exactly one valid gzip member (truncated, corrupt, or with anything after it).
    static func decompress(_ input: [UInt8]) -> [UInt8]? {
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
                case Z_STREAM_END: return stream.avail_in == 0 ? output : nil
                case Z_OK: if stream.avail_in == 0 && produced == 0 { return nil }
                default: return nil
                }
            }
        }
    }
}
