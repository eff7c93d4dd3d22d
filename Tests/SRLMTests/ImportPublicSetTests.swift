import Foundation
import GRDB
import Testing
@testable import SRLMImport
@testable import SRLMStore

/// Public label sets taken as they are: bad rows skipped and kept as rejections (or counted in the error), fields
/// built from several source fields, and every row or key left out named.
@Suite struct ImportPublicSetTests {
    /// PandaLM's test set in its own shape (a pretty-printed JSON array, three annotators voting 0 / 1 / 2), with the
    /// kinds of bad rows the real file has: an empty reply and a boolean reply.
    static var pandaRows: [[String: Any]] { [
        ["idx": 0, "cmp_key": "m1_m2", "instruction": "Rewrite the sentence.", "input": "It is what it is.",
         "response1": "It is so.", "response2": "So it is.", "annotator1": 1, "annotator2": 1, "annotator3": 2],
        ["idx": 1, "cmp_key": "m1_m3", "instruction": "Name a color.", "input": "",
         "response1": "Blue.", "response2": "Red.", "annotator1": 2, "annotator2": 2, "annotator3": 0],
        ["idx": 2, "cmp_key": "m2_m3", "instruction": "Add the numbers.", "input": "2 and 3",
         "response1": "", "response2": "5", "annotator1": 2, "annotator2": 2, "annotator3": 2],
        ["idx": 3, "cmp_key": "m1_m2", "instruction": "Say hi.", "input": "",
         "response1": "Hi!", "response2": false, "annotator1": 1, "annotator2": 1, "annotator3": 1],
        ["idx": 4, "cmp_key": "m2_m3", "instruction": "Translate to French.", "input": "cat",
         "response1": "chat", "response2": "chien", "annotator1": 1, "annotator2": 0, "annotator3": 1],
    ] }

    static func pandaFile() throws -> String {
        let data = try JSONSerialization.data(withJSONObject: pandaRows, options: [.prettyPrinted, .sortedKeys])
        return TestSupport.writeTemp(String(decoding: data, as: UTF8.self), name: "testset-v1.json")
    }

    /// The 1-based line where the JSON array's element `index` starts, found in the text independently of the reader.
    static func line(of index: Int, in path: String) throws -> Int {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        return lines.indices.filter { lines[$0].trimmingCharacters(in: .whitespaces).hasPrefix("{") }[index] + 1
    }

    static func pandaOptions(_ path: String, skipInvalid: Bool) -> ImportOptions {
        ImportOptions(target: .labeledPairs, path: path, format: .pairwise, name: "pandalm",
                      fields: ["prompt": #"{instruction}\n\n{input}"#, "response_a": "response1", "response_b": "response2"],
                      votes: ["annotator1", "annotator2", "annotator3"], skipInvalid: skipInvalid)
    }

    @Test func withoutSkipInvalidTheFirstBadRowStopsAndCountsTheRest() throws {
        let path = try Self.pandaFile()
        let store = try TestSupport.makeStore()
        let error = try #require(throws: ImportError.self) { try Importer.run(store, Self.pandaOptions(path, skipInvalid: false)) }
        #expect(error.line == (try Self.line(of: 2, in: path)) && error.field == "response_a", "\(error)")
        #expect(error.description.contains("empty") && error.description.contains("and 1 more row fail")
                && error.description.contains("--skip-invalid"), "\(error)")
        #expect(try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM dataset_version") } == 0)
        #expect(try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM import_rejection") } == 0)
    }

