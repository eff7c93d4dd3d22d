import Foundation
import SRLMMetrics
import SRLMStore

/// Human-labelled pairwise data: a prompt, two replies shown as A and B, and who won (or a tie).
enum Pairwise {
    /// pairwise rows {prompt, response_a, response_b, label} (LLMBar, PandaLM, AlpacaFarm style files map theirs:
    /// `--field response_a=output_1 --field response_b=output_2`), with optional question_id, model_a, model_b.
    /// With `--votes` the label is the strict majority of the annotators' columns (tie without one) and the votes
    /// are kept; an annotator column that is absent or null is no vote.
    static func labeled(_ job: ImportJob, _ sink: RowSink) throws {
        try job.records { r in
            let prompt = try r.messages("prompt", stringRole: "user")
            let a = try r.messages("response_a", stringRole: "assistant")
            let b = try r.messages("response_b", stringRole: "assistant")
            let source = PairSource(questionID: try r.identifier("question_id"), modelA: try r.optionalString("model_a"),
                                    modelB: try r.optionalString("model_b"))
            if job.options.votes.isEmpty {
                try sink.labeledPair(prompt, a, b, label: try label(r, "label"), votes: nil, source: source)
                return
            }
            var votes: [Verdict] = []
            for path in job.options.votes {
                guard let value = try r.raw(path: path) else { continue }
                for vote in (value as? [Any]) ?? [value] where !JSONPath.isNull(vote) {
                    guard let verdict = LabelSpelling.verdict(vote) else { throw r.error(path, LabelSpelling.unknown(vote)) }
                    votes.append(verdict)
                }
            }
            guard let majority = Verdict.majority(of: votes) else {
                throw r.error(nil, "no annotator voted: every --votes column (\(job.options.votes.joined(separator: ", "))) is missing or null")
            }
            try sink.labeledPair(prompt, a, b, label: majority, votes: votes, source: source)
        }
    }

    /// A verdict field (`label`, MT-Bench's `winner`).
    static func label(_ r: Record, _ field: String) throws -> Verdict {
        guard let value = try r.raw(field, field) else { throw r.error(field, "missing") }
        guard let verdict = LabelSpelling.verdict(value) else { throw r.error(field, LabelSpelling.unknown(value)) }
        return verdict
    }

    /// MT-Bench human judgments {question_id, model_a, model_b, winner, judge, conversation_a, conversation_b,
    /// turn}: one row per annotator. A judgment of the first turn is the first question (everything before the
    /// first assistant message) and each model's first answer; the rows of one question and model pair are one
    /// labelled pair whose votes are every annotator's (a row naming the models the other way round votes
    /// swapped) and whose label is their strict majority. Judgments of a later turn are skipped: their context
    /// (the first exchange) differs between the two models, so they are not one question with two answers.
    static func mtBenchHuman(_ job: ImportJob, _ sink: RowSink) throws {
        struct Item {
            let prompt: Messages
            let a: Messages
            let b: Messages
            let source: PairSource
            var votes: [Verdict]
        }
        var items: [Item] = []
        var index: [[String]: Int] = [:]
        try job.records { r in
            if let turn = try r.number("turn"), turn != 1 {
                job.tally.skipped["judgments of a later turn", default: 0] += 1
                return
            }
            guard let question = try r.identifier("question_id") else { throw r.error("question_id", "missing") }
            let modelA = try r.string("model_a"), modelB = try r.string("model_b")
            let vote = try label(r, "winner")
            let a = try firstExchange(r, "conversation_a")
            let b = try firstExchange(r, "conversation_b")
            guard a.prompt == b.prompt else {
                throw r.error("conversation_b", "its first question differs from the one in 'conversation_a'")
            }
            if let k = index[[question, modelA, modelB]] {
                items[k].votes.append(vote)
            } else if let k = index[[question, modelB, modelA]] {
                items[k].votes.append(vote.swapped)
            } else {
                index[[question, modelA, modelB]] = items.count
                items.append(Item(prompt: a.prompt, a: [a.answer], b: [b.answer],
                                  source: PairSource(questionID: question, modelA: modelA, modelB: modelB), votes: [vote]))
            }
        }
        for item in items {
            try sink.labeledPair(item.prompt, item.a, item.b, label: Verdict.majority(of: item.votes)!, votes: item.votes,
                                 source: item.source)
        }
    }

    /// A conversation's first question (every message before the first assistant message) and first answer.
    static func firstExchange(_ r: Record, _ field: String) throws -> (prompt: Messages, answer: Message) {
        let conversation = try r.messages(field, field, stringRole: "user", allowString: false)
        guard let k = conversation.firstIndex(where: { $0.role == "assistant" }), k > 0 else {
            throw r.error(field, "no assistant answer after a first question")
        }
        return (Array(conversation[..<k]), conversation[k])
    }
}

/// The spellings of a pairwise verdict in human-labelled data, matched case-insensitively after trimming:
/// A wins as `a`, `model_a`, `response_a`, `output_1`, `1`, `[[A]]`, …; B wins likewise with b / 2; a tie as
/// `tie`, `c`, `0`, `[[C]]`, `draw`, `equal`, and MT-Bench's `tie (bothbad)`. JSON numbers 1, 2 and 0 too.
enum LabelSpelling {
    static let spellings: [String: Verdict] = {
        var map: [String: Verdict] = [:]
        for (verdict, side, number) in [(Verdict.a, "a", "1"), (.b, "b", "2")] {
            for spelling in [side, "model_\(side)", "model \(side)", "response_\(side)", "response \(side)",
                             "assistant_\(side)", "assistant \(side)", "output_\(number)", "output \(number)", number,
                             "[[\(side)]]", "\(side) is better"] {
                map[spelling] = verdict
            }
        }
        for spelling in ["tie", "c", "0", "[[c]]", "draw", "equal", "same", "both", "neither", "tie (bothbad)",
                         "tie (both bad)", "tie(bothbad)", "tie (both good)", "both bad", "both good"] {
            map[spelling] = .tie
        }
        return map
    }()

    /// The verdict a label value spells; nil for anything else (booleans and non-integral numbers included).
    static func verdict(_ value: Any) -> Verdict? {
        if let text = value as? String { return spellings[text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()] }
        if let n = JSONPath.number(value), String(cString: n.objCType) != "c" {
            switch n.doubleValue {
            case 1: return .a
            case 2: return .b
            case 0: return .tie
            default: return nil
            }
        }
        return nil
    }

    static func unknown(_ value: Any) -> String {
        let type = JSONPath.typeName(value)
        let shown = (value as? String).map { "'\($0)'" } ?? (type == "a number" ? "\(value)" : type)
        return "unknown label \(shown); expected a, b or tie (also model_a / model_b, 1 / 2 / 0, tie (bothbad), …)"
    }
}
