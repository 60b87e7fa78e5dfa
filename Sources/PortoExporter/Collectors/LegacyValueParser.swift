/// Parses the string values `Get` returns (docs/porto.md §3.1), for portods without ListContainersBy.
///
/// Each function returns nil for a value it cannot parse: the caller drops that one sample.
/// Public only so that the libFuzzer target `FuzzLegacy` (Fuzz/) can reach it.
public enum LegacyValueParser {
    /// A decimal unsigned integer, nothing else (no sign, no spaces). `""` (unset) gives nil.
    public static func uint(_ s: String) -> UInt64? {
        guard !s.isEmpty, s.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return UInt64(s)
    }

    /// A decimal integer with an optional `-`.
    public static func int32(_ s: String) -> Int32? {
        Int32(s)
    }

    /// CPU cores: `"2c"`, `"2.5c"`, `"0c"` (up to 9 decimals). A bare number is accepted too.
    public static func cores(_ s: String) -> Double? {
        var body = Substring(s)
        if body.hasSuffix("c") { body = body.dropLast() }
        guard !body.isEmpty,
              body.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: ".") }),
              let value = Double(body), value.isFinite
        else { return nil }
        return value
    }

    /// `"true"` / `"false"`.
    public static func bool(_ s: String) -> Bool? {
        switch s {
        case "true": true
        case "false": false
        default: nil
        }
    }

    /// A `"key: value; key: value"` map, split on `"; "` and then on the first `": "`, in the
    /// given order. Keys may contain spaces and values may contain `:` (docs/porto.md §3.1); there is
    /// no escaping. An entry without `": "` makes the whole value unparseable (nil). `""` is
    /// an empty map.
    public static func stringMap(_ s: String) -> [(key: String, value: String)]? {
        if s.isEmpty { return [] }
        var out: [(key: String, value: String)] = []
        var text = Substring(s)
        if text.hasSuffix(";") { text = text.dropLast() }
        for part in text.split(separator: "; ", omittingEmptySubsequences: true) {
            guard let sep = part.firstRange(of: ": ") else { return nil }
            out.append((String(part[..<sep.lowerBound]), String(part[sep.upperBound...])))
        }
        return out
    }

    /// ``uintMap(_:)`` of UTF-8 text read in place, without a `String` per key and value: each
    /// entry's key (a range of `utf8`) and value appended to `entries`. false where
    /// ``uintMap(_:)`` gives nil; nil for text that is not ASCII (read that with ``uintMap(_:)``).
    public static func asciiUIntMap(_ utf8: UnsafeBufferPointer<UInt8>, into entries: inout [(key: Range<Int>, value: UInt64)]) -> Bool? {
        // In ASCII text a byte is a Character ("\r\n" aside, which holds none of "; " and ": "),
        // so splitting on bytes splits where splitting the String does.
        var i = 0
        // Eight bytes at a time: the slower groups' io maps are read for hundreds of containers.
        if let base = utf8.baseAddress {
            let raw = UnsafeRawPointer(base)
            while i + 8 <= utf8.count {
                if raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return nil }
                i += 8
            }
        }
        while i < utf8.count {
            if utf8[i] >= 0x80 { return nil }
            i += 1
        }
        let semicolon = UInt8(ascii: ";"), colon = UInt8(ascii: ":"), space = UInt8(ascii: " ")
        var n = utf8.count
        if n > 0, utf8[n - 1] == semicolon { n -= 1 }
        var start = 0
        while start < n {
            var end = start
            while end + 1 < n, !(utf8[end] == semicolon && utf8[end + 1] == space) { end += 1 }
            if end + 1 >= n { end = n }  // no "; " left: the part runs to the end
            if end > start {
                var sep = start
                while sep + 1 < end, !(utf8[sep] == colon && utf8[sep + 1] == space) { sep += 1 }
                guard sep + 1 < end, let value = uint(UnsafeBufferPointer(rebasing: utf8[(sep + 2)..<end])) else { return false }
                entries.append((start..<sep, value))
            }
            start = end + 2
        }
        return true
    }

    /// ``uint(_:)`` of UTF-8 bytes.
    public static func uint(_ utf8: UnsafeBufferPointer<UInt8>) -> UInt64? {
        guard !utf8.isEmpty else { return nil }
        var value: UInt64 = 0
        for b in utf8 {
            guard b >= 0x30, b <= 0x39 else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(b &- 0x30))
            if o1 || o2 { return nil }
            value = sum
        }
        return value
    }

    /// A map of unsigned integers (`io_read`, `net_rx_bytes`, `virtual_memory`, …). A value
    /// that is not an integer makes the whole map unparseable.
    public static func uintMap(_ s: String) -> [(key: String, value: UInt64)]? {
        guard let entries = stringMap(s) else { return nil }
        var out: [(key: String, value: UInt64)] = []
        out.reserveCapacity(entries.count)
        for (key, value) in entries {
            guard let v = uint(value) else { return nil }
            out.append((key, v))
        }
        return out
    }
}
