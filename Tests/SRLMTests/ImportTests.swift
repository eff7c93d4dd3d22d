import Foundation
import GRDB
import Testing
@testable import SRLMImport
@testable import SRLMStore

/// Imports of the real shared files, with expected rows computed here independently (JSONSerialization, gzip).
@Suite struct ImportTests {
    @Test func oasstTargetsAndSyntheticExclusion() throws {
        let path = TestSupport.sharedData("oasst/en_trees_60.jsonl")
        let trees = try Self.jsonLines(path).map { $0["prompt"] as! [String: Any] }
        #expect(trees.count == 60)
        func expected(_ synthetic: Bool) -> (prompts: Int, ift: Int, ranked: Int) {
            let kept = trees.filter { synthetic || !($0["synthetic"] as? Bool ?? false) }
            let ranked = kept.map { ($0["replies"] as! [[String: Any]]).filter {
                $0["rank"] is Int && (synthetic || !($0["synthetic"] as? Bool ?? false)) } }
            return (kept.count, ranked.filter { !$0.isEmpty }.count, ranked.map(\.count).reduce(0, +))
        }
        let without = expected(false), with = expected(true)
        #expect(with.prompts > without.prompts && with.ranked > without.ranked)

        let store = try TestSupport.makeStore()
        for (synthetic, counts) in [(false, without), (true, with)] {
            let suffix = synthetic ? "-all" : ""
            for (target, count) in [(ImportTarget.prompts, counts.prompts), (.ift, counts.ift), (.ranked, counts.ranked)] {
                let r = try Importer.run(store, ImportOptions(target: target, path: path, name: target.rawValue + suffix,
                                                              includeSynthetic: synthetic))
                #expect(r.format == .oasst)
                #expect(r.rows == count && r.version?.rowCount == count, "\(target) synthetic=\(synthetic)")
            }
        }
        // The ift row of the first kept tree is its prompt and its rank-0 reply.
        let tree = trees.first { !($0["synthetic"] as? Bool ?? false) }!
        let best = (tree["replies"] as! [[String: Any]]).first { $0["rank"] as? Int == 0 }!
        let ift = try Self.version(store, "ift")
        #expect(try Self.messages(store, ift, "prompt").first == [.user(tree["text"] as! String)])
        #expect(try Self.messages(store, ift, "response").first == [.assistant(best["text"] as! String)])
        let rankedID = try Self.version(store, "ranked").id
        let ranks = try store.read { try Int.fetchAll($0, sql: "SELECT human_rank FROM ranked_reply WHERE version_id = ? ORDER BY ord",
                                                      arguments: [rankedID]) }
        let replies = tree["replies"] as! [[String: Any]]
        #expect(Array(ranks.prefix(replies.count)) == replies.map { $0["rank"] as! Int })
    }

