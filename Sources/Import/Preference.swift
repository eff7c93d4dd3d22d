import Foundation
import SRLMStore

/// Preference data: TRL's dataset formats (and OpenAI preference fine-tuning rows) and Anthropic HH transcripts.
enum Preference {
    /// TRL rows. Preference: {prompt, chosen, rejected}, conversational (message lists) or standard (strings:
    /// the prompt one user message, each reply one assistant message); without a prompt ("implicit prompt") the
    /// chosen and rejected conversations' common prefix is the prompt. OpenAI preference rows {input: {messages},
    /// preferred_output, non_preferred_output} read the same way. Prompt-completion {prompt, completion} rows fill
    /// ift/eft, prompt-only {prompt} rows fill prompts.
    static func trl(_ job: ImportJob, _ sink: RowSink) throws {
        let target = job.target
        try job.rows(sink) { r, sink in
            let openAI = !r.mapped("chosen") && r.has("preferred_output", "preferred_output")
            let promptPath = openAI ? "input.messages" : "prompt"
            let chosenPath = openAI ? "preferred_output" : "chosen"
            let rejectedPath = openAI ? "non_preferred_output" : "rejected"
            let explicitPrompt = r.has("prompt", promptPath)
            switch target {
            case .pairs, .labeledPairs:
                let whole = (try r.messages("chosen", chosenPath, stringRole: "assistant"),
                             try r.messages("rejected", rejectedPath, stringRole: "assistant"))
                let scores = (try r.number("score_chosen"), try r.number("score_rejected"))
                let (weight, confidence) = try pairWeights(r)
                let (prompt, chosen, rejected) = explicitPrompt
                    ? (try r.messages("prompt", promptPath, stringRole: "user"), whole.0, whole.1)
                    : try implicitPrompt(r, chosenPath, rejectedPath, whole.0, whole.1).parts
                guard chosen != rejected else { throw r.error("rejected", "identical to 'chosen'") }
                try sink.pair(prompt, chosen, rejected, chosenScore: scores.0, rejectedScore: scores.1, weight: weight, confidence: confidence)
            case .prompts:
                if explicitPrompt || !r.has("chosen", chosenPath) {
                    try sink.prompt(try r.messages("prompt", promptPath, stringRole: "user"))
                } else {
                    let chosen = try r.messages("chosen", chosenPath, stringRole: "assistant")
                    let rejected = try r.messages("rejected", rejectedPath, stringRole: "assistant")
                    try sink.prompt(try implicitPrompt(r, chosenPath, rejectedPath, chosen, rejected).prompt)
                }
            case .ift, .eft:
                let prompt = try r.messages("prompt", promptPath, stringRole: "user")
                let response = try r.messages("response", "completion", stringRole: "assistant")
                try sink.completion(prompt, response, score: target == .eft ? try r.number("score") : nil)
            case .ranked:
                preconditionFailure("trl cannot fill ranked")
            }
        }
    }

    /// srlm's per-pair training weights (`export --format trl` writes them when a pair has them): `weight` ≥ 0
    /// scales the pair's loss, `confidence` in [0, 1] is the soft label.
    static func pairWeights(_ r: Record) throws -> (weight: Double?, confidence: Double?) {
        let weight = try r.number("weight"), confidence = try r.number("confidence")
        if let weight, weight < 0 { throw r.error("weight", "\(weight) is negative; a pair's weight is ≥ 0") }
        if let confidence, !(0...1).contains(confidence) {
            throw r.error("confidence", "\(confidence) is outside 0…1; it is the probability that 'chosen' is the better reply")
        }
        return (weight, confidence)
    }

    /// Without a prompt field the replies must be whole conversations sharing their beginning.
    static func implicitPrompt(_ r: Record, _ chosenPath: String, _ rejectedPath: String,
                               _ chosen: Messages, _ rejected: Messages) throws -> Split {
        guard try r.raw("chosen", chosenPath) is [Any], try r.raw("rejected", rejectedPath) is [Any] else {
            throw r.error("prompt", "missing (and 'chosen'/'rejected' are plain strings, so no prompt can be split off them)")
        }
        return try split(chosen, rejected, r)
    }

    /// Anthropic HH rows {chosen, rejected}, each a whole "\n\nHuman: ...\n\nAssistant: ..." transcript. The prompt
    /// is the two conversations' longest common prefix; chosen and rejected are what follows in each (usually
    /// the last assistant turn, but some rows part earlier).
    static func hhRLHF(_ job: ImportJob, _ sink: RowSink) throws {
        let target = job.target
        try job.rows(sink) { r, sink in
            let chosen = try transcript(r, "chosen")
            let rejected = try transcript(r, "rejected")
            let parts = try split(chosen, rejected, r)
            if target == .prompts { return try sink.prompt(parts.prompt) }
            try sink.pair(parts.prompt, parts.chosen, parts.rejected)
        }
    }

    struct Split {
        let prompt: Messages
        let chosen: Messages
        let rejected: Messages

        var parts: (Messages, Messages, Messages) { (prompt, chosen, rejected) }
    }

    /// Common prefix → prompt; each side keeps at least its last message.
    static func split(_ chosen: Messages, _ rejected: Messages, _ r: Record) throws -> Split {
        guard chosen != rejected else { throw r.error("rejected", "identical to 'chosen': nothing to prefer") }
        var k = 0
        while k < min(chosen.count, rejected.count) && chosen[k] == rejected[k] { k += 1 }
        k = min(k, chosen.count - 1, rejected.count - 1)
        guard k > 0 else {
            throw r.error("chosen", "'chosen' and 'rejected' differ from their first message, so they share no prompt")
        }
        return Split(prompt: Array(chosen[..<k]), chosen: Array(chosen[k...]), rejected: Array(rejected[k...]))
    }

    static func transcript(_ r: Record, _ field: String) throws -> Messages {
        let text = try r.string(field)
        guard let messages = parseTranscript(text) else {
            throw r.error(field, "not a \"\\n\\nHuman: ...\\n\\nAssistant: ...\" transcript")
        }
        return messages
    }

    /// Turns of a "\n\nHuman: …\n\nAssistant: …" transcript, each trimmed; nil when it has no turns or text
    /// before the first one. One pass over the bytes: the markers are ASCII, so cuts never split a character.
    static func parseTranscript(_ text: String) -> Messages? {
        var bytes = Array(text.utf8)
        if bytes.starts(with: "Human:".utf8) { bytes.insert(contentsOf: [0x0A, 0x0A], at: 0) }
        let markers: [(bytes: [UInt8], role: String)] = [(Array("\n\nHuman:".utf8), "user"),
                                                         (Array("\n\nAssistant:".utf8), "assistant")]
        var turns: [(role: String, start: Int, marker: Int)] = []
        var i = 0
        scan: while i + 1 < bytes.count {
            if bytes[i] == 0x0A && bytes[i + 1] == 0x0A {
                for m in markers where bytes[i...].starts(with: m.bytes) {
                    turns.append((m.role, i + m.bytes.count, i))
                    i += m.bytes.count
                    continue scan
                }
            }
            i += 1
        }
        guard let first = turns.first, bytes[..<first.marker].allSatisfy(JSONText.isSpace) else { return nil }
        return turns.enumerated().map { k, turn in
            let end = k + 1 < turns.count ? turns[k + 1].marker : bytes.count
            let content = String(decoding: bytes[turn.start..<end], as: UTF8.self)
            return Message(role: turn.role, content: content.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
}
