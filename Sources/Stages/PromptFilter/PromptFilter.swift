import Foundation

/// Self-Instruct's filters for newly generated instructions, plus decontamination against evaluation sets.
///
/// Checks run in Self-Instruct's order (empty, length, keywords, first character; a chat-reply opening after the
/// keywords), then exact duplicate, contamination
/// (exact or ROUGE-L >= threshold to an evaluation text) and near duplicate (ROUGE-L >= threshold to an existing or
/// earlier accepted prompt). Self-Instruct drops a pair with ROUGE-L > 0.7; this uses >= threshold, as RougeIndex does.
/// Not thread-safe: check prompts one at a time (each accepted one changes what the next is compared with).
public final class PromptFilter {
    public let config: PromptFilterConfig
    private let keywords: [(text: String, scalars: [Unicode.Scalar])]
    private let preambles: [(text: String, scalars: [Unicode.Scalar])]
    private let index: RougeIndex
    private let evaluationIndex: RougeIndex
    /// Normalised texts of `index`'s entries and of `evaluationIndex`'s, for verdict details.
    private var texts: [String] = []
    private var evaluationTexts: [String] = []
    /// Whitespace-collapsed, lowercased keys of every indexed prompt → its position in `texts`.
    private var exact: [String: Int] = [:]
    private var evaluationExact: [String: Int] = [:]

    /// `existing` = seeds + all earlier generated prompts; `evaluationSets` = texts that generated prompts must not copy.
    public init(config: PromptFilterConfig, existing: [String], evaluationSets: [String] = []) {
        precondition(config.rougeThreshold > 0 && config.rougeThreshold <= 1,
                     "rougeThreshold must be in (0, 1], got \(config.rougeThreshold)")
        self.config = config
        keywords = config.keywords.map { keyword in
            (keyword, Self.normalise(keyword).unicodeScalars.map(Self.simpleLowercase))
        }
        preambles = config.preambles.map { opening in
            (opening, Self.normalise(opening).unicodeScalars.map(Self.simpleLowercase))
        }
        index = RougeIndex(threshold: config.rougeThreshold)
        evaluationIndex = RougeIndex(threshold: config.rougeThreshold)
        for text in existing { remember(Self.normalise(text)) }
        for text in evaluationSets {
            let normalised = Self.normalise(text)
            evaluationIndex.add(normalised)
            if evaluationExact[normalised.lowercased()] == nil { evaluationExact[normalised.lowercased()] = evaluationTexts.count }
            evaluationTexts.append(normalised)
        }
    }

    /// Prompts indexed for deduplication: existing ones plus those accepted so far.
    public var indexedCount: Int { index.count }

    /// Checks a new instruction; when accepted it is added to the index so later ones in the same batch are compared with it.
    public func check(_ instruction: String) -> FilterVerdict {
        let verdict = screen(instruction)
        if verdict.accepted { remember(Self.normalise(instruction)) }
        return verdict
    }

    private func screen(_ instruction: String) -> FilterVerdict {
        // Self-Instruct: re.sub(r"\s+", " ", inst).strip() before every test.
        let text = Self.normalise(instruction)
        guard let first = text.unicodeScalars.first else { return .reject(.empty) }
        let words = text.split(separator: " ").count
        if words <= config.minWords {
            return .reject(.tooShort, "\(words) words (needs more than \(config.minWords))")
        }
        if words > config.maxWords { return .reject(.tooLong, "\(words) words (at most \(config.maxWords))") }
        let lowered = text.unicodeScalars.map(Self.simpleLowercase)
        if let hit = keywords.first(where: { Self.containsWord($0.scalars, in: lowered) }) {
            return .reject(.keyword, "keyword '\(hit.text)'")
        }
        if let hit = preambles.first(where: { Self.startsWithWords($0.scalars, in: lowered) }) {
            return .reject(.chatPreamble, "opens like a chat reply: '\(hit.text)'")
        }
        if first.isASCII && Self.asciiPunctuation.contains(first) {
            return .reject(.punctuationStart, "starts with '\(first)'")
        }
        if !first.isASCII { return .reject(.nonASCIIStart, "starts with '\(first)' (U+\(String(first.value, radix: 16, uppercase: true)))") }

        let key = text.lowercased()
        if let same = exact[key] { return .reject(.exactDuplicate, "same as: \(Self.excerpt(texts[same]))") }
        if let same = evaluationExact[key] {
            return .reject(.contaminated, "same as evaluation text: \(Self.excerpt(evaluationTexts[same]))")
        }
        let tokens = RougeL.tokens(text)
        if let hit = evaluationIndex.nearDuplicate(ofTokens: tokens) {
            return .reject(.contaminated, "ROUGE-L \(Self.score(hit.score)) to evaluation text: \(Self.excerpt(evaluationTexts[hit.index]))")
        }
        if let hit = index.nearDuplicate(ofTokens: tokens) {
            return .reject(.nearDuplicate, "ROUGE-L \(Self.score(hit.score)) to: \(Self.excerpt(texts[hit.index]))")
        }
        return .accept
    }

    private func remember(_ normalised: String) {
        index.add(normalised)
        let key = normalised.lowercased()
        if exact[key] == nil { exact[key] = texts.count }
        texts.append(normalised)
    }

    // MARK: - Text helpers

    /// Python's string.punctuation.
    private static let asciiPunctuation = Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".unicodeScalars)

    /// Runs of whitespace become one space; ends trimmed.
    static func normalise(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in text.unicodeScalars {
            if scalar.properties.isWhitespace {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(" ") }
                pendingSpace = false
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// One-to-one lowercase (keeps scalar positions aligned, as Python's re.IGNORECASE compares code point by code point).
    static func simpleLowercase(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        if scalar.isASCII {
            return (65...90).contains(scalar.value) ? Unicode.Scalar(scalar.value + 32)! : scalar
        }
        let mapped = scalar.properties.lowercaseMapping.unicodeScalars
        return mapped.count == 1 ? mapped.first! : scalar
    }

    /// Python's `\w` for str patterns: letters, digits/numerics and underscore.
    static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == "_" { return true }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    /// Python's `re.search(r"\b(" + word + r")\b", text, re.IGNORECASE)`, both sides already lowercased.
    static func containsWord(_ word: [Unicode.Scalar], in text: [Unicode.Scalar]) -> Bool {
        guard !word.isEmpty, word.count <= text.count else { return false }
        func boundary(_ position: Int) -> Bool {
            let before = position > 0 && isWordScalar(text[position - 1])
            let after = position < text.count && isWordScalar(text[position])
            return before != after
        }
        for start in 0...(text.count - word.count) where text[start] == word[0] {
            var matches = true
            for k in 1..<word.count where text[start + k] != word[k] { matches = false; break }
            if matches && boundary(start) && boundary(start + word.count) { return true }
        }
        return false
    }

    /// `text` begins with `words`, ending at a word boundary.
    static func startsWithWords(_ words: [Unicode.Scalar], in text: [Unicode.Scalar]) -> Bool {
        guard !words.isEmpty, words.count <= text.count, Array(text.prefix(words.count)) == words else { return false }
        return words.count == text.count || !isWordScalar(text[words.count]) || !isWordScalar(words[words.count - 1])
    }

    private static func excerpt(_ text: String) -> String {
        text.count <= 80 ? text : String(text.prefix(80)) + "…"
    }

    private static func score(_ value: Double) -> String { String(format: "%.2f", value) }
}
