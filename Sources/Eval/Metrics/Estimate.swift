/// A 95 % (by default) interval around an estimate.
public struct Interval: Codable, Hashable, Sendable {
    public var low: Double
    public var high: Double

    public init(low: Double, high: Double) {
        self.low = low
        self.high = high
    }
}

/// A statistic on the whole data with its bootstrap interval. `interval` is nil when no resample gave a defined
/// value (or bootstrapping was turned off with zero resamples).
public struct Estimate: Codable, Hashable, Sendable {
    public var value: Double
    public var interval: Interval?

    public init(value: Double, interval: Interval? = nil) {
        self.value = value
        self.interval = interval
    }
}

extension Interval {
    /// What a degenerate interval is shown as, in place of its bounds.
    public static let notEstimable = "not estimable"

    /// Whether the interval says anything about the spread. A percentile interval has zero width only when at least
    /// 95 % of the resamples gave one same value (fewer than two distinct values between its percentiles): on a few
    /// prompts, or prompts that all score alike, every resample looks the same, which is a lack of data, not
    /// certainty ("[66.7, 66.7]" on 4 prompts). Such an interval is shown as not estimable and carries no claim.
    public static func isEstimable(low: Double, high: Double) -> Bool {
        high - low > 1e-12 * max(1, abs(low), abs(high))
    }

    public var isEstimable: Bool { Self.isEstimable(low: low, high: high) }
}
