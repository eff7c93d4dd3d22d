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
