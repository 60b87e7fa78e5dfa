import Foundation

/// Porto's legacy string formats, as `Get` returns them (docs/porto.md §3.1).
enum SimLegacyFormat {
    /// CPU amounts: `"2c"`, `"2.5c"`, `"0c"`, with at most 9 decimals and no trailing zeros.
    static func cores(_ value: Double) -> String {
        var text = String(format: "%.9f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text + "c"
    }

    /// Maps: `"key: value; key: value"`, sorted by key (byte order), with **no escaping**: a value
    /// holding `"; "` cannot be told apart from a separator, exactly as with portod.
    static func map<V>(_ entries: [(String, V)], _ render: (V) -> String) -> String {
        var out = ""
        for (index, entry) in entries.enumerated() {
            if index > 0 { out += "; " }
            out += entry.0
            out += ": "
            out += render(entry.1)
        }
        return out
    }

    static func bool(_ value: Bool) -> String { value ? "true" : "false" }

    /// Times: `"YYYY-MM-DD hh:mm:ss"` in the local time zone of the process (like portod, which
    /// uses its own local zone; set `TZ` to choose it, e.g. `TZ=UTC`).
    static func time(_ epochSeconds: UInt64) -> String {
        var seconds = time_t(epochSeconds)
        var parts = tm()
        localtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02d %02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }
}

/// Byte-wise ordering of names, the order of portod's `std::map<std::string, ...>`.
@inline(__always)
func simNameLess(_ a: String, _ b: String) -> Bool {
    a.utf8.lexicographicallyPrecedes(b.utf8)
}
