/// Everything the ranked-agreement metrics need from one prompt, computed once so that bootstrap resamples only
/// add up summaries.
struct PromptSummary: Sendable {
    var comparablePairs = 0
    var correctPairs = 0
    var tiedPairs = 0
    /// nil when no reply has human rank 0 (ranks need not start at 0 in the input).
    var bestScoredFive: Bool?
    /// nil when the prompt has no comparable pair (all replies ranked equal): there is no order to match.
    var exactMatch: Bool?
    var spearman: Double?
    var kendall: Double?
    /// Scored replies only: human goodness (the negated rank, so higher is better on both sides), score, length.
    var goodness: [Double] = []
    var scores: [Double] = []
    var lengths: [Double] = []
    var samples = 0
    var parsedSamples = 0

    init(_ prompt: RankedPrompt) {
        let replies = prompt.replies
        let means = replies.map(\.meanScore)
        for first in replies.indices {
            for second in replies.indices where second > first && replies[first].humanRank != replies[second].humanRank {
                comparablePairs += 1
                guard let firstScore = means[first], let secondScore = means[second] else { continue }
                if firstScore == secondScore {
                    tiedPairs += 1
                } else if (firstScore > secondScore) == (replies[first].humanRank < replies[second].humanRank) {
                    correctPairs += 1
                }
            }
        }
        let best = replies.indices.filter { replies[$0].humanRank == 0 }
        bestScoredFive = best.isEmpty ? nil : best.allSatisfy { means[$0] == 5 }
        exactMatch = comparablePairs == 0 ? nil : correctPairs == comparablePairs
        for (reply, mean) in zip(replies, means) {
            samples += reply.scores.count
            parsedSamples += reply.scores.count { $0 != nil }
            guard let mean else { continue }
            goodness.append(-Double(reply.humanRank))
            scores.append(mean)
            lengths.append(Double(reply.length))
        }
        spearman = Correlation.spearman(goodness, scores)
        kendall = Correlation.kendallTauB(goodness, scores)
    }
}
