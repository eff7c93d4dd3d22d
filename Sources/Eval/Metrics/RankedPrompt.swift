/// One reply to a human-ranked prompt (the EFT evaluation set: OpenAssistant replies ranked by people) with what
/// the judge said about it.
public struct RankedReply: Codable, Hashable, Sendable {
    /// 0 = the best reply; equal ranks are allowed (people may rank two replies equally).
    public var humanRank: Int
    /// The judge's k samples for this reply; nil = that sample's output held no parseable score.
    public var scores: [Double?]
    /// Reply length in characters, for the length-bias correlation.
    public var length: Int

    public init(humanRank: Int, scores: [Double?], length: Int) {
        self.humanRank = humanRank
        self.scores = scores
        self.length = length
    }

    /// The judge's score: the mean of the parsed samples, as the paper averages its 3 samples; nil ("unscored")
    /// when no sample parsed.
    public var meanScore: Double? {
        let parsed = scores.compactMap { $0 }
        return parsed.isEmpty ? nil : parsed.reduce(0, +) / Double(parsed.count)
    }
}

public struct RankedPrompt: Codable, Hashable, Sendable {
    public var replies: [RankedReply]

    public init(replies: [RankedReply]) {
        self.replies = replies
    }
}
