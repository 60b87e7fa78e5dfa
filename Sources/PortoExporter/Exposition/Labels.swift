/// A set of labels rendered once into exposition bytes (`name="a\"b",parent="/"`, without the
/// braces), with every value escaped. Build one per object (per container, per volume) and pass it
/// to every sample of that object: the escaping is done once, not once per sample.
public struct Labels: Sendable, Equatable {
    /// The rendered bytes, for example `name="a/b",level="2"`.
    public private(set) var bytes: [UInt8]

    /// No labels.
    public static let none = Labels()

    public init() { bytes = [] }

    /// Labels from (name, value) pairs in the given order. Names must be valid label names; values
    /// are escaped (`\\`, `\"`, `\n`).
    public init(_ pairs: KeyValuePairs<String, String>) {
        bytes = []
        for (name, value) in pairs { append(name, value) }
    }

    /// `name="value"`: a container's or a volume's label set, made for each of them every
    /// collection (the general initialiser costs several times more).
    public init(name value: String) {
        bytes = []
        bytes.reserveCapacity(value.utf8.count + 8)
        ("name=\"" as StaticString).withUTF8Buffer { bytes.append(contentsOf: $0) }
        Labels.appendEscaped(value, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Labels from (name, value) pairs in the given order.
    public init(pairs: [(String, String)]) {
        bytes = []
        for (name, value) in pairs { append(name, value) }
    }

    /// Appends one label; `name` must be a valid label name (checked in debug builds).
    public mutating func append(_ name: String, _ value: String) {
        assert(MetricFamily.isValidLabelName(name), "invalid label name \(name)")
        if !bytes.isEmpty { bytes.append(UInt8(ascii: ",")) }
        bytes.append(contentsOf: name.utf8)
        bytes.append(UInt8(ascii: "="))
        bytes.append(UInt8(ascii: "\""))
        Labels.appendEscaped(value, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    public var isEmpty: Bool { bytes.isEmpty }

    /// Appends a label value escaped for both formats: `\` as `\\`, `"` as `\"`, newline as `\n`.
    @inline(__always)
    static func appendEscaped(_ value: String, to out: inout [UInt8]) {
        var value = value
        value.withUTF8 { utf8 in appendEscaped(utf8, to: &out) }
    }

    /// ``appendEscaped(_:to:)`` written at `p`, which has room for twice `utf8`'s bytes; returns
    /// the bytes written.
    @inline(__always)
    static func writeEscaped(_ utf8: UnsafeBufferPointer<UInt8>, at p: UnsafeMutablePointer<UInt8>) -> Int {
        if !needsEscaping(utf8) {
            if let base = utf8.baseAddress { p.initialize(from: base, count: utf8.count) }
            return utf8.count
        }
        var n = 0
        for b in utf8 {
            switch b {
            case 0x5C: p[n] = 0x5C; p[n + 1] = 0x5C; n += 2
            case 0x22: p[n] = 0x5C; p[n + 1] = 0x22; n += 2
            case 0x0A: p[n] = 0x5C; p[n + 1] = UInt8(ascii: "n"); n += 2
            default: p[n] = b; n += 1
            }
        }
        return n
    }

    /// Whether ``appendEscaped(_:to:)`` changes `utf8`.
    @inline(__always)
    static func needsEscaping(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        let n = utf8.count
        // Eight bytes at a time (every container's name and every owner goes through here): a
        // byte of `w ^ c` is zero where `w` holds the byte repeated in `c`.
        if let base = utf8.baseAddress {
            let raw = UnsafeRawPointer(base)
            let ones: UInt64 = 0x0101_0101_0101_0101, high: UInt64 = 0x8080_8080_8080_8080
            @inline(__always) func hasZeroByte(_ x: UInt64) -> Bool { (x &- ones) & ~x & high != 0 }
            while i + 8 <= n {
                let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                if hasZeroByte(w ^ (ones &* 0x5C)) || hasZeroByte(w ^ (ones &* 0x22)) || hasZeroByte(w ^ (ones &* 0x0A)) { return true }
                i += 8
            }
        }
        while i < n {
            let b = utf8[i]
            if b == 0x5C || b == 0x22 || b == 0x0A { return true }
            i += 1
        }
        return false
    }

    /// ``appendEscaped(_:to:)`` for UTF-8 bytes.
    @inline(__always)
    static func appendEscaped(_ utf8: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        if !needsEscaping(utf8) { out.append(contentsOf: utf8); return }
        for b in utf8 {
            switch b {
            case 0x5C: out.append(0x5C); out.append(0x5C)
            case 0x22: out.append(0x5C); out.append(0x22)
            case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
            default: out.append(b)
            }
        }
    }
}
