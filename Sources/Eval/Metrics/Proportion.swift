import Foundation

/// A share of successes with its Wilson score interval: unlike the normal approximation it stays inside [0, 1] and
/// is not zero-width at 0 % or 100 %, which is where parse rates of small models live.
public enum Proportion {
    public static func wilson(successes: Int, trials: Int, z: Double = 1.959963984540054) -> Estimate? {
        guard trials > 0, successes >= 0, successes <= trials else { return nil }
        let n = Double(trials), p = Double(successes) / n
        let denominator = 1 + z * z / n
        let centre = (p + z * z / (2 * n)) / denominator
        let half = z * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot() / denominator
        return Estimate(value: p, interval: Interval(low: max(0, centre - half), high: min(1, centre + half)))
    }
}
