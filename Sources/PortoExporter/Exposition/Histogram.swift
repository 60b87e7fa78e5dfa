/// A cumulative histogram snapshot for ``ExpositionWriter/histogram(_:labels:_:)``: bucket upper
/// bounds (ascending, without `+Inf`, which is added with the total count), cumulative counts,
/// and optionally the sum.
///
/// For the exporter's own metrics, keep one `Histogram` per label set and call ``observe(_:)``;
/// the type is a value: guard it with your own lock when it is shared.
public struct Histogram: Sendable, Equatable {
    /// Upper bounds, ascending, finite.
    public let upperBounds: [Double]
    /// Cumulative count of observations `<= upperBounds[i]`.
    public private(set) var cumulativeCounts: [UInt64]
    /// Number of observations (the `+Inf` bucket and `_count`).
    public private(set) var count: UInt64
    /// Sum of observations; nil when unknown (then neither `_sum` nor `_count` is written,
    /// because OpenMetrics requires `_sum` beside `_count`: the `+Inf` bucket is the count).
    public private(set) var sum: Double?

    /// An empty histogram with the given bounds, keeping a sum.
    public init(upperBounds: [Double]) {
        precondition(zip(upperBounds, upperBounds.dropFirst()).allSatisfy { $0 < $1 }, "bounds must ascend")
        precondition(upperBounds.allSatisfy { $0.isFinite }, "bounds must be finite")
        self.upperBounds = upperBounds
        self.cumulativeCounts = Array(repeating: 0, count: upperBounds.count)
        self.count = 0
        self.sum = 0
    }

    /// A snapshot from known cumulative counts (for example derived from portod's counters).
    public init(upperBounds: [Double], cumulativeCounts: [UInt64], count: UInt64, sum: Double?) {
        precondition(upperBounds.count == cumulativeCounts.count)
        self.upperBounds = upperBounds
        self.cumulativeCounts = cumulativeCounts
        self.count = count
        self.sum = sum
    }

    /// Records one observation.
    public mutating func observe(_ value: Double) {
        for i in upperBounds.indices where value <= upperBounds[i] { cumulativeCounts[i] += 1 }
        count += 1
        sum = (sum ?? 0) + value
    }
}
