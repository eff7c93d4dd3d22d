import Foundation
import SRLMEngines
import SRLMMetrics
import SRLMStages
import SRLMStore

/// What the pairwise evaluations share (`EvalCompare`, `EvalPairwise`): every item is judged twice with the
/// pairwise template, first as (A, B), then as (B, A); the second verdict is mapped back to the original sides, and
/// each verdict is stored as a judgments row.
struct BothOrders {
    /// One compared item: the question, and each side's reply (its blob, and its text as the judge reads it).
    struct Item: Sendable {
        let prompt: BlobID
        let question: Messages
        let a: BlobID
        let answerA: String
        let b: BlobID
        let answerB: String
    }

    let template: PairwiseTemplate
    let sampling: Sampling
    let structured: Bool

    /// Two requests per item, in item order: (A, B) then (B, A).
    func requests(_ items: [Item]) -> [ChatRequest] {
        items.flatMap { item in
            [template.request(question: item.question, first: item.answerA, second: item.answerB, sampling: sampling,
                              order: 0, structured: structured),
             template.request(question: item.question, first: item.answerB, second: item.answerA, sampling: sampling,
                              order: 1, structured: structured)]
        }
    }

    /// Each answer's verdict as the judge gave it (in the order it was shown; nil: none parsed), and per item the
    /// two verdicts with the swapped one mapped back to A and B.
    static func verdicts(_ answers: [ChatResponse]) -> (shown: [Verdict?], pairs: [PositionPair]) {
        let shown = answers.map { PairwiseTemplate.verdict($0.text) }
        let pairs = stride(from: 0, to: shown.count, by: 2).map { PositionPair(inOrder: shown[$0], swapped: shown[$0 + 1]?.swapped) }
        return (shown, pairs)
    }

    /// The judgments rows, one per answer: the reply shown first as `response`, the order as `sample_index`, and as
    /// `score` A's outcome under that order's verdict (1 win, 0.5 tie, 0 loss; NULL with a parse error when none).
    func write(_ writer: VersionWriter, items: [Item], requests: [ChatRequest], answers: [ChatResponse], shown: [Verdict?],
               judge: String, templateBlob: BlobID, modelKey: String) throws {
        for (index, answer) in answers.enumerated() {
            let item = items[index / 2]
            let verdict = shown[index].map { index % 2 == 0 ? $0 : $0.swapped }
            try writer.append([
                "prompt": .blob(item.prompt), "response": .blob(index % 2 == 0 ? item.a : item.b),
                "judge_model": .text(judge), "sample_index": .int(Int64(index % 2)),
                "output": .text(answer.text), "score": verdict.map { .real($0.outcomeForA) } ?? .null,
                "parse_error": verdict == nil ? .text("no [[A]], [[B]] or [[C]] verdict in the output") : .null,
                "mode": .text(structured ? "structured" : "free"), "template": .blob(templateBlob),
                "call_hash": .bytes(requests[index].hash(modelKey: modelKey).bytes),
            ])
        }
    }
}
