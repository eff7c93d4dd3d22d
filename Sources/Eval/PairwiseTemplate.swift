import Foundation
import SRLMEngines
import SRLMMetrics
import SRLMStages
import SRLMStore

/// The pairwise judge prompt (MT-Bench's pairwise format, in srlm's own words): the judge reads one question and two
/// answers and ends with a verdict line, `[[A]]`, `[[B]]` or `[[C]]` for a tie. Stored as a versioned template.
public struct PairwiseTemplate: Sendable, Hashable {
    public static let name = "judge-pairwise"

    public let body: String
    public let version: Int

    public static let builtIn = """
        Compare two AI assistants' answers to the user's question below and decide which answer is better. Consider \
        how helpful, relevant, accurate, deep and clear each answer is. The order in which the answers appear must \
        not sway you, nor must their length or the assistants' names. Be as objective as you can.

        [User question]
        {{question}}

        [Answer of assistant A]
        {{a}}
        [End of answer A]

        [Answer of assistant B]
        {{b}}
        [End of answer B]

        Explain your comparison briefly, then end with the verdict on a line of its own: [[A]] if A is better, \
        [[B]] if B is better, [[C]] for a tie.
        """

    /// llama.cpp GBNF / vLLM regex that make the output end with a verdict line (`structured`).
    public static func constraint(maxTokens: Int) -> OutputConstraint {
        .justification(maxTokens: maxTokens, thenGBNF: #""\n[[" [ABC] "]]""#, thenRegex: #"\n\[\[[ABC]\]\]"#)
    }

    public var versionTag: String { "\(Self.name)@\(version)" }

    /// The built-in template with the version it has (or will get) in the store. Reads only.
    public static func resolve(_ store: Store) throws -> PairwiseTemplate {
        PairwiseTemplate(body: builtIn, version: try StageRows.templateVersion(store, name: name, body: builtIn).version)
    }

    public func register(_ store: Store) throws -> BlobID {
        try StageRows.registerTemplate(store, name: Self.name, version: version, body: body)
    }

    public func request(question: Messages, first: String, second: String, sampling: Sampling, order: Int,
                        structured: Bool) -> ChatRequest {
        let conversation = question.map(\.content).joined(separator: "\n")
        let text = body.replacingOccurrences(of: "{{question}}", with: conversation)
            .replacingOccurrences(of: "{{a}}", with: first).replacingOccurrences(of: "{{b}}", with: second)
        return ChatRequest(messages: [.user(text)], temperature: sampling.temperature, topP: sampling.topP,
                           maxTokens: sampling.maxTokens, seed: sampling.seed, sampleIndex: order,
                           constraint: structured ? Self.constraint(maxTokens: sampling.maxTokens) : nil, templateVersion: versionTag)
    }

    /// The verdict of the last `[[A]]`, `[[B]]` or `[[C]]` in the output, in the order the answers were shown.
    public static func verdict(_ output: String) -> Verdict? {
        guard let match = output.matches(of: #/\[\[([ABC])\]\]/#).last else { return nil }
        switch match.output.1 {
        case "A": return .a
        case "B": return .b
        default: return .tie
        }
    }
}
