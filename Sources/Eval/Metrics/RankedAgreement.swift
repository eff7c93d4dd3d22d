/// How many things each ranked-agreement metric rests on, so a report can say "over N prompts".
public struct RankedCounts: Codable, Hashable, Sendable {
    public var prompts: Int
    /// Prompts with at least 2 replies; the others cannot be ranked and are ignored everywhere.
    public var promptsUsed: Int
    public var comparablePairs: Int
    public var replies: Int
    public var scoredReplies: Int
    public var samples: Int
    public var parsedSamples: Int
    /// Prompts that count for 5-best (have a rank-0 reply) and for exact match (have a comparable pair).
    public var fiveBestPrompts: Int
    public var exactMatchPrompts: Int
    /// Prompts where the per-prompt correlation is defined and enters the average.
    public var spearmanPrompts: Int
    public var kendallPrompts: Int
}

/// The judge against human rankings (the paper's Table 4), every metric with a bootstrap interval over prompts,
/// next to what a judge scoring at random would get on the same data. Definitions: `RankedMetric`.
public struct RankedAgreement: Codable, Hashable, Sendable {
    public var counts: RankedCounts
    /// Metrics undefined on this data (e.g. no comparable pair, every score equal) have no entry.
    public var estimates: [RankedMetric: Estimate]
    public var randomJudge: RandomJudgeBaseline

    public subscript(metric: RankedMetric) -> Estimate? {
        estimates[metric]
    }

    public static func compute(_ prompts: [RankedPrompt], bootstrap: BootstrapOptions = BootstrapOptions(),
                               randomJudge: RandomJudgeOptions = RandomJudgeOptions()) -> RankedAgreement {
        let used = prompts.filter { $0.replies.count >= 2 }
        let summaries = used.map(PromptSummary.init)
        let estimates = Bootstrap.estimates(units: summaries.count, options: bootstrap) { indices in
            RankedMetric.values(of: summaries, at: indices)
        }
        let counts = RankedCounts(
            prompts: prompts.count, promptsUsed: used.count,
            comparablePairs: summaries.reduce(0) { $0 + $1.comparablePairs },
            replies: used.reduce(0) { $0 + $1.replies.count },
            scoredReplies: summaries.reduce(0) { $0 + $1.scores.count },
            samples: summaries.reduce(0) { $0 + $1.samples },
            parsedSamples: summaries.reduce(0) { $0 + $1.parsedSamples },
            fiveBestPrompts: summaries.count { $0.bestScoredFive != nil },
            exactMatchPrompts: summaries.count { $0.exactMatch != nil },
            spearmanPrompts: summaries.count { $0.spearman != nil },
            kendallPrompts: summaries.count { $0.kendall != nil })
        return RankedAgreement(counts: counts, estimates: estimates,
                               randomJudge: RandomJudgeBaseline.simulate(used, options: randomJudge))
    }
}
