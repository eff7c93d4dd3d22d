import Foundation
import GRDB
import Testing
@testable import SRLMImport
@testable import SRLMStore

/// Bad input: every error names the file, the line and the field where known, and leaves the store as it was.
extension ImportTests {
    /// Runs the import against a store that already holds one version, expects an ImportError containing every
    /// string of `parts`, and checks that nothing was written.
    func expectFailure(_ options: ImportOptions, _ parts: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let store = try TestSupport.makeStore()
        _ = try Importer.run(store, ImportOptions(target: .prompts, path: TestSupport.sharedData("oasst/prompt_lottery_en_250_text.jsonl"),
                                                  name: "existing"))
        let before = try Self.counts(store)
        let error = try #require(throws: ImportError.self, sourceLocation: sourceLocation) { try Importer.run(store, options) }
        for part in parts {
            #expect(error.description.contains(part), "\(error.description) lacks \(part)", sourceLocation: sourceLocation)
        }
        #expect(try Self.counts(store) == before, "the store changed", sourceLocation: sourceLocation)
        #expect(try store.read { try String.fetchAll($0, sql: "SELECT status FROM run") } == ["finished"], sourceLocation: sourceLocation)
    }

    static func pairLine(_ i: Int) -> String {
        #"{"prompt": "question \#(i)", "chosen": "good \#(i)", "rejected": "bad \#(i)"}"#
    }

