/// One pair judged by people and by the judge.
public struct PairwiseItem: Codable, Hashable, Sendable {
    public var human: Verdict
    /// nil = the judge's output held no parseable verdict.
    public var judge: Verdict?

    public init(human: Verdict, judge: Verdict?) {
        self.human = human
        self.judge = judge
    }
}

/// The judge against pairwise human labels (MT-Bench human judgments, LLMBar, PandaLM style data), with bootstrap
/// intervals over items. Definitions:
/// - `accuracy`: over items people did not call a tie, the share where the judge picked the same answer; a judge
///   tie or an unparsed verdict is wrong (this is the "without ties" agreement the literature quotes, e.g. GPT-4
///   85 % on MT-Bench).
/// - `agreement`: over all items, the share whose judge verdict equals the human one among the three classes
///   (a, b, tie); an unparsed verdict is wrong.
/// - `kappa`: Cohen's κ = (pₒ − pₑ) / (1 − pₑ) over the three classes, on the items whose judge verdict parsed
///   only (an unparsed verdict is no class; those items are reported as `unparsed` / `unparsedRate` instead).
///   κ corrects raw agreement for the agreement two raters with these label frequencies reach by chance; it is
///   undefined (absent) when pₑ = 1, e.g. when both raters use one and the same class throughout.
public struct PairwiseAgreement: Codable, Hashable, Sendable {
    public var items: Int
    /// Items with a non-tie human verdict: the denominator of `accuracy`.
    public var decisiveItems: Int
    public var unparsed: Int
    public var accuracy: Estimate?
    public var agreement: Estimate?
    public var kappa: Estimate?
    public var unparsedRate: Estimate?

    private enum Statistic: Hashable {
        case accuracy, agreement, kappa, unparsedRate
    }

    public static func compute(_ items: [PairwiseItem], bootstrap: BootstrapOptions = BootstrapOptions())
        -> PairwiseAgreement {
        let estimates = Bootstrap.estimates(units: items.count, options: bootstrap) { indices in
            statistics(indices.map { items[$0] })
        }
        return PairwiseAgreement(items: items.count, decisiveItems: items.count { $0.human != .tie },
                                 unparsed: items.count { $0.judge == nil },
                                 accuracy: estimates[.accuracy], agreement: estimates[.agreement],
                                 kappa: estimates[.kappa], unparsedRate: estimates[.unparsedRate])
    }

    private static func statistics(_ items: [PairwiseItem]) -> [Statistic: Double] {
        var values: [Statistic: Double] = [:]
        guard !items.isEmpty else { return values }
        let decisive = items.filter { $0.human != .tie }
        if !decisive.isEmpty {
            values[.accuracy] = Double(decisive.count { $0.judge == $0.human }) / Double(decisive.count)
        }
        values[.agreement] = Double(items.count { $0.judge == $0.human }) / Double(items.count)
        values[.unparsedRate] = Double(items.count { $0.judge == nil }) / Double(items.count)
        values[.kappa] = cohensKappa(items.compactMap { item in item.judge.map { (item.human, $0) } })
        return values
    }

    /// Cohen's κ for two raters over the three verdict classes; nil for no items or chance agreement 1.
    public static func cohensKappa(_ pairs: [(Verdict, Verdict)]) -> Double? {
        guard !pairs.isEmpty else { return nil }
        let n = Double(pairs.count)
        let observed = Double(pairs.count { $0.0 == $0.1 }) / n
        let chance = Verdict.allCases.reduce(0.0) { sum, verdict in
            sum + Double(pairs.count { $0.0 == verdict }) / n * Double(pairs.count { $0.1 == verdict }) / n
        }
        return chance < 1 ? (observed - chance) / (1 - chance) : nil
    }
}
