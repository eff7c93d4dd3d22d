public struct RandomJudgeOptions: Codable, Hashable, Sendable {
    public var repetitions: Int
    public var seed: UInt64
    /// The scores the random judge draws from, uniformly: the judge's own scale. The rubric starts from 0 and the
    /// structured grammar and the score parser allow 0–5 (`ScoreParser.scores`; a test keeps the two the same).
    public var scores: ClosedRange<Int>

    public init(repetitions: Int = 200, seed: UInt64 = 7, scores: ClosedRange<Int> = 0...5) {
        self.repetitions = repetitions
        self.seed = seed
        self.scores = scores
    }
}

/// A metric's distribution over the random judge's repetitions: mean and 2.5 / 97.5 percentiles of the
/// repetitions where it was defined (`defined` of them).
public struct Spread: Codable, Hashable, Sendable {
    public var mean: Double
    public var low: Double
    public var high: Double
    public var defined: Int

    public init(mean: Double, low: Double, high: Double, defined: Int) {
        self.mean = mean
        self.low = low
        self.high = high
        self.defined = defined
    }
}

/// What chance alone scores on the same prompts, so "78 % pairwise accuracy" can be read against the floor, which
/// is not the textbook 50 %: on the judge's 0–5 scale a random judge ties (and ties count wrong), so with one sample
/// it orders a pair right (1 − 1/6)/2 ≈ 41.7 % of the time, and its 5-best depends on k (1/6 with one sample, 1/216
/// with three). The random judge draws each of a reply's k samples (k as observed for that reply, all parsing)
/// uniformly from the scores the judge can give (`RandomJudgeOptions.scores`, recorded in `scores`) and averages
/// them like the real judge; every metric is computed as for the real judge, on the
/// same prompts and human ranks, and its Monte-Carlo distribution over `repetitions` seeded repetitions is reported
/// (`Spread`: mean, 2.5 and 97.5 percentiles).
public struct RandomJudgeBaseline: Codable, Hashable, Sendable {
    public var repetitions: Int
    public var seed: UInt64
    /// The scores drawn from (the options' `scores`), so a figure says which random judge it is.
    public var scores: ClosedRange<Int>
    public var spreads: [RankedMetric: Spread]

    public subscript(metric: RankedMetric) -> Spread? {
        spreads[metric]
    }

    public static func simulate(_ prompts: [RankedPrompt], options: RandomJudgeOptions) -> RandomJudgeBaseline {
        let used = prompts.filter { $0.replies.count >= 2 }
        var generator = SplitMix64(seed: options.seed)
        var draws: [RankedMetric: [Double]] = [:]
        for _ in 0..<max(options.repetitions, 0) {
            let randomised = used.map { prompt in
                RankedPrompt(replies: prompt.replies.map { reply in
                    RankedReply(humanRank: reply.humanRank,
                                scores: reply.scores.map { _ in Double(options.scores.lowerBound + generator.next(below: options.scores.count)) },
                                length: reply.length)
                })
            }
            let summaries = randomised.map(PromptSummary.init)
            for (metric, value) in RankedMetric.values(of: summaries, at: Array(summaries.indices)) {
                draws[metric, default: []].append(value)
            }
        }
        let spreads = draws.mapValues { values in
            let sorted = values.sorted()
            return Spread(mean: values.reduce(0, +) / Double(values.count),
                          low: Bootstrap.percentile(sorted, 0.025), high: Bootstrap.percentile(sorted, 0.975),
                          defined: values.count)
        }
        return RandomJudgeBaseline(repetitions: max(options.repetitions, 0), seed: options.seed, scores: options.scores, spreads: spreads)
    }
}
