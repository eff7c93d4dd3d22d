import Foundation
import SRLMStore

/// The self-judge's health per round (`queries/judge-health.sql`) and the alarms for the collapses the paper and
/// its follow-ups report: scores saturating at 5 or collapsing onto one value, free-form outputs that stop parsing,
/// ties that leave prompts without a pair, and chosen replies growing much longer than rejected ones.
public enum JudgeHealth {
    /// Thresholds, named so the README and the report can quote them.
    public static let saturationPct = 80.0
    public static let oneScorePct = 90.0
    public static let unparsedPct = 50.0
    public static let unparsedRise = 20.0
    public static let tiedPct = 50.0
    public static let lengthRatio = 1.5

    public static func rounds(_ store: Store, experiment: String) throws -> QueryResult {
        try NamedQuery.run(store, "judge-health", experiment: experiment)
    }

    /// Warnings for every round, in round order ("round 2: …").
    public static func warnings(_ result: QueryResult) -> [String] {
        var out: [String] = []
        var previous: QueryRow?
        for row in result.records {
            let round = "round \(row.int("iteration") ?? -1)"
            if let top = row.double("saturation_pct"), top >= saturationPct {
                out.append("\(round): \(fmt(top)) % of judge samples score 5: the judge is saturating and cannot rank good replies")
            }
            if let share = dominantScorePct(row.text("score_histogram")), share >= oneScorePct {
                out.append("\(round): \(fmt(share)) % of parsed scores are one value: the judge barely separates candidates")
            }
            if let unparsed = row.double("unparsed_pct") {
                if unparsed >= unparsedPct {
                    out.append("\(round): \(fmt(unparsed)) % of judge outputs hold no valid score line")
                } else if let before = previous?.double("unparsed_pct"), unparsed - before >= unparsedRise {
                    out.append("\(round): unparsed judge outputs rose from \(fmt(before)) % to \(fmt(unparsed)) %")
                }
            }
            if let tied = row.double("all_tied_prompt_pct"), tied >= tiedPct {
                out.append("\(round): on \(fmt(tied)) % of prompts every candidate ties: those prompts give no pair")
            }
            if let ratio = row.double("length_ratio"), ratio >= lengthRatio,
               (previous?.double("length_ratio")).map({ ratio > $0 }) ?? true {
                out.append("\(round): chosen replies are \(String(format: "%.2f", ratio))× as long as rejected ones: the pairs teach length")
            }
            previous = row
        }
        return out
    }

    /// The share of the most common bucket of a "1:3 4:10 5:2" histogram.
    static func dominantScorePct(_ histogram: String?) -> Double? {
        guard let histogram else { return nil }
        let counts = histogram.split(separator: " ").compactMap { $0.split(separator: ":").last.flatMap { Double($0) } }
        let total = counts.reduce(0, +)
        guard total > 0, let top = counts.max() else { return nil }
        return 100 * top / total
    }

    static func fmt(_ value: Double) -> String { String(format: "%.0f", value) }
}