    @Test func skipInvalidImportsTheRestAndKeepsTheRefusedRows() throws {
        let path = try Self.pandaFile()
        for threads in [1, 3] { try TestSupport.withThreads(threads) {
            let store = try TestSupport.makeStore()
            let result = try Importer.run(store, Self.pandaOptions(path, skipInvalid: true))
            let version = try #require(result.version)
            #expect(result.rows == 3 && version.rowCount == 3)
            #expect(result.rejected.map(\.line) == [try Self.line(of: 2, in: path), try Self.line(of: 3, in: path)])
            #expect(result.rejected.map(\.field) == ["response_a", "response_b"])
            #expect(result.rejected[1].reason.contains("found a boolean") && result.rejected[1].reason.contains("response2"))
            // The view: one row per refused row, beside the version its import made, with the row as in the file.
            let stored = try store.read { db in
                try Row.fetchAll(db, sql: "SELECT ref, file, line, field, reason, row_json FROM v_import_rejections ORDER BY line")
            }
            #expect(stored.count == 2 && stored.allSatisfy { $0["ref"] == version.ref && $0["file"] == "testset-v1.json" })
            #expect(stored.map { $0["reason"] as String } == result.rejected.map(\.reason))
            let refused = try JSONSerialization.jsonObject(with: Data((stored[1]["row_json"] as String).utf8)) as! [String: Any]
            #expect(refused["idx"] as? Int == 3 && refused["response2"] as? Bool == false)
            // The prompt is instruction + input, and an empty input leaves no separator behind.
            let prompts = try ImportTests.messages(store, version, "prompt")
            #expect(prompts.map { $0.last!.content } == ["Rewrite the sentence.\n\nIt is what it is.", "Name a color.",
                                                          "Translate to French.\n\ncat"])
            // Keys nothing read are named with how many rows had them.
            #expect(result.unreadKeys == ["idx": 5, "cmp_key": 5])
            #expect(result.leftOut.contains { $0.contains("refused 2 invalid rows") })
            #expect(result.leftOut.contains { $0.contains("cmp_key (5 rows)") && $0.contains("idx (5 rows)") })
            // Importing again writes nothing, not even a second set of rejections.
            let again = try Importer.run(store, Self.pandaOptions(path, skipInvalid: true))
            #expect(again.version == nil && again.unchangedRef == version.ref)
            #expect(try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM import_rejection") } == 2)
            #expect(try Fsck.run(store).problems.isEmpty)
        } }
    }

    /// The refused rows' texts are blobs like every text: gc keeps them while their import stands, and removing the
    /// version removes its rejections with its run (then gc frees their texts).
    @Test func gcKeepsRejectionsAndRemovingTheVersionRemovesThem() throws {
        let store = try TestSupport.makeStore()
        let version = try #require(try Importer.run(store, Self.pandaOptions(try Self.pandaFile(), skipInvalid: true)).version)
        var options = GCOptions()
        options.dryRun = false
        #expect(try GarbageCollector.run(store, options).blobs == 0)
        #expect(try store.read { try String.fetchAll($0, sql: "SELECT row_json FROM v_import_rejections") }.count == 2)
        #expect(try Fsck.run(store).problems.isEmpty)
        _ = try Remover.run(store, experiment: "default", target: .version(DatasetRef(name: version.name, version: version.version)))
        #expect(try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM import_rejection") } == 0)
        #expect(try GarbageCollector.run(store, options).blobs > 0)
        #expect(try Fsck.run(store).problems.isEmpty)
    }

    @Test func everyRowRefusedIsAnErrorNamingTheFirst() throws {
        let path = try ImportTests.writeJSONLines([["prompt": "q", "response_a": "", "response_b": "b", "label": "a"]], name: "bad.jsonl")
        let error = try #require(throws: ImportError.self) {
            try Importer.run(try TestSupport.makeStore(), ImportOptions(target: .labeledPairs, path: path, skipInvalid: true))
        }
        #expect(error.description.contains("no rows") && error.description.contains("bad.jsonl:1: field 'response_a': empty"), "\(error)")
    }

    @Test func malformedLinesAndEmptyPromptsAreRefusedToo() throws {
        let pairs = TestSupport.writeTemp(#"{"prompt": "q1", "chosen": "c", "rejected": "r"}"# + "\n" + #"{"prompt": "q2", "chosen": "#
                                          + "\n" + #"{"prompt": "q3", "chosen": "c", "rejected": "r"}"# + "\n", name: "pairs.jsonl")
        let lines = TestSupport.writeTemp("first prompt\n\"  \"\nthird prompt\n", name: "prompts.txt")
        for threads in [1, 2] { try TestSupport.withThreads(threads) {
            let store = try TestSupport.makeStore()
            let result = try Importer.run(store, ImportOptions(target: .pairs, path: pairs, format: .trl, skipInvalid: true))
            #expect(result.rows == 2 && result.rejected.count == 1)
            #expect(result.rejected.first?.line == 2 && result.rejected.first?.reason.contains("malformed JSON") == true)
            #expect(result.rejected.first?.row == #"{"prompt": "q2", "chosen": "#)
            // Sniffing the format skips a first line that is not JSON when such lines are refused anyway.
            let brokenFirst = TestSupport.writeTemp(#"{"prompt": "# + "\n" + #"{"prompt": "q", "chosen": "c", "rejected": "r"}"# + "\n",
                                                    name: "first.jsonl")
            let sniffed = try Importer.run(store, ImportOptions(target: .pairs, path: brokenFirst, name: "sniffed", skipInvalid: true))
            #expect(sniffed.format == .trl && sniffed.rows == 1 && sniffed.rejected.map(\.line) == [1])
            #expect(throws: ImportError.self) { try Importer.run(store, ImportOptions(target: .pairs, path: brokenFirst, name: "strict")) }
            let text = try Importer.run(store, ImportOptions(target: .prompts, path: lines, format: .lines, skipInvalid: true))
            #expect(text.rows == 2 && text.rejected.map(\.line) == [2] && text.rejected.first?.reason == "empty prompt")
        } }
    }

    @Test func templatesJoinFieldsAndLeaveOutEmptyParts() throws {
        func render(_ template: String, _ row: [String: Any]) throws -> String? {
            try #require(try FieldTemplate.parse(template)).render { JSONPath.lookup(in: row, $0) }
        }
        let both = #"{instruction}\n\n{input}"#
        #expect(try render(both, ["instruction": "Do it.", "input": "now"]) == "Do it.\n\nnow")
        #expect(try render(both, ["instruction": "Do it.", "input": "  "]) == "Do it.")
        #expect(try render(both, ["instruction": "Do it."]) == "Do it.")
        #expect(try render(both, ["input": "now"]) == "now")
        #expect(try render(both, [:]) == nil)
        #expect(try render(both, ["instruction": "", "input": NSNull()]) == "")
        let labelled = #"Task: {instruction}\n\nInput: {input}\nAnswer:"#
        #expect(try render(labelled, ["instruction": "Add.", "input": "2 3"]) == "Task: Add.\n\nInput: 2 3\nAnswer:")
        #expect(try render(labelled, ["instruction": "Add."]) == "Task: Add.\nAnswer:")
        #expect(try render(labelled, ["input": "2 3"]) == "Input: 2 3\nAnswer:")
        #expect(try render(#"{q.text} \{{n}\}\t\\"#, ["q": ["text": "x"], "n": 3]) == "x {3}\t\\")
        #expect(try FieldTemplate.parse("instruction") == nil)
        for (bad, problem) in [("{a", FieldTemplate.Problem.unclosed), ("a}", .unopened), (#"{a}\q"#, .unknownEscape("q")),
                               ("{}", .emptyPlaceholder), ("{a{b}}", .nested), (#"{a}\"#, .danglingEscape)] {
            #expect(throws: problem) { try FieldTemplate.parse(bad) }
        }
        #expect(throws: FieldTemplate.Problem.notText(path: "a", found: "a boolean")) { try render("{a}", ["a": true]) }
    }

    @Test func aBadTemplateIsNamedBeforeAnythingIsRead() throws {
        let path = try Self.pandaFile()
        var options = Self.pandaOptions(path, skipInvalid: false)
        options.fields["prompt"] = "{instruction"
        let error = try #require(throws: ImportError.self) { try Importer.run(try TestSupport.makeStore(), options) }
        #expect(error.line == nil && error.field == "prompt" && error.description.contains("without its '}'"), "\(error)")
    }

    /// OASST trees: the replies left out (synthetic, unranked, deleted) and the later turns are counted by why, and
    /// with the rows they add up to every direct reply (counted here from the JSON).
    @Test func oasstNamesTheRepliesItLeavesOut() throws {
        let path = TestSupport.sharedData("oasst/en_trees_60.jsonl")
        let roots = try ImportTests.jsonLines(path).map { $0["prompt"] as! [String: Any] }
            .filter { !($0["synthetic"] as? Bool ?? false) && !($0["deleted"] as? Bool ?? false) }
        let replies = roots.flatMap { $0["replies"] as! [[String: Any]] }
        let synthetic = replies.filter { $0["synthetic"] as? Bool ?? false }.count
        let result = try Importer.run(try TestSupport.makeStore(), ImportOptions(target: .ranked, path: path))
        let left = result.skipped.filter { $0.key.contains("replies") && !$0.key.hasPrefix("messages of later turns") }
            .values.reduce(0, +)
        #expect(result.rows + left == replies.count, "\(result.skipped)")
        #expect(result.skipped["synthetic replies (--include-synthetic keeps them)"] == (synthetic == 0 ? nil : synthetic))
        #expect((result.skipped.first { $0.key.hasPrefix("messages of later turns") }?.value ?? 0) > 0)
        #expect(result.unreadKeys.keys.contains("message_tree_id"))
    }

    @Test func hhhSubsetIsNamedAsIgnored() throws {
        let path = TestSupport.sharedData("hhh-alignment/hhh_alignment_pairs.jsonl")
        let rows = try ImportTests.jsonLines(path)
        let result = try Importer.run(try TestSupport.makeStore(), ImportOptions(target: .labeledPairs, path: path))
        #expect(result.unreadKeys == ["subset": rows.filter { $0["subset"] != nil }.count])
        #expect(result.leftOut.last?.contains("subset (\(rows.count) rows)") == true)
    }

    /// MT-Bench human judgments in their published shape: a later turn is skipped, a bad verdict refused, and the
    /// annotator's `judge` key named as ignored.
    @Test func mtBenchHumanJudgmentsSkipRefuseAndNameTheJudgeKey() throws {
        func judgment(_ judge: String, _ winner: String, turn: Int) -> [String: Any] {
            let question = [["role": "user", "content": "Write a haiku."]]
            return ["question_id": 81, "model_a": "m1", "model_b": "m2", "winner": winner, "judge": judge, "turn": turn,
                    "conversation_a": question + [["role": "assistant", "content": "Leaves fall."]],
                    "conversation_b": question + [["role": "assistant", "content": "Snow melts."]]]
        }
        let path = try ImportTests.writeJSONLines([judgment("expert_1", "model_a", turn: 1), judgment("expert_2", "maybe", turn: 1),
                                                  judgment("expert_3", "tie", turn: 2), judgment("expert_4", "model_a", turn: 1)],
                                                 name: "human.jsonl")
        let store = try TestSupport.makeStore()
        let result = try Importer.run(store, ImportOptions(target: .labeledPairs, path: path, skipInvalid: true))
        #expect(result.format == .mtBenchHuman && result.rows == 1 && result.skipped == ["judgments of a later turn": 1])
        #expect(result.rejected.map(\.line) == [2] && result.rejected.first?.field == "winner")
        #expect(result.unreadKeys == ["judge": 4])
        let votes = try store.read { try String.fetchOne($0, sql: "SELECT votes FROM labeled_pair") }
        #expect(votes == #"["a","a"]"#)
    }

    @Test func eachTargetsHelpListsItsFields() throws {
        for target in ImportTarget.allCases {
            let help = ImportFields.help(target)
            for format in ImportFormat.allCases where format != .auto {
                #expect(help.contains("\n\(format.rawValue):") == format.targets.contains(target), "\(target) \(format)")
                for field in ImportFields.fields(format, target) where format.targets.contains(target) {
                    #expect(format.fieldNames.contains(field.name), "\(format) lists \(field.name) but cannot map it")
                    #expect(help.contains("  \(field.name)"), "\(target) help lacks \(format)'s \(field.name)")
                }
            }
        }
        let (status, output) = try CLI.srlm(["import", "labeled-pairs", "--help"])
        #expect(status == 0 && output.contains("response_a") && output.contains("mt-bench-human:")
                && output.contains("--skip-invalid") && !output.contains("messages [conversations]"), "\(output)")
    }

    /// The CLI: the left-out report goes to stderr once, stdout keeps its one line.
    @Test func cliReportsWhatItLeftOutOnStandardError() throws {
        let store = try TestSupport.makeStore()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: EngineSupport.srlmBinary)
        process.arguments = ["import", "labeled-pairs", try Self.pandaFile(), "--store", store.path, "--format", "pairwise",
                             "--field", #"prompt={instruction}\n\n{input}"#, "--field", "response_a=response1",
                             "--field", "response_b=response2", "--votes", "annotator1,annotator2,annotator3", "--skip-invalid"]
        let (out, err) = (Pipe(), Pipe())
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0 && stdout.hasPrefix("imported 3 rows as labeled-pairs@1"), "\(stdout)\(stderr)")
        #expect(stdout.split(separator: "\n").count == 1)
        #expect(stderr.contains("refused 2 invalid rows") && stderr.contains("field 'response_b'")
                && stderr.contains("ignored fields") && stderr.contains("idx (5 rows)"), "\(stderr)")
    }
}
