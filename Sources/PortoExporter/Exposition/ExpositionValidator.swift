/// Reads back an exposition written by ``ExpositionWriter`` and checks the rules the writer and
/// the collectors must keep: families sorted and contiguous, HELP and TYPE once per family, no
/// duplicate series, no timestamps, `# EOF` last in OpenMetrics. Used by the tests; it is a
/// strict reader of what this exporter writes, not a general parser.
public enum ExpositionValidator {
    /// One parsed sample line.
    public struct Sample: Sendable, Hashable, CustomStringConvertible {
        public var name: String
        /// Label pairs in written order, values unescaped.
        public var labels: [LabelPair]
        /// The value as written.
        public var value: String
        public var description: String {
            let l = labels.map { "\($0.name)=\"\($0.value)\"" }.joined(separator: ",")
            return "\(name){\(l)} \(value)"
        }
    }

    public struct LabelPair: Sendable, Hashable {
        public var name: String
        public var value: String
    }

    /// The samples of `text`, and every rule it breaks (empty when valid).
    public static func check(_ text: String, format: ExpositionFormat) -> (samples: [Sample], problems: [String]) {
        var problems: [String] = []
        var samples: [Sample] = []
        var seenSeries = Set<String>()
        var familiesSeen: [String] = []
        var typeOf: [String: String] = [:]
        var helpSeen = Set<String>()
        var current: String?
        var sawEOF = false
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last != "" { problems.append("output does not end with a newline") }
        for (n, rawLine) in lines.dropLast().enumerated() {
            let line = String(rawLine)
            if sawEOF { problems.append("line \(n + 1): content after # EOF"); break }
            if line == "# EOF" {
                if format != .openMetrics { problems.append("# EOF in text format") }
                sawEOF = true
                continue
            }
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                let rest = line.dropFirst(7)
                guard let space = rest.firstIndex(of: " ") else { problems.append("line \(n + 1): malformed"); continue }
                let family = String(rest[..<space])
                if current != family {
                    if familiesSeen.contains(family) { problems.append("family \(family) is not contiguous") }
                    if let last = familiesSeen.last, !last.utf8.lexicographicallyPrecedes(family.utf8) {
                        problems.append("family \(family) is not sorted after \(last)")
                    }
                    familiesSeen.append(family)
                    current = family
                }
                if line.hasPrefix("# HELP ") {
                    if !helpSeen.insert(family).inserted { problems.append("two HELP lines for \(family)") }
                } else {
                    if typeOf[family] != nil { problems.append("two TYPE lines for \(family)") }
                    typeOf[family] = String(rest[rest.index(after: space)...])
                }
                continue
            }
            if line.hasPrefix("#") { problems.append("line \(n + 1): unexpected comment"); continue }
            guard let sample = parseSample(line) else { problems.append("line \(n + 1): cannot parse \(line)"); continue }
            guard let family = current, belongs(sample.name, to: family, type: typeOf[family] ?? "", format: format) else {
                problems.append("line \(n + 1): \(sample.name) outside its family"); continue
            }
            let key = sample.name + "{" + sample.labels.map { "\($0.name)=\($0.value)" }.sorted().joined(separator: "\u{0}") + "}"
            if !seenSeries.insert(key).inserted { problems.append("duplicate series \(sample)") }
            if Set(sample.labels.map(\.name)).count != sample.labels.count { problems.append("repeated label in \(sample)") }
            if sample.value.contains(" ") { problems.append("timestamp or garbage after value in \(sample)") }
            samples.append(sample)
        }
        if format == .openMetrics && !sawEOF { problems.append("missing # EOF") }
        return (samples, problems)
    }

    private static func belongs(_ sample: String, to family: String, type: String, format: ExpositionFormat) -> Bool {
        switch type {
        case "counter":
            if format == .openMetrics { return sample == family + "_total" || sample == family + "_created" }
            return sample == family
        case "histogram":
            return sample == family + "_bucket" || sample == family + "_sum" || sample == family + "_count"
        default:
            return sample == family
        }
    }

    /// Parses `name{a="x",b="y"} value`, unescaping label values.
    public static func parseSample(_ line: String) -> Sample? {
        let bytes = Array(line.utf8)
        var i = 0
        while i < bytes.count, bytes[i] != UInt8(ascii: "{"), bytes[i] != UInt8(ascii: " ") { i += 1 }
        guard i > 0, i < bytes.count else { return nil }
        let name = String(decoding: bytes[0..<i], as: UTF8.self)
        var labels: [LabelPair] = []
        if bytes[i] == UInt8(ascii: "{") {
            i += 1
            while i < bytes.count, bytes[i] != UInt8(ascii: "}") {
                let start = i
                while i < bytes.count, bytes[i] != UInt8(ascii: "=") { i += 1 }
                guard i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "\"") else { return nil }
                let labelName = String(decoding: bytes[start..<i], as: UTF8.self)
                i += 2
                var value: [UInt8] = []
                while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
                    if bytes[i] == UInt8(ascii: "\\") {
                        guard i + 1 < bytes.count else { return nil }
                        switch bytes[i + 1] {
                        case UInt8(ascii: "\\"): value.append(UInt8(ascii: "\\"))
                        case UInt8(ascii: "\""): value.append(UInt8(ascii: "\""))
                        case UInt8(ascii: "n"): value.append(UInt8(ascii: "\n"))
                        default: return nil
                        }
                        i += 2
                    } else {
                        value.append(bytes[i])
                        i += 1
                    }
                }
                guard i < bytes.count else { return nil }
                i += 1
                labels.append(LabelPair(name: labelName, value: String(decoding: value, as: UTF8.self)))
                if i < bytes.count, bytes[i] == UInt8(ascii: ",") { i += 1 }
            }
            guard i < bytes.count else { return nil }
            i += 1
        }
        guard i < bytes.count, bytes[i] == UInt8(ascii: " ") else { return nil }
        let value = String(decoding: bytes[(i + 1)...], as: UTF8.self)
        guard !value.isEmpty else { return nil }
        return Sample(name: name, labels: labels, value: value)
    }
}
