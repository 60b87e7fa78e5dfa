/// The two exposition formats the exporter writes from the same samples.
///
/// Both are written by ``ExpositionWriter``; the HTTP layer picks one by content negotiation and
/// sends ``contentType`` verbatim.
public enum ExpositionFormat: String, Sendable, CaseIterable {
    /// Prometheus text format 0.0.4.
    case text
    /// OpenMetrics 1.0.0 text format: `# EOF` at the end, counter families named without
    /// `_total` in their HELP/TYPE lines, `_created` samples.
    case openMetrics = "openmetrics"

    /// The exact `Content-Type` header value for a response in this format.
    public var contentType: String {
        switch self {
        case .text: ExpositionFormat.textContentType
        case .openMetrics: ExpositionFormat.openMetricsContentType
        }
    }

    /// `Content-Type` of the Prometheus text format 0.0.4.
    public static let textContentType = "text/plain; version=0.0.4; charset=utf-8"
    /// `Content-Type` of OpenMetrics 1.0.0.
    public static let openMetricsContentType = "application/openmetrics-text; version=1.0.0; charset=utf-8"
}
