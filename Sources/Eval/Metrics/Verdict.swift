/// A pairwise verdict between two answers shown as A and B.
public enum Verdict: String, CaseIterable, Codable, Hashable, Sendable {
    case a
    case b
    case tie

    /// The same verdict seen from the other order: a judge shown (B, A) that prefers its first answer prefers B.
    public var swapped: Verdict {
        switch self {
        case .a: .b
        case .b: .a
        case .tie: .tie
        }
    }

    /// A's outcome: 1 win, 0.5 tie, 0 loss.
    public var outcomeForA: Double {
        switch self {
        case .a: 1
        case .b: 0
        case .tie: 0.5
        }
    }

    /// The verdict more than half of the annotators gave; `.tie` when no verdict has a strict majority (so a split
    /// vote [a, b] or [a, a, b, b] is a tie, as is [a, b, tie]); nil for no votes at all.
    public static func majority(of votes: [Verdict]) -> Verdict? {
        guard !votes.isEmpty else { return nil }
        return allCases.first { verdict in 2 * votes.count { $0 == verdict } > votes.count } ?? .tie
    }
}
