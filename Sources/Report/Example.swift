/// A preference pair shown side by side so a reader can judge the judge: the prompt, both replies with their mean
/// scores, and every judge sample's rationale behind them.
public struct Example: Codable, Hashable, Sendable {
    public var title: String
    public var prompt: String
    public var chosen: ExampleSide
    public var rejected: ExampleSide

    public init(title: String, prompt: String, chosen: ExampleSide, rejected: ExampleSide) {
        self.title = title
        self.prompt = prompt
        self.chosen = chosen
        self.rejected = rejected
    }
}

public struct ExampleSide: Codable, Hashable, Sendable {
    public var text: String
    public var meanScore: Double?
    public var judgments: [Judgment]

    public init(text: String, meanScore: Double?, judgments: [Judgment]) {
        self.text = text
        self.meanScore = meanScore
        self.judgments = judgments
    }
}

/// One judge sample: its rationale as written and the score parsed from it (nil = did not parse).
public struct Judgment: Codable, Hashable, Sendable {
    public var rationale: String
    public var score: Double?

    public init(rationale: String, score: Double?) {
        self.rationale = rationale
        self.score = score
    }
}
