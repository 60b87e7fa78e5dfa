#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Porto's name masks (docs/porto.md §2.2, portod's `StringMatch`).
enum SimMask {
    /// True when `name` contains a glob character, so `Get`/`List` treat it as a mask rather than
    /// as one container's name.
    static func isMask(_ name: String) -> Bool {
        name.utf8.contains { $0 == UInt8(ascii: "*") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "[") }
    }

    /// `***` matches everything (including "/"), `prefix***` and `***suffix` compare literally and
    /// cross `/`, anything else goes to `fnmatch(FNM_PATHNAME)` where `*` and `?` do not match `/`.
    static func matches(_ name: String, mask: String) -> Bool {
        if mask == "***" { return true }
        if mask.hasSuffix("***") {
            return name.utf8.starts(with: mask.utf8.dropLast(3))
        }
        if mask.hasPrefix("***") {
            return name.utf8.reversed().starts(with: mask.utf8.dropFirst(3).reversed())
        }
        return fnmatch(mask, name, FNM_PATHNAME) == 0
    }
}
