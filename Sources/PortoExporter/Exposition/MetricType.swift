/// The type of a metric family, as written on its `# TYPE` line.
public enum MetricType: String, Sendable {
    /// A monotonic count. The family name ends in `_total` (checked when the family is made).
    case counter
    /// A value that goes up and down, including `_info` metadata and 0/1 states.
    case gauge
    /// Cumulative `_bucket{le}` samples, with optional `_sum` and `_count`.
    case histogram
}
