import CIsal
import Glibc

/// gzip (RFC 1952) through ISA-L's igzip, for `Content-Encoding: gzip` answers.
public enum Gzip {
    /// The compression level used for scrapes (ISA-L's levels are 0 ... 3). Level 1 compresses a
    /// 3.9 MB OpenMetrics answer 3.5 times faster than zlib's level 1 did, 6% smaller; level 0 is
    /// no faster and 24% larger, level 3 5 times slower: BENCHMARKS.md, "gzip with ISA-L".
    public static let defaultLevel: Int32 = 1

    /// One gzip member compressed as its reader asks for output: input is pulled chunk by chunk
    /// from a source, so neither the input nor the output is ever held whole (ISA-L's own state
    /// at level 1 is about 165 KB: the stream's window and hash, and its level buffer).
    final class Deflater {
        private let stream: UnsafeMutablePointer<isal_zstream>
        private let levelBuffer: UnsafeMutableRawPointer?
        private var inputEnded = false
        private var finished = false

        /// nil when ISA-L cannot start (out of memory, or a level it does not have).
        init?(level: Int32 = Gzip.defaultLevel) {
            // Zeroed: isal_deflate_init leaves fields that isal_deflate reads unset (hist_bits
            // and more); on malloc's leftovers isal_deflate crashed.
            guard level >= ISAL_DEF_MIN_LEVEL && level <= ISAL_DEF_MAX_LEVEL,
                  let memory = calloc(1, MemoryLayout<isal_zstream>.size) else { return nil }
            let levelSize = CIsal_level_buf_size(UInt32(level))
            var levelBuffer: UnsafeMutableRawPointer?
            if levelSize > 0 {
                guard let allocated = malloc(Int(levelSize)) else { free(memory); return nil }
                levelBuffer = allocated
            }
            stream = memory.bindMemory(to: isal_zstream.self, capacity: 1)
            self.levelBuffer = levelBuffer
            isal_deflate_init(stream)
            stream.pointee.level = UInt32(level)
            stream.pointee.level_buf = levelBuffer?.assumingMemoryBound(to: UInt8.self)
            stream.pointee.level_buf_size = levelSize
            stream.pointee.gzip_flag = UInt16(IGZIP_GZIP)
            stream.pointee.flush = UInt16(NO_FLUSH)
        }

        deinit {
            free(levelBuffer)
            free(stream)
        }

        /// Writes up to `max` bytes of compressed output into `buffer`, pulling input from
        /// `input` (a chunk stays valid until the next pull; nil when the input ends). Returns the
        /// bytes written (at least one unless the member is complete: then 0), or nil when ISA-L
        /// fails.
        func read(into buffer: UnsafeMutableRawPointer, max: Int, input: () -> UnsafeRawBufferPointer?) -> Int? {
            if finished || max <= 0 { return 0 }
            stream.pointee.next_out = buffer.assumingMemoryBound(to: UInt8.self)
            stream.pointee.avail_out = UInt32(Swift.min(max, Int(UInt32.max)))
            let capacity = Int(stream.pointee.avail_out)
            // isal_deflate returns when its input is used up or its output full; with
            // end_of_stream set it goes on (over as many calls as the output needs) until the
            // trailer is written, its state then ZSTATE_END.
            while stream.pointee.avail_out > 0 && !finished {
                if stream.pointee.avail_in == 0 && !inputEnded {
                    if let chunk = input() {
                        guard let base = chunk.baseAddress, chunk.count > 0 else { continue }
                        stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: UInt8.self))
                        stream.pointee.avail_in = UInt32(chunk.count)
                    } else {
                        inputEnded = true
                        stream.pointee.end_of_stream = 1
                    }
                }
                guard isal_deflate(stream) == COMP_OK else { return nil }
                finished = stream.pointee.internal_state.state == ZSTATE_END
            }
            let written = capacity - Int(stream.pointee.avail_out)
            stream.pointee.next_out = nil
            stream.pointee.avail_out = 0
            return written
        }
    }

    /// Compresses `input` into one gzip member. Returns nil when ISA-L cannot start (out of
    /// memory, a level it does not have) or fails.
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
}
