/// Self-Instruct's filters for generated instructions (Wang et al. 2023, `post_process_gpt3_response`), with its defaults.
public struct PromptFilterConfig: Codable, Hashable, Sendable {
    /// An instruction needs MORE than `minWords` whitespace-separated words and at most `maxWords`: Self-Instruct drops
    /// `len(inst.split()) <= 3 or len(inst.split()) > 150`, and these defaults reproduce exactly that.
    public var minWords = 3, maxWords = 150
    /// Matched case-insensitively as whole words (Python's `\b(word)\b`): tasks a text-only model cannot do.
    public var keywords = ["image", "images", "graph", "graphs", "picture", "pictures", "file", "files", "map", "maps",
                           "draw", "plot", "go to", "video", "audio", "music", "flowchart", "diagram"]
    /// A prompt with ROUGE-L F >= this to an earlier prompt is a near duplicate, and to an evaluation text contaminated.
    public var rougeThreshold = 0.7
    /// Openings of a chat model's reply rather than a task ("Sure, here are the tasks:"); not in Self-Instruct, which
    /// prompted a base model. Matched case-insensitively at the start, as whole words. Empty: off.
    public var preambles = ["sure", "certainly", "of course", "okay", "here are", "here is", "here's", "i'd be happy",
                            "i would be happy", "i'm sorry", "as an ai"]

    public init() {}

    private enum CodingKeys: String, CodingKey, CaseIterable { case minWords, maxWords, keywords, rougeThreshold, preambles }

    /// Missing fields keep their defaults, so a config file may name only what it changes; unknown and out-of-range
    /// fields are errors that name the field.
    public init(from decoder: Decoder) throws {
        let known = Set(CodingKeys.allCases.map(\.stringValue))
        let any = try decoder.container(keyedBy: AnyKey.self)
        if let unknown = any.allKeys.first(where: { !known.contains($0.stringValue) }) {
            throw DecodingError.dataCorruptedError(forKey: unknown, in: any, debugDescription:
                "unknown prompt filter field '\(unknown.stringValue)' (known: \(known.sorted().joined(separator: ", ")))")
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        minWords = try c.decodeIfPresent(Int.self, forKey: .minWords) ?? minWords
        maxWords = try c.decodeIfPresent(Int.self, forKey: .maxWords) ?? maxWords
        keywords = try c.decodeIfPresent([String].self, forKey: .keywords) ?? keywords
        rougeThreshold = try c.decodeIfPresent(Double.self, forKey: .rougeThreshold) ?? rougeThreshold
        preambles = try c.decodeIfPresent([String].self, forKey: .preambles) ?? preambles
        if minWords < 0 {
            throw DecodingError.dataCorruptedError(forKey: .minWords, in: c, debugDescription: "minWords must be >= 0, got \(minWords)")
        }
        if maxWords <= minWords {
            throw DecodingError.dataCorruptedError(forKey: .maxWords, in: c,
                debugDescription: "maxWords (\(maxWords)) must exceed minWords (\(minWords))")
        }
        if !(rougeThreshold > 0 && rougeThreshold <= 1) {
            throw DecodingError.dataCorruptedError(forKey: .rougeThreshold, in: c,
                debugDescription: "rougeThreshold must be in (0, 1], got \(rougeThreshold)")
        }
        if let blank = keywords.firstIndex(where: { $0.allSatisfy(\.isWhitespace) }) {
            throw DecodingError.dataCorruptedError(forKey: .keywords, in: c, debugDescription: "keywords[\(blank)] is blank")
        }
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

/// Why a generated instruction was dropped; raw values are what reports and stored rows show. (gen-prompts also
/// records "unparsable": a completion with no instruction in it.)
public enum RejectReason: String, Codable, Sendable, CaseIterable {
    case empty, tooShort = "too-short", tooLong = "too-long", keyword, chatPreamble = "chat-preamble",
         punctuationStart = "punctuation-start", nonASCIIStart = "non-ascii-start", exactDuplicate = "exact-duplicate",
         nearDuplicate = "near-duplicate", contaminated
}

public struct FilterVerdict: Sendable, Hashable {
    public let accepted: Bool
    public let reason: RejectReason?
    /// Human-readable specifics, e.g. "keyword 'image'", "ROUGE-L 0.82 to: <first 80 chars of the other prompt>".
    public let detail: String?

    public init(accepted: Bool, reason: RejectReason?, detail: String?) {
        self.accepted = accepted
        self.reason = reason
        self.detail = detail
    }

    public static let accept = FilterVerdict(accepted: true, reason: nil, detail: nil)

    public static func reject(_ reason: RejectReason, _ detail: String? = nil) -> FilterVerdict {
        FilterVerdict(accepted: false, reason: reason, detail: detail)
    }
}
