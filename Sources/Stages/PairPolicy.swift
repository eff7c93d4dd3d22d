import Foundation
import SRLMMetrics
import SRLMStore

/// How a prompt's judged candidates become one preference pair (`srlm pairs --policy`). Every policy is a pure
/// function of stored judgments, so a round's pairs can be made again under another policy without a model call.
public enum PairPolicy: String, Codable, CaseIterable, Sendable {
    /// The paper: the highest mean score vs the lowest; equal means are a tie and dropped.
    case bestWorst = "best-worst"
    /// Meta-Rewarding's length control, as NeMo-Aligner implements it: chosen = the shortest candidate scoring at
    /// least (1−ρ)·Smax + ρ·Smin, rejected = the longest scoring at most (1−ρ)·Smin + ρ·Smax. With ρ = 0 the bands
    /// are the top and bottom scores, and the candidate whose judge samples spread least wins within each.
    case lengthControl = "length-control"
    /// Temporal Self-Rewarding: chosen = the current model's best candidate, rejected = an earlier checkpoint's
    /// lowest-scoring candidate for the same prompt, judged by the same judge; dropped unless chosen scores higher.
    case anchored
}

/// How several judges' scores of one candidate make the score pairs use (`srlm pairs --aggregate`). Each judge's own
/// samples are averaged first, so every judge weighs the same however many samples it took.
public enum JudgeAggregate: String, Codable, CaseIterable, Sendable {
    /// The mean of the judges' means.
    case mean
    /// The median of the judges' means.
    case median
    /// Per prompt, each judge votes for the candidate it scores highest and against the one it scores lowest (the
    /// first of equals); a candidate's score is its votes for minus its votes against.
    case vote
    /// The lowest of the judges' means: any judge can sink a candidate.
    case veto
}

/// A prompt's candidate as the policies see it: its judge samples and its reply's length in characters.
public struct PairCandidate: Sendable, Equatable {
    public let response: BlobID
    public let scores: [Double]
    public let length: Int
    /// The several judges' aggregate, when there are several (else the samples' mean is the score).
    public let aggregate: Double?

    public init(response: BlobID, scores: [Double], length: Int, aggregate: Double? = nil) {
        self.response = response
        self.scores = scores
        self.length = length
        self.aggregate = aggregate
    }

    public var mean: Double { aggregate ?? scores.reduce(0, +) / Double(scores.count) }
    /// Population variance of the samples (NumPy's `var`): the judge's disagreement with itself.
    public var spread: Double {
        let m = scores.reduce(0, +) / Double(scores.count)
        return scores.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(scores.count)
    }
}

/// Chosen and rejected of one prompt, or why there is no pair.
public enum PairPick: Equatable, Sendable {
    case pair(chosen: PairCandidate, rejected: PairCandidate)
    case dropped(String)

    /// Picks by `policy` among `candidates` (in their first-seen order: earlier wins an exact tie); `anchor`: the
    /// earlier checkpoint's candidates for the same prompt. Candidates without a parsed score take no part.
    public static func pick(_ policy: PairPolicy, rho: Double, _ candidates: [PairCandidate], anchor: [PairCandidate] = []) -> PairPick {
        let scored = candidates.filter { !$0.scores.isEmpty }
        switch policy {
        case .bestWorst:
            guard scored.count >= 2 else { return .dropped("fewer than 2 scored candidates") }
            let chosen = first(scored, by: { $0.mean > $1.mean })
            let rejected = first(scored, by: { $0.mean < $1.mean })
            return chosen.mean == rejected.mean ? .dropped("tie") : .pair(chosen: chosen, rejected: rejected)
        case .lengthControl:
            guard scored.count >= 2 else { return .dropped("fewer than 2 scored candidates") }
            let high = scored.map(\.mean).max()!, low = scored.map(\.mean).min()!
            guard high > low else { return .dropped("tie") }
            let chosenBand = scored.filter { $0.mean >= (1 - rho) * high + rho * low }
            let rejectedBand = scored.filter { $0.mean <= (1 - rho) * low + rho * high }
            let chosen = rho > 0 ? first(chosenBand, by: { $0.length < $1.length }) : first(chosenBand, by: { $0.spread < $1.spread })
            let rejected = rho > 0 ? first(rejectedBand, by: { $0.length > $1.length }) : first(rejectedBand, by: { $0.spread < $1.spread })
            return chosen.response == rejected.response ? .dropped("same candidate chosen and rejected") : .pair(chosen: chosen, rejected: rejected)
        case .anchored:
            guard !scored.isEmpty else { return .dropped("no scored candidate") }
            let earlier = anchor.filter { !$0.scores.isEmpty }
            guard !earlier.isEmpty else { return .dropped("no judged anchor candidate") }
            let chosen = first(scored, by: { $0.mean > $1.mean })
            let rejected = first(earlier, by: { $0.mean < $1.mean })
            return chosen.mean > rejected.mean ? .pair(chosen: chosen, rejected: rejected) : .dropped("anchor not beaten")
        }
    }

    /// The first element that no later one is strictly better than (`better(a, b)`: a beats b).
    static func first(_ items: [PairCandidate], by better: (PairCandidate, PairCandidate) -> Bool) -> PairCandidate {
        items.dropFirst().reduce(items[0]) { best, next in better(next, best) ? next : best }
    }
}

