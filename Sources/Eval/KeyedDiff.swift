import Foundation
import SRLMStore

/// Two versions matched by prompt (`srlm diff A B --by-prompt`): two checkpoints' answers to the same evaluation
/// prompts, one round's pairs under two policies, two judges' scores. Per prompt in both: whether the chosen reply
/// flipped (pairs), the change of margin, score and length, and the main texts for a word-level diff; sorted by
/// size of change, flips first.
public struct KeyedDiff: Codable, Sendable {
    public struct Entry: Codable, Sendable {
        public var prompt: String
        /// Pairs: B chose another reply than A (`reversed`: B chose A's rejected one).
        public var flipped: Bool
        public var reversed: Bool
        /// Pairs: the margin; judgments: the mean score; other kinds: nil.
        public var valueA: Double?
        public var valueB: Double?
        public var lengthA: Int
        public var lengthB: Int
        public var textA: String
        public var textB: String

        public var size: Double { abs((valueB ?? 0) - (valueA ?? 0)) + abs(Double(lengthB - lengthA)) / 1000 }
    }

    public var from: String
    public var to: String
    public var matched: Int
    public var onlyA: Int
    public var onlyB: Int
    public var flipped: Int
    public var entries: [Entry]

    /// The main text of a row: a pair's chosen reply, a candidate's or example's response, a judged response.
    static func mainColumn(_ kind: ArtifactKind) -> String? {
        switch kind {
        case .pairs: "chosen"
        case .candidates, .ift, .eft, .judgments: "response"
        case .ranked: "reply"
        case .labeledPairs: "response_a"
        case .prompts: nil
        }
    }

    struct Side {
        var text = "", blob: BlobID?, rejected: BlobID?, values: [Double] = []
    }

    static func byPrompt(_ v: VersionColumns) -> (order: [BlobID], sides: [BlobID: Side]) {
        let prompts = v.blobs["prompt"] ?? []
        let main = mainColumn(v.version.kind)
        var order: [BlobID] = [], sides: [BlobID: Side] = [:]
        for (i, prompt) in prompts.enumerated() {
            guard let prompt else { continue }
            var side = sides[prompt] ?? { order.append(prompt); return Side() }()
            if side.blob == nil, let main {
                side.text = v.texts[main]?[i] ?? ""
                side.blob = v.blobs[main]?[i] ?? nil
                side.rejected = v.blobs["rejected"]?[i] ?? nil
            }
            if v.version.kind == .pairs, let c = v.numbers["chosen_score"]?[i] ?? nil, let r = v.numbers["rejected_score"]?[i] ?? nil {
                side.values.append(c - r)
            } else if let score = v.numbers["score"]?[i] ?? nil {
                side.values.append(score)
            }
            sides[prompt] = side
        }
        return (order, sides)
    }

    public static func compute(_ a: VersionColumns, _ b: VersionColumns) throws -> KeyedDiff {
        guard a.version.kind == b.version.kind, a.blobs["prompt"] != nil else {
            throw SRLMError.invalid("matching rows by prompt needs two versions of one kind with prompts; \(a.version.ref) is \(a.version.kind.rawValue), \(b.version.ref) is \(b.version.kind.rawValue)")
        }
        let (orderA, sidesA) = byPrompt(a), (orderB, sidesB) = byPrompt(b)
        let promptTexts = Dictionary(zip(a.blobs["prompt"] ?? [], a.texts["prompt"] ?? []).compactMap { id, text in id.map { ($0, text ?? "") } }) { x, _ in x }
        func mean(_ v: [Double]) -> Double? { v.isEmpty ? nil : v.reduce(0, +) / Double(v.count) }
        var entries: [Entry] = []
        for prompt in orderA {
            guard let x = sidesA[prompt], let y = sidesB[prompt] else { continue }
            let isPairs = a.version.kind == .pairs
            entries.append(Entry(prompt: promptTexts[prompt] ?? "", flipped: isPairs && x.blob != y.blob,
                                 reversed: isPairs && x.rejected != nil && y.blob == x.rejected,
                                 valueA: mean(x.values), valueB: mean(y.values), lengthA: x.text.count, lengthB: y.text.count,
                                 textA: x.text, textB: y.text))
        }
        entries.sort { ($0.flipped ? 1 : 0, $0.size) > ($1.flipped ? 1 : 0, $1.size) }
        return KeyedDiff(from: a.version.ref, to: b.version.ref, matched: entries.count,
                         onlyA: orderA.count - entries.count, onlyB: orderB.filter { sidesA[$0] == nil }.count,
                         flipped: entries.count { $0.flipped }, entries: entries)
    }
}

/// A word-level diff: `[-removed-]` and `{+added+}` around the words that differ (longest common subsequence).
public enum WordDiff {
    public static func render(_ a: String, _ b: String, maxWords: Int = 2_000) -> String {
        let x = Array(a.split(whereSeparator: \.isWhitespace).prefix(maxWords)), y = Array(b.split(whereSeparator: \.isWhitespace).prefix(maxWords))
        var lcs = Array(repeating: Array(repeating: 0, count: y.count + 1), count: x.count + 1)
        for i in stride(from: x.count - 1, through: 0, by: -1) {
            for j in stride(from: y.count - 1, through: 0, by: -1) {
                lcs[i][j] = x[i] == y[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
            }
        }
        var out: [String] = [], removed: [Substring] = [], added: [Substring] = []
        func flush() {
            if !removed.isEmpty { out.append("[-" + removed.joined(separator: " ") + "-]") }
            if !added.isEmpty { out.append("{+" + added.joined(separator: " ") + "+}") }
            removed = []
            added = []
        }
        var (i, j) = (0, 0)
        while i < x.count || j < y.count {
            if i < x.count, j < y.count, x[i] == y[j] {
                flush()
                out.append(String(x[i]))
                i += 1
                j += 1
            } else if j < y.count && (i == x.count || lcs[i][j + 1] >= lcs[i + 1][j]) {
                added.append(y[j])
                j += 1
            } else {
                removed.append(x[i])
                i += 1
            }
        }
        flush()
        return out.joined(separator: " ")
    }
}
