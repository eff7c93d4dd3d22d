public struct RandomJudgeOptions: Codable, Hashable, Sendable {
    public var repetitions: Int
    public var seed: UInt64

    public init(repetitions: Int = 200, seed: UInt64 = 7) {
        self.repetitions = repetitions
        self.seed = seed
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
/// is not the textbook 50 %: on a 5-point scale a random judge ties (and ties count wrong), so with one sample it
/// orders a pair right 40 % of the time, and its 5-best depends on k (1/5 with one sample, 1/125 with three).
/// The random judge draws each of a reply's k samples (k as observed for that reply, all parsing) uniformly from
/// {1, 2, 3, 4, 5} and averages them like the real judge; every metric is computed as for the real judge, on the
/// same prompts and human ranks, and its Monte-Carlo distribution over `repetitions` seeded repetitions is reported
/// (`Spread`: mean, 2.5 and 97.5 percentiles).
public struct RandomJudgeBaseline: Codable, Hashable, Sendable {
    public var repetitions: Int
    public var seed: UInt64
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
                                scores: reply.scores.map { _ in Double(1 + generator.next(below: 5)) },
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
        return RandomJudgeBaseline(repetitions: max(options.repetitions, 0), seed: options.seed, spreads: spreads)
    }
}
