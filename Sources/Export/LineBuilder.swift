import Foundation
import SRLMStore

/// Builds one JSONL line per row from the raw blob bytes. Blobs already hold canonical JSON message lists, so the
/// raw formats splice them between fixed key fragments (keys in sorted order) without decoding; formats with rules
/// (trl-standard, openai-*) decode only to check those rules.
struct LineBuilder {
    let format: ExportFormat
    let ref: String

    /// Roles OpenAI fine-tuning accepts in a message without tool fields.
    static let openAIRoles: Set<String> = ["system", "developer", "user", "assistant"]

    /// Appends one row's line to `out`. `fields` are the blob texts of `format.columns`, in that order, where they
    /// lie (the exporter passes SQLite's buffers); `scores` the values of `format.scoreColumns` (chosen score,
    /// rejected score, weight, confidence).
    func append(ord: Int, _ fields: [UnsafeRawBufferPointer], scores: [Double?] = [], to out: inout [UInt8]) throws {
        for (name, data) in zip(format.columns, fields) where !Self.isList(data) {
            throw fail(ord, "column \(name) does not hold a JSON message list")
        }
        // Grown geometrically: `out` holds a chunk of many lines, and an exact reserve would copy it for each one.
        let needed = out.count + fields.reduce(64) { $0 + $1.count }
        if needed > out.capacity { out.reserveCapacity(max(needed, 2 * out.capacity)) }
        func raw(_ s: StaticString) { out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount)) }
        switch format {
        case .trl:
            let (prompt, chosen, rejected) = (fields[0], fields[1], fields[2])
            raw(#"{"chosen":"#); out.append(contentsOf: chosen)
            try appendNumbers(ord, ["confidence"], scores.dropFirst(3), to: &out)
            raw(#","prompt":"#); out.append(contentsOf: prompt)
            raw(#","rejected":"#); out.append(contentsOf: rejected)
            try appendNumbers(ord, ["score_chosen", "score_rejected", "weight"], scores.prefix(3), to: &out)
            raw("}")
        case .trlStandard:
            let prompt = try single(ord, fields[0], "prompt", role: "user", what: "a prompt")
            let chosen = try single(ord, fields[1], "chosen", role: "assistant", what: "a chosen reply")
            let rejected = try single(ord, fields[2], "rejected", role: "assistant", what: "a rejected reply")
            // Keys in sorted order, as the trl format writes them.
            raw(#"{"chosen":"#); out.append(contentsOf: try CanonicalJSON.encode(chosen))
            try appendNumbers(ord, ["confidence"], scores.dropFirst(3), to: &out)
            raw(#","prompt":"#); out.append(contentsOf: try CanonicalJSON.encode(prompt))
            raw(#","rejected":"#); out.append(contentsOf: try CanonicalJSON.encode(rejected))
            try appendNumbers(ord, ["score_chosen", "score_rejected", "weight"], scores.prefix(3), to: &out)
            raw("}")
        case .sft:
            raw(#"{"completion":"#); out.append(contentsOf: fields[1])
            raw(#","prompt":"#); out.append(contentsOf: fields[0])
            raw("}")
        case .messages:
            raw(#"{"messages":"#); Self.appendConcatenation(fields[0], fields[1], to: &out)
            raw("}")
        case .openaiChat:
            let all = try decode(ord, fields[0], "prompt") + decode(ord, fields[1], "response")
            if let bad = all.first(where: { !Self.openAIRoles.contains($0.role) }) {
                throw fail(ord, "role '\(bad.role)' is not one OpenAI chat fine-tuning accepts (system, developer, user, assistant)")
            }
            guard all.last?.role == "assistant" else {
                throw fail(ord, "format openai-chat needs the conversation to end with an assistant message")
            }
            raw(#"{"messages":"#); Self.appendConcatenation(fields[0], fields[1], to: &out)
            raw("}")
        case .openaiPreference:
            let input = try decode(ord, fields[0], "prompt")
            if let bad = input.first(where: { !Self.openAIRoles.contains($0.role) }) {
                throw fail(ord, "role '\(bad.role)' is not one OpenAI preference fine-tuning accepts (system, developer, user, assistant)")
            }
            _ = try single(ord, fields[1], "chosen", role: "assistant", what: "a chosen reply")
            _ = try single(ord, fields[2], "rejected", role: "assistant", what: "a rejected reply")
            raw(#"{"input":{"messages":"#); out.append(contentsOf: fields[0])
            raw(#"},"non_preferred_output":"#); out.append(contentsOf: fields[2])
            raw(#","preferred_output":"#); out.append(contentsOf: fields[1])
            raw("}")
        }
        raw("\n")
    }

    /// `,"NAME":N` for each value a pair has (scores, weight, confidence; a NULL is left out).
    private func appendNumbers(_ ord: Int, _ names: [String], _ values: ArraySlice<Double?>, to out: inout [UInt8]) throws {
        for (name, value) in zip(names, values) {
            guard let value else { continue }
            guard value.isFinite else { throw fail(ord, "\(name) \(value) is not a finite number") }
            out.append(contentsOf: ",\"\(name)\":\(Self.number(value))".utf8)
        }
    }

    /// Shortest round-trip decimal; integral values without a fraction, as the row hash writes them.
    static func number(_ v: Double) -> String {
        if v == 0 { return "0" }
        if v.rounded() == v && abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }

    /// A cheap shape check on the raw bytes: `[` … `]`.
    static func isList(_ data: UnsafeRawBufferPointer) -> Bool {
        data.count >= 2 && data.first == UInt8(ascii: "[") && data.last == UInt8(ascii: "]")
    }

    /// `[a,b]` + `[c]` → `[a,b,c]` by splicing the arrays' bytes.
    static func appendConcatenation(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        if a.count == 2 { out.append(contentsOf: b); return }
        if b.count == 2 { out.append(contentsOf: a); return }
        out.append(contentsOf: a.dropLast())
        out.append(UInt8(ascii: ","))
        out.append(contentsOf: b.dropFirst())
    }

    private func decode(_ ord: Int, _ data: UnsafeRawBufferPointer, _ column: String) throws -> Messages {
        do { return try CanonicalJSON.decodeMessages(Data(data)) } catch {
            throw fail(ord, "column \(column) is not a list of {role, content} messages")
        }
    }

    /// The content of a list that must be exactly one message with `role`.
    private func single(_ ord: Int, _ data: UnsafeRawBufferPointer, _ column: String, role: String, what: String) throws -> String {
        let messages = try decode(ord, data, column)
        guard messages.count == 1, messages[0].role == role else {
            let roles = messages.map(\.role).joined(separator: ", ")
            let hint = format == .trlStandard ? "; format trl keeps whole conversations" : ""
            throw fail(ord, "format \(format.rawValue) needs \(what) of exactly one \(role) message, "
                          + "this one has \(messages.count) (\(roles))\(hint)")
        }
        return messages[0].content
    }

    private func fail(_ ord: Int, _ message: String) -> SRLMError {
        .invalid("row ord \(ord) of \(ref): \(message)")
    }
}