/// Filters any policy's pairs can take, each drop counted by its reason. RIP's thresholds are quantiles over the
/// pairs the policy made (before any filter), so they adapt to the round's score and length scale.
public struct PairFilters: Hashable, Sendable {
    /// Smallest chosen − rejected mean score kept.
    public var minMargin = 0.0
    /// Largest chosen/rejected reply length ratio kept (0: no limit).
    public var maxLengthRatio = 0.0
    /// RIP: drop pairs whose rejected reply scores below this quantile of the rejected scores (0: off).
    public var ripRejectedScore = 0.0
    /// RIP: drop pairs whose rejected reply is shorter than the first or longer than the second quantile of the
    /// rejected lengths (empty: off).
    public var ripRejectedLength: [Double] = []
    /// RIP: drop pairs whose score gap is below this quantile of the gaps (0: off).
    public var ripGap = 0.0

    public init() {}

    public func validate() throws {
        func quantile(_ q: Double, _ name: String) throws {
            guard q >= 0 && q <= 1 else { throw SRLMError.outOfRange(setting: name, value: "\(q)", expected: "a quantile in 0…1") }
        }
        try quantile(ripRejectedScore, "rip rejected score")
        try quantile(ripGap, "rip gap")
        guard ripRejectedLength.isEmpty || (ripRejectedLength.count == 2 && ripRejectedLength[0] <= ripRejectedLength[1]) else {
            throw SRLMError.outOfRange(setting: "rip rejected length", value: "\(ripRejectedLength)", expected: "two quantiles LOW,HIGH with LOW ≤ HIGH")
        }
        for q in ripRejectedLength { try quantile(q, "rip rejected length") }
        guard maxLengthRatio >= 0 else { throw SRLMError.outOfRange(setting: "max length ratio", value: "\(maxLengthRatio)", expected: "≥ 0 (0: no limit)") }
    }

    /// The pairs kept, in order, and the drops by reason.
    public func apply<P>(_ pairs: [P], chosen: (P) -> PairCandidate, rejected: (P) -> PairCandidate) -> (kept: [P], dropped: [String: Int]) {
        var dropped: [String: Int] = [:]
        func gap(_ p: P) -> Double { chosen(p).mean - rejected(p).mean }
        let scores = pairs.map { rejected($0).mean }.sorted()
        let lengths = pairs.map { Double(rejected($0).length) }.sorted()
        let gaps = pairs.map(gap).sorted()
        let scoreFloor = ripRejectedScore > 0 && !scores.isEmpty ? Bootstrap.percentile(scores, ripRejectedScore) : nil
        let lengthBand = ripRejectedLength.count == 2 && !lengths.isEmpty
            ? (Bootstrap.percentile(lengths, ripRejectedLength[0]), Bootstrap.percentile(lengths, ripRejectedLength[1])) : nil
        let gapFloor = ripGap > 0 && !gaps.isEmpty ? Bootstrap.percentile(gaps, ripGap) : nil
        let kept = pairs.filter { p in
            let reason: String?
            if gap(p) < minMargin {
                reason = "margin below \(minMargin)"
            } else if maxLengthRatio > 0 && Double(chosen(p).length) > maxLengthRatio * Double(max(1, rejected(p).length)) {
                reason = "length ratio above \(maxLengthRatio)"
            } else if let floor = scoreFloor, rejected(p).mean < floor {
                reason = "rip: rejected score below its q\(ripRejectedScore) (\(String(format: "%.3g", floor)))"
            } else if let band = lengthBand, Double(rejected(p).length) < band.0 || Double(rejected(p).length) > band.1 {
                reason = "rip: rejected length outside its q\(ripRejectedLength[0])…q\(ripRejectedLength[1]) (\(Int(band.0))…\(Int(band.1)) chars)"
            } else if let floor = gapFloor, gap(p) < floor {
                reason = "rip: gap below its q\(ripGap) (\(String(format: "%.3g", floor)))"
            } else {
                reason = nil
            }
            if let reason { dropped[reason, default: 0] += 1 }
            return reason == nil
        }
        return (kept, dropped)
    }
}

/// Several judges' scores of one prompt's candidates, combined (`JudgeAggregate`).
enum JudgeAggregation {
    /// Per candidate (in order), its aggregate over the judges that scored it; nil for one no judge scored.
    static func scores(_ candidates: [[String: [Double]]], judges: [String], _ aggregate: JudgeAggregate) -> [Double?] {
        let means = candidates.map { samples in samples.mapValues { $0.reduce(0, +) / Double($0.count) } }
        switch aggregate {
        case .mean: return means.map { $0.isEmpty ? nil : $0.values.reduce(0, +) / Double($0.count) }
        case .veto: return means.map { $0.values.min() }
        case .median:
            return means.map { $0.isEmpty ? nil : Bootstrap.percentile($0.values.sorted(), 0.5) }
        case .vote:
            var votes = [Double](repeating: 0, count: candidates.count)
            for judge in judges {
                let scored = means.indices.compactMap { i in means[i][judge].map { (i, $0) } }
                guard scored.count >= 2 else { continue }
                let top = scored.dropFirst().reduce(scored[0]) { $1.1 > $0.1 ? $1 : $0 }
                let bottom = scored.dropFirst().reduce(scored[0]) { $1.1 < $0.1 ? $1 : $0 }
                if top.1 > bottom.1 {
                    votes[top.0] += 1
                    votes[bottom.0] -= 1
                }
            }
            return means.indices.map { means[$0].isEmpty ? nil : votes[$0] }
        }
    }
}