    @Test func selfInstructSeedsAndAlpacaEval() throws {
        let store = try TestSupport.makeStore()
        let seeds = TestSupport.sharedData("self-instruct/seed_tasks.jsonl")
        let tasks = try Self.jsonLines(seeds)
        let prompts = try Importer.run(store, ImportOptions(target: .prompts, path: seeds, format: .selfInstruct, name: "seeds"))
        #expect(prompts.rows == tasks.count && tasks.count == 175)
        let origins = try store.read { try String.fetchAll($0, sql: "SELECT DISTINCT origin FROM prompt WHERE version_id = ?",
                                                            arguments: [prompts.version!.id]) }
        #expect(origins == ["seed"])
        // A task with an input: the prompt is instruction + blank line + input.
        let index = tasks.firstIndex { (($0["instances"] as! [[String: Any]])[0]["input"] as! String) != "" }!
        let instance = (tasks[index]["instances"] as! [[String: Any]])[0]
        let stored = try Self.messages(store, prompts.version!, "prompt")
        #expect(stored[index] == [.user((tasks[index]["instruction"] as! String) + "\n\n" + (instance["input"] as! String))])
        let ift = try Importer.run(store, ImportOptions(target: .ift, path: seeds))
        #expect(ift.format == .selfInstruct && ift.rows == 175)
        #expect(try Self.messages(store, ift.version!, "response")[index] == [.assistant(instance["output"] as! String)])

        let eval = TestSupport.sharedData("alpaca-eval/gpt4_1106_preview_model_outputs.json")
        let items = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: eval))) as! [[String: Any]]
        let evalIFT = try Importer.run(store, ImportOptions(target: .ift, path: eval, name: "reference"))
        #expect(evalIFT.format == .alpacaEval && evalIFT.rows == items.count && items.count == 805)
        #expect(try Self.messages(store, evalIFT.version!, "response")[804] == [.assistant(items[804]["output"] as! String)])
        let evalPrompts = try Importer.run(store, ImportOptions(target: .prompts, path: eval, name: "eval-prompts"))
        #expect(evalPrompts.rows == 805)
        #expect(try Self.messages(store, evalPrompts.version!, "prompt")[3] == [.user(items[3]["instruction"] as! String)])
    }

    @Test func linesDecodeJSONStringsAndKeepRawText() throws {
        let store = try TestSupport.makeStore()
        let path = TestSupport.sharedData("oasst/prompt_lottery_en_250_text.jsonl")
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").filter { !$0.isEmpty }
        let r = try Importer.run(store, ImportOptions(target: .prompts, path: path))
        #expect(r.format == .lines && r.rows == lines.count && lines.count == 250)
        let decoded = try JSONSerialization.jsonObject(with: Data(lines[5].utf8), options: .fragmentsAllowed) as! String
        #expect(try Self.messages(store, r.version!, "prompt")[5] == [.user(decoded)])
        // Plain text lines are the text itself; blank lines are skipped.
        let plain = TestSupport.writeTemp("first prompt\n\n  \nsecond \"quoted\" prompt\r\n", name: "plain.txt")
        let p = try Importer.run(store, ImportOptions(target: .prompts, path: plain, name: "plain"))
        #expect(p.format == .lines && p.rows == 2)
        #expect(try Self.messages(store, p.version!, "prompt") == [[.user("first prompt")], [.user("second \"quoted\" prompt")]])
    }

    @Test func hhRLHFPromptIsTheCommonPrefix() throws {
        let store = try TestSupport.makeStore()
        let path = TestSupport.sharedData("hh-rlhf/harmless-base_test.jsonl.gz")
        let rows = try Self.gunzip(path).split(separator: UInt8(ascii: "\n")).map {
            try JSONSerialization.jsonObject(with: Data($0)) as! [String: String]
        }
        let r = try Importer.run(store, ImportOptions(target: .pairs, path: path))
        #expect(r.format == .hhRlhf && r.rows == rows.count && rows.count == 2312)
        let prompts = try Self.messages(store, r.version!, "prompt", table: "pair")
        let chosen = try Self.messages(store, r.version!, "chosen", table: "pair")
        let rejected = try Self.messages(store, r.version!, "rejected", table: "pair")
        var partedEarly = 0
        for (i, row) in rows.enumerated() {
            let c = Self.turns(row["chosen"]!), j = Self.turns(row["rejected"]!)
            var k = 0
            while k < min(c.count, j.count) && c[k] == j[k] { k += 1 }
            k = min(k, c.count - 1, j.count - 1)
            #expect(prompts[i] == Array(c[..<k]), "row \(i + 1)")
            #expect(chosen[i] == Array(c[k...]) && rejected[i] == Array(j[k...]), "row \(i + 1)")
            if c.count > k + 1 || j.count > k + 1 { partedEarly += 1 }
        }
        #expect(partedEarly >= 1)  // some rows differ before the last assistant turn
        // Re-importing the same file writes nothing, not even a run.
        let before = try Self.counts(store)
        let again = try Importer.run(store, ImportOptions(target: .pairs, path: path))
        #expect(again.version == nil && again.unchangedRef == "pairs@1" && again.rows == 2312)
        #expect(try Self.counts(store) == before)
    }

    @Test func trlFormatsOnRealPairs() throws {
        let store = try TestSupport.makeStore()
        let path = TestSupport.sharedData("hhh-alignment/hhh_alignment_pairs.jsonl")
        let rows = try Self.jsonLines(path)
        let r = try Importer.run(store, ImportOptions(target: .pairs, path: path))
        #expect(r.format == .trl && r.rows == rows.count && rows.count == 221)
        #expect(try Self.messages(store, r.version!, "chosen", table: "pair")[7] == [.assistant(rows[7]["chosen"] as! String)])
        // The same pairs as conversational rows, as prompt-less conversations and as OpenAI preference rows.
        func conv(_ row: [String: Any], _ key: String) -> [[String: String]] {
            [["role": "assistant", "content": row[key] as! String]]
        }
        let user = { (row: [String: Any]) in [["role": "user", "content": row["prompt"] as! String]] }
        let conversational = rows.map { ["prompt": user($0), "chosen": conv($0, "chosen"), "rejected": conv($0, "rejected"),
                                         "score_chosen": 5, "score_rejected": 1.5] as [String: Any] }
        let implicit = rows.map { ["chosen": user($0) + conv($0, "chosen"), "rejected": user($0) + conv($0, "rejected")] }
        let openAI = rows.map { ["input": ["messages": user($0)], "preferred_output": conv($0, "chosen"),
                                 "non_preferred_output": conv($0, "rejected")] as [String: Any] }
        let variants: [(String, [Any])] = [("conversational", conversational), ("implicit", implicit), ("openai", openAI)]
        for (label, objects) in variants {
            let file = try Self.writeJSONLines(objects, name: "\(label).jsonl")
            let v = try Importer.run(store, ImportOptions(target: .pairs, path: file, name: label))
            #expect(v.format == .trl && v.rows == 221, "\(label)")
            // Same prompts and replies as the standard rows: same blobs.
            #expect(try Self.hashes(store, v.version!, "prompt") == Self.hashes(store, r.version!, "prompt"), "\(label)")
            #expect(try Self.hashes(store, v.version!, "rejected") == Self.hashes(store, r.version!, "rejected"), "\(label)")
        }
        let scores = try store.read { try Row.fetchOne($0, sql: "SELECT min(chosen_score), max(rejected_score) FROM v_pairs WHERE ref = 'conversational@1'") }
        #expect(scores?[0] == 5.0 && scores?[1] == 1.5)
    }

    @Test func messagesShareGPTAlpacaAndEFTFromRealTexts() throws {
        let store = try TestSupport.makeStore()
        let trees = try Self.jsonLines(TestSupport.sharedData("oasst/en_trees_60.jsonl")).map { $0["prompt"] as! [String: Any] }
        let pairs = trees.map { ($0["text"] as! String, ($0["replies"] as! [[String: Any]])[0]["text"] as! String) }
        let messages = pairs.map { ["messages": [["role": "system", "content": "Be brief."], ["role": "user", "content": $0.0],
                                                 ["role": "assistant", "content": $0.1 + "\nScore: 4"]]] }
        let m = try Importer.run(store, ImportOptions(target: .eft, path: try Self.writeJSONLines(messages, name: "m.jsonl")))
        #expect(m.format == .messages && m.rows == 60)
        #expect(try Self.messages(store, m.version!, "prompt", table: "eft_example")[2] == [.system("Be brief."), .user(pairs[2].0)])
        let scores = try store.read { try Double.fetchAll($0, sql: "SELECT DISTINCT score FROM eft_example WHERE version_id = ?", arguments: [m.version!.id]) }
        #expect(scores == [4])

        let share = pairs.map { ["conversations": [["from": "human", "value": $0.0], ["from": "gpt", "value": $0.1]]] }
        let s = try Importer.run(store, ImportOptions(target: .ift, path: try Self.writeJSONLines(share, name: "s.jsonl")))
        #expect(s.format == .sharegpt && s.rows == 60)
        #expect(try Self.messages(store, s.version!, "response")[9] == [.assistant(pairs[9].1)])

        // alpaca as one JSON array, pretty-printed over many lines.
        let alpaca = pairs.map { ["instruction": $0.0, "input": "", "output": $0.1] }
        let data = try JSONSerialization.data(withJSONObject: alpaca, options: [.prettyPrinted])
        let a = try Importer.run(store, ImportOptions(target: .ift, path: TestSupport.writeTemp(String(decoding: data, as: UTF8.self), name: "a.json"),
                                                      name: "alpaca"))
        #expect(a.format == .alpaca && a.rows == 60)
        // The same conversations as the sharegpt import, so the same blobs.
        #expect(try Self.hashes(store, a.version!, "prompt") == Self.hashes(store, s.version!, "prompt"))
        #expect(try Self.hashes(store, a.version!, "response") == Self.hashes(store, s.version!, "response"))
    }

    @Test func fieldMappingWithNestedPaths() throws {
        let store = try TestSupport.makeStore()
        let path = TestSupport.sharedData("mt-bench/question.jsonl")
        let questions = try Self.jsonLines(path)
        // Without a mapping the keys say nothing: the error lists the formats.
        let error = try #require(throws: ImportError.self) { try Importer.run(store, ImportOptions(target: .prompts, path: path)) }
        #expect(error.description.contains("question.jsonl:1") && error.description.contains("oasst, alpaca"))
        let r = try Importer.run(store, ImportOptions(target: .prompts, path: path, fields: ["prompt": "turns.1"]))
        #expect(r.format == .trl && r.rows == questions.count && questions.count == 80)
        #expect(try Self.messages(store, r.version!, "prompt")[0] == [.user((questions[0]["turns"] as! [String])[1])])
        // Keys and indexes mixed: conversation.N.text.
        let nested = questions.map { ["conversation": ($0["turns"] as! [String]).map { ["text": $0] }] }
        let n = try Importer.run(store, ImportOptions(target: .ift, path: try Self.writeJSONLines(nested, name: "nested.jsonl"),
                                                      format: .alpaca, fields: ["instruction": "conversation.0.text",
                                                                                "output": "conversation.1.text"]))
        #expect(n.rows == 80)
        #expect(try Self.messages(store, n.version!, "response")[79] == [.assistant((questions[79]["turns"] as! [String])[1])])
        let unknown = try #require(throws: ImportError.self) {
            try Importer.run(store, ImportOptions(target: .prompts, path: path, fields: ["question": "turns.0"]))
        }
        #expect(unknown.field == "question" && unknown.description.contains("known: prompt"))
    }

    @Test func autoSniffing() throws {
        let cases: [(String, ImportTarget, ImportFormat)] = [
            ("oasst/en_trees_60.jsonl", .ranked, .oasst),
            ("oasst/prompt_lottery_en_250_text.jsonl", .prompts, .lines),
            ("self-instruct/user_oriented_instructions.jsonl", .prompts, .selfInstruct),
            ("alpaca-eval/alpaca-7b_model_outputs.json", .ift, .alpacaEval),
            ("hh-rlhf/harmless-base_test.jsonl.gz", .prompts, .hhRlhf),
            ("hhh-alignment/hhh_alignment_pairs.jsonl", .pairs, .trl),
        ]
        for (file, target, format) in cases {
            let input = try InputFile(path: TestSupport.sharedData(file))
            #expect(try Sniff.format(input, ImportOptions(target: target, path: file)) == format, "\(file)")
        }
        // A format that cannot fill the target is named in the error.
        let lines = try InputFile(path: TestSupport.sharedData("oasst/prompt_lottery_en_250_text.jsonl"))
        let error = try #require(throws: ImportError.self) { try Sniff.format(lines, ImportOptions(target: .pairs, path: "")) }
        #expect(error.description.contains("'lines'") && error.description.contains("prompt_lottery_en_250_text.jsonl:1"))
    }
}
