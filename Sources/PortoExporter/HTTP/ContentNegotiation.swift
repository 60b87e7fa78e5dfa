/// Content negotiation for a scrape: the `Accept` and `Accept-Encoding` headers (RFC 9110 §12.5),
/// parsed leniently. Whatever a client sends, some answer comes out: a garbled header is read as
/// absent, and no header ever leads to 406 (exporters answer in text when in doubt).
public enum ContentNegotiation {
    /// The format for an `Accept` header value (nil when the header is absent).
    ///
    /// OpenMetrics is chosen only when a range names `application/openmetrics-text` explicitly with
    /// version 1.0.0, 0.0.1 or no version (Prometheus 2.x and 3.x ask this way) and its q-value is
    /// not lower than the best range that allows the text format. Wildcards (`*/*`, `text/*`) allow
    /// text only, as in client_golang's `expfmt.Negotiate`: curl's `*/*` gets text. Parameters
    /// other than `version` and `q` (such as Prometheus 3's `escaping=allow-utf-8`) are ignored:
    /// every name the exporter writes is a valid legacy name, so no escaping ever applies.
    public static func format(accept: String?) -> ExpositionFormat {
        guard let accept, !accept.isEmpty, accept.utf8.count <= 4096 else { return .text }
        var openMetricsQ = -1.0
        var textQ = -1.0
        for range in accept.split(separator: ",", omittingEmptySubsequences: true) {
            guard let parsed = MediaRange(parsing: range) else { continue }
            switch (parsed.type, parsed.subtype) {
            case ("application", "openmetrics-text"):
                if parsed.version == nil || parsed.version == "1.0.0" || parsed.version == "0.0.1" {
                    openMetricsQ = max(openMetricsQ, parsed.q)
                }
            case ("text", "plain"):
                if parsed.version == nil || parsed.version == "0.0.4" || parsed.version == "1.0.0" {
                    textQ = max(textQ, parsed.q)
                }
            case ("text", "*"), ("*", "*"):
                textQ = max(textQ, parsed.q)
            default:
                continue
            }
        }
        return openMetricsQ > 0 && openMetricsQ >= textQ ? .openMetrics : .text
    }

    /// Whether an `Accept-Encoding` header value allows gzip: `gzip` (or `x-gzip`) with q > 0, or
    /// `*` with q > 0 when gzip is not refused by name. Absent or garbled: no.
    public static func acceptsGzip(_ acceptEncoding: String?) -> Bool {
        guard let acceptEncoding, !acceptEncoding.isEmpty, acceptEncoding.utf8.count <= 4096 else { return false }
        var gzipQ: Double? = nil
        var starQ: Double? = nil
        for item in acceptEncoding.split(separator: ",", omittingEmptySubsequences: true) {
            let parts = item.split(separator: ";", omittingEmptySubsequences: false)
            let coding = parts[0].trimmingSpaces().lowercased()
            var q = 1.0
            for parameter in parts.dropFirst() {
                if let value = qValue(parameter) { q = value }
            }
            switch coding {
            case "gzip", "x-gzip": gzipQ = max(gzipQ ?? 0, q)
            case "*": starQ = max(starQ ?? 0, q)
            default: continue
            }
        }
        if let gzipQ { return gzipQ > 0 }
        return (starQ ?? 0) > 0
    }

    /// A `q=` parameter's value (0...1), or nil when the parameter is not a well-formed q.
    static func qValue<S: StringProtocol>(_ parameter: S) -> Double? {
        let pair = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard pair.count == 2, pair[0].trimmingSpaces().lowercased() == "q" else { return nil }
        let text = pair[1].trimmingSpaces()
        guard !text.isEmpty, text.utf8.count <= 5,
              text.utf8.allSatisfy({ ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: ".") }),
              let value = Double(text), value >= 0, value <= 1
        else { return 0 }   // a malformed q makes the range unacceptable rather than preferred
        return value
    }

    /// One element of an Accept header: `type/subtype;param=value;q=0.5`.
    struct MediaRange {
        var type: String
        var subtype: String
        var version: String?
        var q: Double

        init?<S: StringProtocol>(parsing text: S) {
            let parts = text.split(separator: ";", omittingEmptySubsequences: false)
            let mediaType = parts[0].trimmingSpaces().lowercased()
            let slash = mediaType.split(separator: "/", omittingEmptySubsequences: false)
            guard slash.count == 2, !slash[0].isEmpty, !slash[1].isEmpty else { return nil }
            type = String(slash[0])
            subtype = String(slash[1])
            version = nil
            q = 1
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard pair.count == 2 else { continue }
                let name = pair[0].trimmingSpaces().lowercased()
                if name == "q" {
                    q = ContentNegotiation.qValue(parameter) ?? 0
                } else if name == "version" {
                    var value = pair[1].trimmingSpaces()
                    if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                        value = String(value.dropFirst().dropLast())
                    }
                    version = String(value)
                }
            }
        }
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs (HTTP's OWS).
    func trimmingSpaces() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars = scalars.dropFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
