import SRLMMetrics

/// One column's values grouped by the prompt each row answers. Candidates (N a prompt), judge samples (k a
/// candidate) and pairs share prompts, so their rows are not independent: the prompt is the unit that was sampled,
/// and an interval over rows is too narrow by about √(1 + (k−1)·ρ). Each prompt keeps only its sum and row count,
/// so a resample adds up prompts; the mean is over rows (sum of drawn sums / sum of drawn counts), which on all
/// prompts is the plain row mean. Percentile intervals never leave the range of the values (lengths stay ≥ 0,
/// scores within 0…5).
public struct PromptClusters: Sendable {
    /// The prompt of each cluster, in the order first seen.
    public let prompts: [Int64]
    public let sums: [Double]
    public let counts: [Double]

    /// `values[i]` belongs to `prompts[i]`; a nil value is left out, and a row without a prompt is its own unit.
    public init(values: [Double?], prompts rowPrompts: [Int64?]) {
        var index: [Int64: Int] = [:]
        var (prompts, sums, counts) = ([Int64](), [Double](), [Double]())
        for (row, value) in values.enumerated() {
            guard let value else { continue }
            // Rows without a prompt get keys below every blob id, one each.
            let key = row < rowPrompts.count ? rowPrompts[row] ?? Int64(-1 - row) : Int64(-1 - row)
            if let i = index[key] {
                sums[i] += value
                counts[i] += 1
            } else {
                index[key] = prompts.count
                prompts.append(key)
                sums.append(value)
                counts.append(1)
            }
        }
        (self.prompts, self.sums, self.counts) = (prompts, sums, counts)
    }

    public var mean: Double? {
        let n = counts.reduce(0, +)
        return n == 0 ? nil : sums.reduce(0, +) / n
    }

    /// The percentile bootstrap interval of the mean over prompts; none under two prompts (nothing to resample).
    public func meanInterval(options: BootstrapOptions = BootstrapOptions()) -> Interval? {
        guard prompts.count >= 2 else { return nil }
        return Bootstrap.intervals(units: prompts.count, options: options) { drawn -> [Int: Double] in
            var (sum, n) = (0.0, 0.0)
            for i in drawn {
                sum += sums[i]
                n += counts[i]
            }
            return [0: sum / n]
        }[0]
    }

    /// B's mean minus A's. When the two share prompts, the union of prompts is resampled and each drawn prompt brings
    /// its rows on both sides (a paired bootstrap): a prompt's own difficulty then moves both means together and
    /// cancels from the change instead of being counted twice. When they share none, each side's prompts are
    /// resampled on their own (two independent samples, each keeping its size). None under two prompts a side.
    public static func change(_ a: PromptClusters, _ b: PromptClusters,
                              options: BootstrapOptions = BootstrapOptions()) -> (value: Double, interval: Interval?, paired: Bool)? {
        guard let ma = a.mean, let mb = b.mean else { return nil }
        let inB = Dictionary(b.prompts.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let shared = a.prompts.contains { inB[$0] != nil }
        guard a.prompts.count >= 2, b.prompts.count >= 2 else { return (mb - ma, nil, shared) }
        // Each unit: its cluster on side A and on side B (−1: absent).
        var strata: [[(a: Int, b: Int)]]
        if shared {
            let inA = Set(a.prompts)
            strata = [a.prompts.indices.map { ($0, inB[a.prompts[$0]] ?? -1) }
                      + b.prompts.indices.filter { !inA.contains(b.prompts[$0]) }.map { (-1, $0) }]
        } else {
            strata = [a.prompts.indices.map { ($0, -1) }, b.prompts.indices.map { (-1, $0) }]
        }
        let interval = Bootstrap.intervals(strata: strata.map(\.count), options: options) { drawn -> [Int: Double] in
            var (sa, na, sb, nb) = (0.0, 0.0, 0.0, 0.0)
            for (stratum, indices) in zip(strata, drawn) {
                for i in indices {
                    let unit = stratum[i]
                    if unit.a >= 0 { sa += a.sums[unit.a]; na += a.counts[unit.a] }
                    if unit.b >= 0 { sb += b.sums[unit.b]; nb += b.counts[unit.b] }
                }
            }
            // A resample that drew no prompt of one side has no change: it is left out of the percentiles.
            return na == 0 || nb == 0 ? [:] : [0: sb / nb - sa / na]
        }[0]
        return (mb - ma, interval, shared)
    }
}
