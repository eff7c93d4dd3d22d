/// The reward-modelling metrics of the paper's Table 4, plus the ones a reader needs to trust them. Definitions
/// (all over "prompts used": prompts with at least 2 replies):
/// - `pairwiseAccuracy`: over comparable pairs (two replies of one prompt with different human ranks), pooled over
///   all prompts, the share the judge orders as people did (higher mean score for the better-ranked reply). A judge
///   tie is wrong and so is a pair with an unscored reply: the judge failed to separate them.
/// - `pairwiseAccuracyTiesHalf`: the same, a judge tie counting 0.5 (an unscored reply still 0).
/// - `judgeTieRate`: share of comparable pairs where both replies are scored and the mean scores are equal.
/// - `fiveBest`: share of prompts whose human-best reply gets the judge's top score, mean score exactly 5 (every
///   parsed sample 5). When several replies share rank 0, all of them must score 5 (the strict reading: the judge
///   must give top marks to whatever people ranked best). Prompts without a rank-0 reply are left out.
/// - `exactMatch`: share of prompts whose judge order equals the human order: every comparable pair is ordered as
///   people ordered it, a judge tie or an unscored reply breaking the match (ties broken against agreement).
///   Replies people ranked equal may be ordered either way. Prompts whose replies all share one rank have no
///   order to match and are left out.
/// - `spearmanPerPrompt`, `kendallPerPrompt`: Spearman ρ / Kendall τ-b between the human order (negated rank, so
///   positive means agreement) and the mean score over one prompt's scored replies, averaged over the prompts
///   where it is defined (≥ 2 scored replies, neither side constant). Per prompt because the paper ranks each
///   prompt's replies against each other: pooling would mix score scales across prompts (a generous prompt's
///   rank-2 reply can outscore a strict prompt's rank-0 one) and treat rank 0 of different prompts as tied.
/// - `spearmanPooled`, `kendallPooled`: the same over all scored replies of all prompts at once, for reference.
/// - `sampleParseRate`: parsed judge samples over all samples.
/// - `lengthSpearman`, `lengthPearson`: correlation between mean score and reply length (characters) over all
///   scored replies: a judge that rewards length shows a positive value.
/// Unscored replies enter through the pairwise metrics and the parse rate; correlations use scored replies only.
public enum RankedMetric: String, CaseIterable, Codable, CodingKeyRepresentable, Hashable, Sendable {
    case pairwiseAccuracy
    case pairwiseAccuracyTiesHalf
    case judgeTieRate
    case fiveBest
    case exactMatch
    case spearmanPerPrompt
    case kendallPerPrompt
    case spearmanPooled
    case kendallPooled
    case sampleParseRate
    case lengthSpearman
    case lengthPearson

    public var label: String {
        switch self {
        case .pairwiseAccuracy: "Pairwise accuracy"
        case .pairwiseAccuracyTiesHalf: "Pairwise accuracy (ties ½)"
        case .judgeTieRate: "Judge tie rate"
        case .fiveBest: "5-best"
        case .exactMatch: "Exact match"
        case .spearmanPerPrompt: "Spearman ρ (per prompt)"
        case .kendallPerPrompt: "Kendall τ-b (per prompt)"
        case .spearmanPooled: "Spearman ρ (pooled)"
        case .kendallPooled: "Kendall τ-b (pooled)"
        case .sampleParseRate: "Sample parse rate"
        case .lengthSpearman: "Length bias, Spearman ρ"
        case .lengthPearson: "Length bias, Pearson r"
        }
    }

    /// Proportions (shown as percentages) as opposed to correlations.
    public var isProportion: Bool {
        switch self {
        case .pairwiseAccuracy, .pairwiseAccuracyTiesHalf, .judgeTieRate, .fiveBest, .exactMatch, .sampleParseRate:
            true
        case .spearmanPerPrompt, .kendallPerPrompt, .spearmanPooled, .kendallPooled, .lengthSpearman, .lengthPearson:
            false
        }
    }

    /// Every metric that is defined on the chosen prompts (indices may repeat: a bootstrap resample).
    static func values(of summaries: [PromptSummary], at indices: [Int]) -> [RankedMetric: Double] {
        let chosen = indices.map { summaries[$0] }
        var values: [RankedMetric: Double] = [:]
        let pairs = chosen.reduce(0) { $0 + $1.comparablePairs }
        if pairs > 0 {
            let correct = Double(chosen.reduce(0) { $0 + $1.correctPairs })
            let tied = Double(chosen.reduce(0) { $0 + $1.tiedPairs })
            values[.pairwiseAccuracy] = correct / Double(pairs)
            values[.pairwiseAccuracyTiesHalf] = (correct + tied / 2) / Double(pairs)
            values[.judgeTieRate] = tied / Double(pairs)
        }
        values[.fiveBest] = share(chosen.compactMap(\.bestScoredFive))
        values[.exactMatch] = share(chosen.compactMap(\.exactMatch))
        values[.spearmanPerPrompt] = mean(chosen.compactMap(\.spearman))
        values[.kendallPerPrompt] = mean(chosen.compactMap(\.kendall))
        let goodness = chosen.flatMap(\.goodness), scores = chosen.flatMap(\.scores)
        let lengths = chosen.flatMap(\.lengths)
        values[.spearmanPooled] = Correlation.spearman(goodness, scores)
        values[.kendallPooled] = Correlation.kendallTauB(goodness, scores)
        let samples = chosen.reduce(0) { $0 + $1.samples }
        if samples > 0 {
            values[.sampleParseRate] = Double(chosen.reduce(0) { $0 + $1.parsedSamples }) / Double(samples)
        }
        values[.lengthSpearman] = Correlation.spearman(scores, lengths)
        values[.lengthPearson] = Correlation.pearson(scores, lengths)
        return values
    }

    private static func share(_ flags: [Bool]) -> Double? {
        flags.isEmpty ? nil : Double(flags.count { $0 }) / Double(flags.count)
    }

    private static func mean(_ values: [Double]) -> Double? {
        values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }
}
