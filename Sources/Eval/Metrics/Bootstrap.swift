/// How to bootstrap: resamples, the seed of the module's own generator (so an interval is the same on every run)
/// and the confidence level.
public struct BootstrapOptions: Codable, Hashable, Sendable {
    public var resamples: Int
    public var seed: UInt64
    public var confidence: Double

    public init(resamples: Int = 1_000, seed: UInt64 = 20_240_118, confidence: Double = 0.95) {
        self.resamples = resamples
        self.seed = seed
        self.confidence = confidence
    }
}

/// Percentile bootstrap over units (prompts, or items): each resample draws as many units as there are, with
/// replacement, and recomputes every statistic from the drawn units. Resampling whole prompts keeps the replies
/// of one prompt together, since they share a question and are not independent. The interval is the
/// (1−c)/2 and (1+c)/2 percentiles of the resampled values, interpolated linearly between order statistics
/// (numpy's default); resamples in which a statistic is undefined are left out of that statistic's percentiles.
public enum Bootstrap {
    /// Point estimates on all units (indices 0..<units) with their intervals; a statistic undefined on the full
    /// data has no entry.
    public static func estimates<Key: Hashable>(units: Int, options: BootstrapOptions,
                                                statistics: ([Int]) -> [Key: Double]) -> [Key: Estimate] {
        let intervals = intervals(units: units, options: options, statistics: statistics)
        return statistics(Array(0..<units)).reduce(into: [:]) { result, entry in
            result[entry.key] = Estimate(value: entry.value, interval: intervals[entry.key])
        }
    }

    public static func intervals<Key: Hashable>(units: Int, options: BootstrapOptions,
                                                statistics: ([Int]) -> [Key: Double]) -> [Key: Interval] {
        guard units > 0 else { return [:] }
        return intervals(strata: [units], options: options) { statistics($0[0]) }
    }

    /// Stratified: each resample draws every stratum's units (indices 0..<strata[s]) from that stratum alone, so
    /// two independent samples (two versions' prompts) keep their sizes. One stratum draws exactly as `units:` does.
    public static func intervals<Key: Hashable>(strata: [Int], options: BootstrapOptions,
                                                statistics: ([[Int]]) -> [Key: Double]) -> [Key: Interval] {
        guard strata.contains(where: { $0 > 0 }), options.resamples > 0 else { return [:] }
        var generator = SplitMix64(seed: options.seed)
        var resampled: [Key: [Double]] = [:]
        for _ in 0..<options.resamples {
            let drawn = strata.map { units in (0..<units).map { _ in generator.next(below: units) } }
            for (key, value) in statistics(drawn) { resampled[key, default: []].append(value) }
        }
        let tail = (1 - options.confidence) / 2
        return resampled.mapValues { values in
            let sorted = values.sorted()
            return Interval(low: percentile(sorted, tail), high: percentile(sorted, 1 - tail))
        }
    }

    /// The q-quantile (0…1) of sorted values, linear between the order statistics at positions q·(n−1).
    public static func percentile(_ sorted: [Double], _ q: Double) -> Double {
        precondition(!sorted.isEmpty, "percentile of no values")
        let position = q * Double(sorted.count - 1)
        let below = Int(position.rounded(.down))
        let above = min(below + 1, sorted.count - 1)
        return sorted[below] + (position - Double(below)) * (sorted[above] - sorted[below])
    }
}
