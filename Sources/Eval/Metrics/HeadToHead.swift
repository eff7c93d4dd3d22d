/// A model against another on the same prompts (the paper's Figure 3 head-to-heads, AlpacaEval-style win rates),
/// each rate with a bootstrap interval over prompts. One outcome per prompt, from the model's side: 1 win,
/// 0.5 tie, 0 loss. `winRate`, `tieRate`, `lossRate` are the shares of each outcome; `winRateTiesHalf` is the mean
/// outcome (a tie counting half a win), the usual single-number "win rate".
public struct HeadToHead: Codable, Hashable, Sendable {
    public var prompts: Int
    public var winRate: Estimate?
    public var tieRate: Estimate?
    public var lossRate: Estimate?
    public var winRateTiesHalf: Estimate?

    private enum Statistic: Hashable {
        case win, tie, loss, tiesHalf
    }

    public static func compute(outcomes: [Double], bootstrap: BootstrapOptions = BootstrapOptions()) -> HeadToHead {
        precondition(outcomes.allSatisfy { [0, 0.5, 1].contains($0) }, "outcomes must be 1 (win), 0.5 (tie) or 0 (loss)")
        let estimates = Bootstrap.estimates(units: outcomes.count, options: bootstrap) { indices -> [Statistic: Double] in
            let chosen = indices.map { outcomes[$0] }
            guard !chosen.isEmpty else { return [:] }
            let n = Double(chosen.count)
            return [.win: Double(chosen.count { $0 == 1 }) / n, .tie: Double(chosen.count { $0 == 0.5 }) / n,
                    .loss: Double(chosen.count { $0 == 0 }) / n, .tiesHalf: chosen.reduce(0, +) / n]
        }
        return HeadToHead(prompts: outcomes.count, winRate: estimates[.win], tieRate: estimates[.tie],
                          lossRate: estimates[.loss], winRateTiesHalf: estimates[.tiesHalf])
    }

    /// Verdicts where the model is answer A (`.a` = the model won).
    public static func compute(verdicts: [Verdict], bootstrap: BootstrapOptions = BootstrapOptions()) -> HeadToHead {
        compute(outcomes: verdicts.map(\.outcomeForA), bootstrap: bootstrap)
    }
}
