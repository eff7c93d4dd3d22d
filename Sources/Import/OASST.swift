import Foundation
import SRLMStore

/// OpenAssistant message trees, one per line: `prompt` {text, role "prompter", synthetic, deleted, replies:
/// [{text, role "assistant", rank, synthetic, replies...}]}. Only the first turn is read: the prompt and its
/// direct replies, whose human `rank` (0 = best) makes ranked rows and picks the ift reply. Deleted messages are
/// always left out; synthetic (model-written) ones unless `includeSynthetic`.
enum OASST {
    struct Node {
        let text: String
        let role: String
        let synthetic: Bool
        let deleted: Bool
        let rank: Int?
        let replies: [Any]
    }

    static func read(_ job: ImportJob, _ sink: RowSink) throws {
        try job.records { record in
            guard let rootValue = try record.raw("prompt", "prompt") else { throw record.error("prompt", "missing") }
            let root = try node(rootValue, "prompt", record)
            guard root.role == "prompter" else {
                throw record.error("prompt.role", "expected 'prompter', found '\(root.role)'")
            }
            if let why = leftOut(root, job, "prompts") {
                job.tally.skipped[why, default: 0] += 1
                return
            }
            let prompt: Messages = [.user(root.text)]
            if job.target == .prompts {
                try sink.prompt(prompt)
                return
            }
            var ranked: [(rank: Int, text: String)] = []
            var skipped: [String] = []
            for (index, value) in root.replies.enumerated() {
                let reply = try node(value, "prompt.replies.\(index)", record)
                guard reply.role == "assistant" else {
                    throw record.error("prompt.replies.\(index).role", "expected 'assistant', found '\(reply.role)'")
                }
                skipped += Array(repeating: "messages of later turns (only the prompt and its direct replies are read)",
                                 count: descendants(reply.replies))
                if let why = leftOut(reply, job, "replies") { skipped.append(why); continue }
                if let rank = reply.rank { ranked.append((rank, reply.text)) } else { skipped.append("unranked replies (no human rank)") }
            }
            // Counted once the whole tree has been read, so a refused tree adds nothing.
            for why in skipped { job.tally.skipped[why, default: 0] += 1 }
            if job.target == .ift && ranked.isEmpty { job.tally.skipped["trees with no ranked reply", default: 0] += 1 }
            switch job.target {
            case .ranked:
                for reply in ranked { try sink.ranked(prompt, [.assistant(reply.text)], rank: reply.rank) }
            case .ift:
                // The best-ranked reply kept (rank 0 unless it was left out); trees without ranks give no row.
                if let best = ranked.min(by: { $0.rank < $1.rank }) {
                    try sink.completion(prompt, [.assistant(best.text)])
                }
            default:
                preconditionFailure("oasst cannot fill \(job.target)")
            }
        }
    }

    /// Why a message is not read (`what`: prompts or replies), or nil when it is.
    static func leftOut(_ node: Node, _ job: ImportJob, _ what: String) -> String? {
        if node.deleted { return "deleted \(what)" }
        if node.synthetic && !job.options.includeSynthetic { return "synthetic \(what) (--include-synthetic keeps them)" }
        return nil
    }

    /// How many messages lie below these replies (the later turns of a tree).
    static func descendants(_ replies: [Any]) -> Int {
        replies.reduce(0) { count, reply in
            count + 1 + descendants(((reply as? [String: Any])?["replies"] as? [Any]) ?? [])
        }
    }

    static func node(_ value: Any, _ path: String, _ record: Record) throws -> Node {
        guard let object = value as? [String: Any] else {
            throw record.error(path, "expected a message object, found \(JSONPath.typeName(value))")
        }
        func flag(_ key: String) throws -> Bool {
            guard let v = object[key], !JSONPath.isNull(v) else { return false }
            guard let n = JSONPath.number(v), String(cString: n.objCType) == "c" else {
                throw record.error("\(path).\(key)", "expected a boolean, found \(JSONPath.typeName(v))")
            }
            return n.boolValue
        }
        guard let text = object["text"] as? String else {
            throw record.error("\(path).text", object["text"] == nil ? "missing" : "expected a string")
        }
        guard !text.allSatisfy(\.isWhitespace) else { throw record.error("\(path).text", "empty") }
        guard let role = object["role"] as? String else { throw record.error("\(path).role", "missing") }
        var rank: Int?
        if let r = object["rank"], !JSONPath.isNull(r) {
            guard let n = JSONPath.number(r), String(cString: n.objCType) != "c" else {
                throw record.error("\(path).rank", "expected a whole number ≥ 0, found \(JSONPath.typeName(r))")
            }
            guard let exact = JSONNumber.int64(n), exact >= 0 else {
                throw record.error("\(path).rank", "expected a whole number from 0 to \(Int64.max), found \(n.stringValue)")
            }
            rank = Int(exact)
        }
        let replies = object["replies"] ?? [Any]()
        guard let replyList = replies as? [Any] else {
            throw record.error("\(path).replies", "expected an array, found \(JSONPath.typeName(replies))")
        }
        return Node(text: text, role: role, synthetic: try flag("synthetic"), deleted: try flag("deleted"),
                    rank: rank, replies: replyList)
    }
}