    @Test func malformedJSONNamesTheLine() throws {
        let text = [Self.pairLine(1), "", Self.pairLine(2), #"{"prompt": "q", "chosen": "c", "rejected": "r""#].joined(separator: "\n")
        try expectFailure(ImportOptions(target: .pairs, path: TestSupport.writeTemp(text, name: "broken.jsonl"), format: .trl),
                          ["broken.jsonl:4: ", "malformed JSON: ',' or '}' was expected in the object at byte 47 of the line"])
        // In a JSON array the line is where the bad element starts.
        let array = "[\n  {\"instruction\": \"a\"},\n  {\"instruction\": nope}\n]"
        try expectFailure(ImportOptions(target: .prompts, path: TestSupport.writeTemp(array, name: "arr.json")),
                          ["arr.json:3: ", "malformed JSON"])
    }

    @Test func invalidUTF8NamesTheLine() throws {
        var bytes = Data((Self.pairLine(1) + "\n" + Self.pairLine(2) + "\n").utf8)
        bytes.append(contentsOf: Array(#"{"prompt": "caf"#.utf8) + [0xC3, 0x28] + Array(#"", "chosen": "c", "rejected": "r"}"#.utf8))
        let path = TestSupport.writeTemp("", name: "latin.jsonl")
        try bytes.write(to: URL(fileURLWithPath: path))
        try expectFailure(ImportOptions(target: .pairs, path: path), ["latin.jsonl:3: ", "invalid UTF-8 at byte 16"])
    }

    @Test func aRowThatIsNotAnObjectIsNamed() throws {
        for (row, found) in [("[1, 2]", "an array"), ("\"just text\"", "a string"), ("null", "null")] {
            let text = [Self.pairLine(1), row].joined(separator: "\n")
            try expectFailure(ImportOptions(target: .pairs, path: TestSupport.writeTemp(text, name: "rows.jsonl"), format: .trl),
                              ["rows.jsonl:2: ", "expected a JSON object, found \(found)"])
        }
    }

    @Test func missingEmptyAndMistypedFields() throws {
        let missing = [Self.pairLine(1), Self.pairLine(2), #"{"prompt": "q", "chosen": "c"}"#].joined(separator: "\n")
        try expectFailure(ImportOptions(target: .pairs, path: TestSupport.writeTemp(missing, name: "missing.jsonl")),
                          ["missing.jsonl:3: field 'rejected': missing"])
        let empty = [Self.pairLine(1), #"{"prompt": "  ", "chosen": "c", "rejected": "r"}"#].joined(separator: "\n")
        try expectFailure(ImportOptions(target: .pairs, path: TestSupport.writeTemp(empty, name: "blank.jsonl"), format: .trl),
                          ["blank.jsonl:2: field 'prompt': empty"])
        let typed = [Self.pairLine(1), #"{"prompt": "q", "chosen": 5, "rejected": "r"}"#].joined(separator: "\n")
        try expectFailure(ImportOptions(target: .pairs, path: TestSupport.writeTemp(typed, name: "typed.jsonl")),
                          ["typed.jsonl:2: field 'chosen': expected a message list or a string, found a number"])
        let score = [#"{"prompt": "q", "chosen": "c", "rejected": "r", "score_chosen": "high"}"#].joined(separator: "\n")
        try expectFailure(ImportOptions(target: .pairs, path: TestSupport.writeTemp(score, name: "score.jsonl")),
                          ["score.jsonl:1: field 'score_chosen': expected a number, found a string"])
        let role = #"{"messages": [{"role": "user", "content": "hi"}, {"role": "user", "content": "again"}]}"#
        try expectFailure(ImportOptions(target: .ift, path: TestSupport.writeTemp(role, name: "role.jsonl")),
                          ["role.jsonl:1: field 'messages': the last message is from 'user'"])
        let mapped = #"{"q": {"text": 3}, "a": "x"}"#
        try expectFailure(ImportOptions(target: .ift, path: TestSupport.writeTemp(mapped, name: "mapped.jsonl"), format: .alpaca,
                                        fields: ["instruction": "q.text", "output": "a"]),
                          ["mapped.jsonl:1: field 'instruction': expected a string, found a number (read from path 'q.text')"])
    }

    @Test func emptyFilesHaveNoRows() throws {
        for (format, text) in [(ImportFormat.auto, ""), (.trl, "\n\n  \n"), (.alpaca, "[]")] {
            try expectFailure(ImportOptions(target: .prompts, path: TestSupport.writeTemp(text, name: "empty.jsonl"), format: format),
                              ["empty.jsonl: no rows"])
        }
    }

    @Test func wrongFormatNamesLineAndField() throws {
        // An alpaca-eval array read as hh-rlhf: its first element starts on line 2.
        try expectFailure(ImportOptions(target: .pairs, path: TestSupport.sharedData("alpaca-eval/alpaca-7b_model_outputs.json"),
                                        format: .hhRlhf),
                          ["alpaca-7b_model_outputs.json:2: field 'chosen': missing"])
        // oasst trees read as messages, JSON rows read as lines, a format that cannot fill the target.
        try expectFailure(ImportOptions(target: .ift, path: TestSupport.sharedData("oasst/en_trees_60.jsonl"), format: .messages),
                          ["en_trees_60.jsonl:1: field 'messages': missing"])
        try expectFailure(ImportOptions(target: .prompts, path: TestSupport.sharedData("self-instruct/seed_tasks.jsonl"), format: .lines),
                          ["seed_tasks.jsonl:1: ", "a JSON object, not a line of text"])
        try expectFailure(ImportOptions(target: .pairs, path: TestSupport.sharedData("self-instruct/seed_tasks.jsonl"), format: .oasst),
                          ["seed_tasks.jsonl: ", "format 'oasst' cannot fill target 'pairs'"])
        // A transcript that is not one.
        let notHH = #"{"chosen": "just text", "rejected": "\n\nHuman: hi\n\nAssistant: yo"}"#
        try expectFailure(ImportOptions(target: .pairs, path: TestSupport.writeTemp(notHH, name: "hh.jsonl"), format: .hhRlhf),
                          ["hh.jsonl:1: field 'chosen': not a"])
    }

    @Test func identicalOrPromptlessPairsNameTheLine() throws {
        let same = "\\n\\nHuman: hi\\n\\nAssistant: hello"
        let text = [#"{"chosen": "\#(same)", "rejected": "\#(same) there"}"#, #"{"chosen": "\#(same)", "rejected": "\#(same)"}"#]
            .joined(separator: "\n")
        try expectFailure(ImportOptions(target: .pairs, path: TestSupport.writeTemp(text, name: "same.jsonl")),
                          ["same.jsonl:2: field 'rejected': identical to 'chosen'"])
        let plain = #"{"chosen": "yes", "rejected": "no"}"#
        try expectFailure(ImportOptions(target: .pairs, path: TestSupport.writeTemp(plain, name: "implicit.jsonl"), format: .trl),
                          ["implicit.jsonl:1: field 'prompt': missing"])
    }

    @Test func gzipInputAndCorruptGzip() throws {
        let store = try TestSupport.makeStore()
        let path = try Self.gzip(TestSupport.writeTemp([Self.pairLine(1), Self.pairLine(2)].joined(separator: "\n"), name: "p.jsonl"))
        let r = try Importer.run(store, ImportOptions(target: .pairs, path: path))
        #expect(r.format == .trl && r.rows == 2)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes = bytes.prefix(bytes.count - 12)
        let cut = TestSupport.writeTemp("", name: "cut.jsonl.gz")
        try bytes.write(to: URL(fileURLWithPath: cut))
        try expectFailure(ImportOptions(target: .pairs, path: cut), ["cut.jsonl.gz: ", "gzip"])
    }

    @Test func runRecordAndVersionLink() throws {
        let store = try TestSupport.makeStore()
        let path = TestSupport.sharedData("hhh-alignment/hhh_alignment_pairs.jsonl")
        let r = try Importer.run(store, ImportOptions(target: .pairs, path: path, name: "hhh", experiment: "exp1"))
        let run = try #require(try store.read { try Row.fetchOne($0, sql: "SELECT id, stage, status, config FROM run") })
        #expect(r.version?.runID == run["id"] && r.version?.experiment == "exp1" && r.version?.ref == "hhh@1")
        #expect(run["stage"] == "import" && run["status"] == "finished")
        let config = try JSONSerialization.jsonObject(with: Data((run["config"] as String).utf8)) as! [String: Any]
        let sha = ContentHash(of: try Data(contentsOf: URL(fileURLWithPath: path))).hex
        #expect(config["path"] as? String == "hhh_alignment_pairs.jsonl" && config["sha256"] as? String == sha)
        #expect(config["format"] as? String == "trl" && config["target"] as? String == "pairs" && config["name"] as? String == "hhh")
    }
}

extension ImportTests {
    /// TRL and HH rows are read on every core (`ImportJob.rows`): one thread or several give the same rows in the
    /// same order, and a bad line is reported the same way, whichever batch and thread it fell to.
    @Test func readingOnSeveralCoresGivesTheSameRowsAndErrors() throws {
        let rows = (0..<3000).map { i in
            #"{"prompt": "question \#(i % 700)", "chosen": "good \#(i)", "rejected": "bad \#(i % 13)", "score_chosen": \#(i % 5)}"#
        }
        let good = TestSupport.writeTemp(rows.joined(separator: "\n") + "\n", name: "many.jsonl")
        let bad = TestSupport.writeTemp((rows[..<2500] + [#"{"prompt": "q", "chosen": "c"}"#] + rows[2500...]).joined(separator: "\n"),
                                        name: "bad.jsonl")
        var seen: [[String]] = []
        for threads in [1, 2, 3] { try TestSupport.withThreads(threads) {
            let store = try TestSupport.makeStore()
            let version = try #require(try Importer.run(store, ImportOptions(target: .pairs, path: good, format: .trl)).version)
            let texts = try store.read { db in
                try String.fetchAll(db, sql: "SELECT chosen_text || '|' || coalesce(chosen_score, '') FROM v_pairs WHERE version_id = ? ORDER BY ord",
                                    arguments: [version.id])
            }
            seen.append([version.contentHash] + texts)
            let error = try #require(throws: ImportError.self) { try Importer.run(store, ImportOptions(target: .pairs, path: bad, format: .trl)) }
            #expect(error.description.contains("bad.jsonl:2501") && error.description.contains("rejected"), "\(error.description)")
        } }
        #expect(seen[0].count == 3001 && seen[1] == seen[0] && seen[2] == seen[0])
    }
}
