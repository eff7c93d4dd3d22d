import Foundation
import SRLMMetrics
import SRLMStore

/// Builds rows of the target's kind from parsed examples: message lists become canonical JSON text (stored as
/// blobs), provenance columns get their import values.
struct RowSink {
    let target: ImportTarget
    let append: ([Value]) throws -> Void
    /// The same write for a row prepared on another core (`ImportJob.rows`); nil: rows go through `append`.
    var appendPrepared: ((PreparedRow) throws -> Void)?

    static func text(_ messages: Messages) -> Value {
        .text(CanonicalJSON.text(messages))
    }

    /// A prompts row; `source_run_id` stays NULL (no srlm run generated it).
    func prompt(_ prompt: Messages, origin: String = "imported") throws {
        try append([Self.text(prompt), .text(origin), .null, .null, .null, .null, .null, .null])
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

    /// A preference pair; for labeled-pairs a labelled pair whose winner is the chosen reply (see `preference`).
    func pair(_ prompt: Messages, _ chosen: Messages, _ rejected: Messages,
              chosenScore: Double? = nil, rejectedScore: Double? = nil, weight: Double? = nil, confidence: Double? = nil) throws {
        if target == .labeledPairs { return try preference(prompt, chosen, rejected) }
        try append([Self.text(prompt), Self.text(chosen), Self.text(rejected)]
                   + [chosenScore, rejectedScore, weight, confidence].map { $0.map(Value.real) ?? .null })
    }
}


/// Where a labelled pair came from, when the source says (MT-Bench: the question id and the two models).
struct PairSource {
    var questionID: String?
    var modelA: String?
    var modelB: String?
}

extension RowSink {
    /// A labeled-pairs row: the human verdict and, when several annotators voted, their votes (a JSON array).
    func labeledPair(_ prompt: Messages, _ a: Messages, _ b: Messages, label: Verdict, votes: [Verdict]?,
                     source: PairSource = PairSource()) throws {
        let votesJSON = votes.map { "[" + $0.map { "\"\($0.rawValue)\"" }.joined(separator: ",") + "]" }
        try append([Self.text(prompt), Self.text(a), Self.text(b), .text(label.rawValue), votesJSON.map(Value.text) ?? .null,
                    source.questionID.map(Value.text) ?? .null, source.modelA.map(Value.text) ?? .null,
                    source.modelB.map(Value.text) ?? .null])
    }

    /// A chosen/rejected pair (TRL, HH-RLHF, HHH) as a labelled pair. Were the chosen reply always A, every label
    /// would be 'a' and a judge that always answers A would look perfect; so the pair is shown swapped (B chosen,
    /// label 'b') when the first byte of the SHA-256 of its three canonical texts is odd: about half of the
    /// pairs, the same ones on every import and in every store.
    func preference(_ prompt: Messages, _ chosen: Messages, _ rejected: Messages) throws {
        if Self.swapsChosen(prompt, chosen, rejected) {
            try labeledPair(prompt, rejected, chosen, label: .b, votes: nil)
        } else {
            try labeledPair(prompt, chosen, rejected, label: .a, votes: nil)
        }
    }

    static func swapsChosen(_ prompt: Messages, _ chosen: Messages, _ rejected: Messages) -> Bool {
        var bytes = CanonicalJSON.messages(prompt)
        for side in [chosen, rejected] {
            bytes.append(0)
            bytes.append(CanonicalJSON.messages(side))
        }
        return ContentHash(of: bytes).bytes.first! & 1 == 1
    }
}
