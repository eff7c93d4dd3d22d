/// Rank and linear correlation. Each returns `nil`, never NaN, where the coefficient is undefined: fewer than two
/// values, or no variation in either variable (every value equal, so there is nothing to order). A caller then
/// counts the case as "undefined" instead of averaging a NaN into a mean.
public enum Correlation {
    /// Pearson's r: covariance over the product of the standard deviations (two-pass, centred sums).
    public static func pearson(_ x: [Double], _ y: [Double]) -> Double? {
        precondition(x.count == y.count, "pearson needs paired values")
        guard x.count >= 2 else { return nil }
        let meanX = x.reduce(0, +) / Double(x.count)
        let meanY = y.reduce(0, +) / Double(y.count)
        var sumXY = 0.0, sumXX = 0.0, sumYY = 0.0
        for (a, b) in zip(x, y) {
            sumXY += (a - meanX) * (b - meanY)
            sumXX += (a - meanX) * (a - meanX)
            sumYY += (b - meanY) * (b - meanY)
        }
        guard sumXX > 0, sumYY > 0 else { return nil }
        return min(1, max(-1, sumXY / (sumXX.squareRoot() * sumYY.squareRoot())))
    }

    /// Spearman's ρ: Pearson's r of the ranks, tied values sharing the average of the ranks they span (as scipy's
    /// `spearmanr` does), so ties neither favour nor penalise either order.
    public static func spearman(_ x: [Double], _ y: [Double]) -> Double? {
        precondition(x.count == y.count, "spearman needs paired values")
        return pearson(averageRanks(x), averageRanks(y))
    }

    /// Kendall's τ-b: (concordant − discordant) / √((n₀ − n₁)(n₀ − n₂)), where n₀ = n(n−1)/2 and n₁, n₂ count the
    /// pairs tied in x and in y. The tie correction is what makes τ reach ±1 on tied data (τ-a cannot); it is
    /// scipy's default `kendalltau`. Computed in O(n log n) (Knight 1966) because pooled data and bootstrap
    /// resamples make the quadratic pair loop too slow.
    public static func kendallTauB(_ x: [Double], _ y: [Double]) -> Double? {
        precondition(x.count == y.count, "kendall needs paired values")
        let n = x.count
        guard n >= 2 else { return nil }
        let order = x.indices.sorted { x[$0] != x[$1] ? x[$0] < x[$1] : y[$0] < y[$1] }
        let tiedInX = tiedPairs(order.map { x[$0] })
        let tiedInBoth = tiedPairs(order.map { JointKey(x: x[$0], y: y[$0]) })
        var ys = order.map { y[$0] }
        let discordant = MergeSort.sortCountingInversions(&ys)
        let tiedInY = tiedPairs(ys)
        let allPairs = n * (n - 1) / 2
        let denominator = Double(allPairs - tiedInX) * Double(allPairs - tiedInY)
        guard denominator > 0 else { return nil }
        let concordantMinusDiscordant = allPairs - tiedInX - tiedInY + tiedInBoth - 2 * discordant
        return min(1, max(-1, Double(concordantMinusDiscordant) / denominator.squareRoot()))
    }

    /// Ranks from 1, ties given the mean of the ranks they occupy: [10, 20, 20, 30] → [1, 2.5, 2.5, 4].
    public static func averageRanks(_ values: [Double]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var ranks = [Double](repeating: 0, count: values.count)
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count, values[order[end + 1]] == values[order[start]] { end += 1 }
            let average = Double(start + end) / 2 + 1
            for position in start...end { ranks[order[position]] = average }
            start = end + 1
        }
        return ranks
    }

    private struct JointKey: Equatable {
        let x: Double
        let y: Double
    }

    /// Pairs of equal neighbours in a sequence where equal values are adjacent: Σ t(t−1)/2 over runs of length t.
    private static func tiedPairs<Value: Equatable>(_ sorted: [Value]) -> Int {
        var pairs = 0
        var run = 1
        for index in sorted.indices.dropFirst() {
            if sorted[index] == sorted[index - 1] {
                run += 1
            } else {
                pairs += run * (run - 1) / 2
                run = 1
            }
        }
        return pairs + run * (run - 1) / 2
    }
}
