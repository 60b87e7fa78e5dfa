#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which containers are exported: `--container.include` / `--container.exclude` masks and
/// `--container.max-depth`.
///
/// Masks have Porto's own meaning (docs/porto.md §2.2), so a Porto user can guess them: `***` matches
/// everything, `prefix***` and `***suffix` match across `/`, and any other mask is a shell glob in
/// which `*` and `?` do not cross `/` (`*` is the first level, `a/*` a's children). A container is
/// exported if it matches some include mask (or there is none), no exclude mask, and its level
/// ("/" is 0) is at most the maximum depth. Filtering happens after reading: the ownership
/// filter still sees every container.
public struct ContainerSelection: Sendable, Equatable {
    public var include: [String]
    public var exclude: [String]
    public var maxDepth: Int?

    public init(include: [String] = [], exclude: [String] = [], maxDepth: Int? = nil) {
        self.include = include
        self.exclude = exclude
        self.maxDepth = maxDepth
    }

    public func selects(_ name: String) -> Bool {
        if let maxDepth, ContainerNames.level(of: name) > maxDepth { return false }
        if !include.isEmpty, !include.contains(where: { Self.portoMatch(mask: $0, name: name) }) { return false }
        return !exclude.contains { Self.portoMatch(mask: $0, name: name) }
    }

    /// Porto's StringMatch.
    public static func portoMatch(mask: String, name: String) -> Bool {
        if mask == "***" { return true }
        if mask.hasSuffix("***"), !mask.dropLast(3).contains("***") {
            return name.hasPrefix(mask.dropLast(3))
        }
        if mask.hasPrefix("***") {
            return name.hasSuffix(mask.dropFirst(3))
        }
        return fnmatch(mask, name, FNM_PATHNAME) == 0
    }
}

/// Which Porto labels become `porto_container_labels` labels (`--container.labels`): exact keys,
/// or shell globs (`INFRA.*`). Keys are sanitized into label names `label_<key>` with every
/// character outside `[a-zA-Z0-9_]` replaced by `_` (`A.b` → `label_A_b`); when two keys of one
/// container give the same name, the keys are taken in sorted order and the later ones get `_2`,
/// `_3`, … appended.
public struct LabelSelection: Sendable, Equatable {
    public var patterns: [String]

    public init(patterns: [String] = []) { self.patterns = patterns }

    public var isEmpty: Bool { patterns.isEmpty }

    public func allows(_ key: String) -> Bool {
        patterns.contains { pattern in
            pattern == key || (pattern.contains(where: { "*?[".contains($0) }) && fnmatch(pattern, key, 0) == 0)
        }
    }

    /// `label_` + the key with invalid characters replaced by `_`.
    public static func sanitize(_ key: String) -> String {
        var out = "label_"
        for scalar in key.unicodeScalars {
            let ok = (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z") || (scalar >= "0" && scalar <= "9") || scalar == "_"
            out.unicodeScalars.append(ok ? scalar : "_")
        }
        return out
    }

    /// The (label name, value) pairs of the allowed labels, sorted by key, collisions resolved.
    public func labels(from pairs: [(key: String, value: String)]) -> [(String, String)] {
        var allowed = pairs.filter { allows($0.key) }
        guard !allowed.isEmpty else { return [] }
        allowed.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        var used = Set<String>(["name"])
        var out: [(String, String)] = []
        var lastKey: String?
        for (key, value) in allowed {
            if key == lastKey { continue }  // a key given twice: the first wins
            lastKey = key
            let base = Self.sanitize(key)
            var name = base
            var n = 2
            while used.contains(name) {
                name = "\(base)_\(n)"
                n += 1
            }
            used.insert(name)
            out.append((name, value))
        }
        return out
    }
}
