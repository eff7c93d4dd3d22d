import Foundation
import SRLMStore

/// Builds rows of the target's kind from parsed examples: message lists become canonical JSON text (stored as
/// blobs), provenance columns get their import values.
struct RowSink {
    let target: ImportTarget
    let append: ([Value]) throws -> Void

    static func text(_ messages: Messages) -> Value {
        .text(String(decoding: CanonicalJSON.messages(messages), as: UTF8.self))
    }

    /// A prompts row; `source_run_id` stays NULL (no srlm run generated it).
    func prompt(_ prompt: Messages, origin: String = "imported") throws {
        try append([Self.text(prompt), .text(origin), .null])
    }

    /// An ift row, or for eft a judged example: the score is `score` when the file has one, else the response's
    /// "Score: N" read exactly as the judge's outputs are (`ScoreParser`), else NULL.
    func completion(_ prompt: Messages, _ response: Messages, score: Double? = nil) throws {
        switch target {
        case .eft:
            let value = (score ?? ScoreParser.parse(response.lastContent).score).map(Value.real) ?? .null
            try append([Self.text(prompt), Self.text(response), value, .text("imported"), .text("train"),
                        .null, .null, .null])
        default:
            try append([Self.text(prompt), Self.text(response)])
        }
    }

    func ranked(_ prompt: Messages, _ reply: Messages, rank: Int) throws {
        try append([Self.text(prompt), Self.text(reply), .int(Int64(rank))])
    }

    func pair(_ prompt: Messages, _ chosen: Messages, _ rejected: Messages,
              chosenScore: Double? = nil, rejectedScore: Double? = nil) throws {
        try append([Self.text(prompt), Self.text(chosen), Self.text(rejected),
                    chosenScore.map(Value.real) ?? .null, rejectedScore.map(Value.real) ?? .null])
    }
}
