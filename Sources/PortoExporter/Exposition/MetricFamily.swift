import Synchronization

/// One metric family: its name, HELP text, type and label names, with every fixed byte sequence of
/// its exposition (HELP/TYPE lines for both formats, sample names, the extra label's `name="`)
/// rendered once, when the family is made at start-up.
///
/// A family's series carry the labels of a ``Labels`` value (rendered once per object, for example
/// once per container) followed by at most one *extra* label (`device`, `interface`, `state`, …)
/// whose name is fixed here and whose value is given per sample. ``labelNames`` lists them all, in
/// exposition order, for documentation (METRICS.md).
///
/// Making a family with an invalid metric or label name, or a counter whose name does not end in
/// `_total`, is a programming error and traps.
public final class MetricFamily: Sendable, CustomStringConvertible {
    /// The name written on the TYPE line of the text format and on the samples, for example
    /// `porto_container_cpu_usage_seconds_total`.
    public let name: String
    /// The HELP text: a full sentence that states the unit.
    public let help: String
    public let type: MetricType
    /// The family name on OpenMetrics HELP/TYPE lines: without `_total` for counters.
    public let openMetricsName: String
    /// All label names of the family's series, in order; the last one is ``extraLabel`` if set.
    public let labelNames: [String]
    /// The name of the label whose value is given per sample, if any.
    public let extraLabel: String?

    let textHeader: [UInt8]
    let openMetricsHeader: [UInt8]
    /// `name`, or for histograms `name_bucket`.
    let sampleName: [UInt8]
    /// `base_created` for counters, `name_sum` for histograms.
    let secondName: [UInt8]
    /// `name_count` for histograms.
    let countName: [UInt8]
    /// `device="` (the writer adds the comma when other labels precede it).
    let extraLabelOpening: [UInt8]
    /// A small number unique to this family in the process (0, 1, 2, ... in order of creation):
    /// ``ExpositionWriter`` finds the family's samples by it with an array index.
    let serial: Int

    private static let serials = Atomic<Int>(0)

    /// Makes a family. `labelNames` are all label names in order; if `extraLabel` is given it must
    /// be the last of them.
    public init(name: String, help: String, type: MetricType, labelNames: [String] = [], extraLabel: String? = nil) {
        precondition(MetricFamily.isValidMetricName(name), "invalid metric name \(name)")
        for label in labelNames {
            precondition(MetricFamily.isValidLabelName(label) && !label.hasPrefix("__"), "invalid label name \(label) in \(name)")
        }
        precondition(Set(labelNames).count == labelNames.count, "duplicate label name in \(name)")
        if let extraLabel { precondition(labelNames.last == extraLabel, "\(name): the extra label must be the last label name") }
        if type == .histogram { precondition(!labelNames.contains("le"), "\(name): le is reserved") }
        let base: String
        switch type {
        case .counter:
            precondition(name.hasSuffix("_total"), "counter \(name) must end in _total")
            base = String(name.dropLast("_total".count))
        case .gauge, .histogram:
            base = name
        }
        self.name = name
        self.openMetricsName = base
        self.help = help
        self.type = type
        self.labelNames = labelNames
        self.extraLabel = extraLabel
        self.textHeader = Array("# HELP \(name) \(MetricFamily.escapeHelp(help, quotes: false))\n# TYPE \(name) \(type.rawValue)\n".utf8)
        self.openMetricsHeader = Array("# HELP \(base) \(MetricFamily.escapeHelp(help, quotes: true))\n# TYPE \(base) \(type.rawValue)\n".utf8)
        switch type {
        case .counter:
            sampleName = Array(name.utf8)
            secondName = Array("\(base)_created".utf8)
            countName = []
        case .gauge:
            sampleName = Array(name.utf8)
            secondName = []
            countName = []
        case .histogram:
            sampleName = Array("\(name)_bucket".utf8)
            secondName = Array("\(name)_sum".utf8)
            countName = Array("\(name)_count".utf8)
        }
        extraLabelOpening = extraLabel.map { Array("\($0)=\"".utf8) } ?? []
        serial = MetricFamily.serials.wrappingAdd(1, ordering: .relaxed).oldValue
    }

    public var description: String { name }

    /// The name families are sorted by in `format`.
    func sortName(_ format: ExpositionFormat) -> String {
        format == .openMetrics ? openMetricsName : name
    }

    /// HELP escaping: `\` and newline in both formats; OpenMetrics also escapes `"`.
    static func escapeHelp(_ help: String, quotes: Bool) -> String {
        var out = ""
        out.reserveCapacity(help.utf8.count)
        for ch in help.unicodeScalars {
            switch ch {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\"" where quotes: out += "\\\""
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`
    public static func isValidMetricName(_ name: String) -> Bool {
        var first = true
        for b in name.utf8 {
            let ok = (b >= 97 && b <= 122) || (b >= 65 && b <= 90) || b == 95 || b == 58 || (!first && b >= 48 && b <= 57)
            if !ok { return false }
            first = false
        }
        return !first
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*`
    public static func isValidLabelName(_ name: String) -> Bool {
        var first = true
        for b in name.utf8 {
            let ok = (b >= 97 && b <= 122) || (b >= 65 && b <= 90) || b == 95 || (!first && b >= 48 && b <= 57)
            if !ok { return false }
            first = false
        }
        return !first
    }
}
