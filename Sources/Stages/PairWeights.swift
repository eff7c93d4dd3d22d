import Foundation
import SRLMMetrics
import SRLMStore

/// A per-pair loss weight a pairs version can carry (`srlm pairs --weighting`), stored in `pair.weight`.
public enum PairWeighting: String, Codable, CaseIterable, Sendable {
    /// Every pair counts the same (the paper): no weight is stored.
    case none
    /// ScPO's vote margin, with the judge's samples as the votes: over every chosen sample × rejected sample, the
    /// share where chosen scores higher minus the share where it scores lower, floored at 0. A pair the judge is
    /// sure of weighs 1; one it only prefers on average weighs little.
    case vote
}

/// Where CREAM's consistency is measured (`srlm pairs --consistency-scope`).
public enum ConsistencyScope: String, Codable, CaseIterable, Sendable {
    /// Each pair's own prompt: its candidates ranked by both judges.
    case pair
    /// The mean over the version's pairs, given to every pair (CREAM's dataset-level variant).
    case set
}

/// The weights' arithmetic, pure: tested on hand-worked samples.
public enum PairWeights {
    /// ScPO-style vote margin of chosen over rejected in [0, 1]; nil without samples on either side.
    public static func vote(chosen: [Double], rejected: [Double]) -> Double? {
        guard !chosen.isEmpty, !rejected.isEmpty else { return nil }
        var margin = 0
        for c in chosen {
            for r in rejected { margin += c > r ? 1 : c < r ? -1 : 0 }
        }
        return max(0, Double(margin) / Double(chosen.count * rejected.count))
    }

    /// CREAM's consistency c = (τ-b + 1) / 2 between two judges' scores of the same candidates (paired by index):
    /// 1 when they rank them alike, 0 when reversed. nil with fewer than two candidates or when either judge scores
    /// them all the same (τ-b is undefined: that judge has no ranking to agree with).
    public static func consistency(_ current: [Double], _ reference: [Double]) -> Double? {
        guard let tau = Correlation.kendallTauB(current, reference) else { return nil }
        return (tau + 1) / 2
    }
}

extension Pairs {
    typealias Picked = (prompt: BlobID, chosen: PairCandidate, rejected: PairCandidate)

    /// Each kept pair's weight and soft label, as the config asks (nil: not stored). With consistency per pair, a
    /// prompt whose candidates the two judges cannot both rank is dropped: it has no consistency to learn from.
    static func weigh(_ pairs: [Picked], _ config: Config, candidates: [BlobID: [PairCandidate]], reference: [[BlobID]: Double])
        -> (kept: [Picked], weights: [(weight: Double?, confidence: Double?)], dropped: [String: Int]) {
        var kept: [Picked] = [], weights: [(weight: Double?, confidence: Double?)] = [], dropped: [String: Int] = [:]
        for pair in pairs {
            var confidence: Double?
            if config.consistencyWith != nil {
                let both = (candidates[pair.prompt] ?? []).filter { !$0.scores.isEmpty }
                    .compactMap { c in reference[[pair.prompt, c.response]].map { (c.mean, $0) } }
                confidence = PairWeights.consistency(both.map(\.0), both.map(\.1))
                if confidence == nil && config.consistencyScope != .set {
                    dropped["consistency: the two judges do not both rank 2+ candidates", default: 0] += 1
                    continue
                }
            }
            let weight = config.weighting == .vote ? PairWeights.vote(chosen: pair.chosen.scores, rejected: pair.rejected.scores) : nil
            kept.append(pair)
            weights.append((weight, confidence))
        }
        if config.consistencyScope == .set {
            // No prompt measurable: no consistency to give, the labels stay hard.
            let values = weights.compactMap(\.confidence)
            let mean = values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
            weights = weights.map { ($0.weight, mean) }
        }
        return (kept, weights, dropped)
    }

    /// Mean parsed score per [prompt, reply] over every judge and sample.
    static func meanScores(_ judgments: [StageRows.Judgment]) -> [[BlobID]: Double] {
        var sums: [[BlobID]: (Double, Int)] = [:]
        for j in judgments {
            guard let score = j.score else { continue }
            let s = sums[[j.prompt, j.response], default: (0, 0)]
            sums[[j.prompt, j.response]] = (s.0 + score, s.1 + 1)
        }
        return sums.mapValues { $0.0 / Double($0.1) }
    }
}
