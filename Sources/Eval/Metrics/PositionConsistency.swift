/// One item judged in both orders; `swapped` is the verdict from the (B, A) presentation already mapped back to
/// the original A and B (see `Verdict.swapped`).
public struct PositionPair: Codable, Hashable, Sendable {
    public var inOrder: Verdict?
    public var swapped: Verdict?

    public init(inOrder: Verdict?, swapped: Verdict?) {
        self.inOrder = inOrder
        self.swapped = swapped
    }

    /// The verdict that survives the swap, as the paper's head-to-head does: both orders agree → that verdict;
    /// they disagree → tie (the judge only followed the position). nil when either order did not parse: there is
    /// no second opinion to check the first against.
    public var combined: Verdict? {
        guard let inOrder, let swapped else { return nil }
        return inOrder == swapped ? inOrder : .tie
    }
}

/// Position bias: how often the judge keeps its verdict when the two answers change places (GPT-4 kept it in 65 %
/// of MT-Bench swaps). `consistentShare` = items whose two verdicts are equal (tie/tie included) over the items
/// where both parsed, with a bootstrap interval over those items.
public struct PositionConsistency: Codable, Hashable, Sendable {
    public var items: Int
    public var bothParsed: Int
    public var consistent: Int
    public var consistentShare: Estimate?
    /// One per input item, in order: `PositionPair.combined`.
    public var combined: [Verdict?]

    public static func compute(_ pairs: [PositionPair], bootstrap: BootstrapOptions = BootstrapOptions())
        -> PositionConsistency {
        let agreeing = pairs.compactMap { pair -> Bool? in
            guard let inOrder = pair.inOrder, let swapped = pair.swapped else { return nil }
            return inOrder == swapped
        }
        let estimates = Bootstrap.estimates(units: agreeing.count, options: bootstrap) { indices in
            indices.isEmpty ? [:] : ["consistent": Double(indices.count { agreeing[$0] }) / Double(indices.count)]
        }
        return PositionConsistency(items: pairs.count, bothParsed: agreeing.count, consistent: agreeing.count { $0 },
                                   consistentShare: estimates["consistent"], combined: pairs.map(\.combined))
    }
}
