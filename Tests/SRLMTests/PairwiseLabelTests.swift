import Foundation
import GRDB
import Testing
@testable import SRLMEngines
@testable import SRLMEval
@testable import SRLMImport
@testable import SRLMMetrics
@testable import SRLMReport
@testable import SRLMStages
@testable import SRLMStore

/// Human-labelled pairwise data: the label spellings, each import format, and the located errors.
extension ImportTests {
    /// The stored rows of a labeled-pairs version: label, votes, provenance and the three texts, in row order.
    static func labeledRows(_ store: Store, _ version: DatasetVersion) throws -> [Row] {
        try store.read { db in
            try Row.fetchAll(db, sql: """
                SELECT label, votes, question_id, model_a, model_b, prompt_text, response_a_text, response_b_text
                FROM v_labeled_pairs WHERE version_id = ? ORDER BY ord
                """, arguments: [version.id])
        }
    }

    @Test func pairwiseRowsMapFieldsAndLabelSpellings() throws {
        let labels: [Any] = ["Model_A", "2", 0, " tie (bothbad) ", "B", 1, "[[A]]", "output_2"]
        let expected: [Verdict] = [.a, .b, .tie, .tie, .b, .a, .a, .b]
        let rows = labels.enumerated().map { i, label -> [String: Any] in
            ["instruction": "question \(i)", "output_1": "first \(i)", "output_2": "second \(i)", "preference": label,
             "id": i % 2 == 0 ? "q\(i)" : i as Any]
        }
        let store = try TestSupport.makeStore()
        let result = try Importer.run(store, ImportOptions(
            target: .labeledPairs, path: try Self.writeJSONLines(rows, name: "llmbar.jsonl"),
            fields: ["prompt": "instruction", "response_a": "output_1", "response_b": "output_2", "label": "preference",
                     "question_id": "id"]))
        #expect(result.format == .pairwise && result.rows == labels.count)
        let version = try #require(result.version)
        #expect(version.kind == .labeledPairs && version.ref == "labeled-pairs@1")
        let stored = try Self.labeledRows(store, version)
        #expect(stored.map { $0["label"] as String } == expected.map(\.rawValue))
        #expect(stored.allSatisfy { ($0["votes"] as String?) == nil && ($0["model_a"] as String?) == nil })
        #expect(stored.map { $0["question_id"] as String } == labels.indices.map { $0 % 2 == 0 ? "q\($0)" : "\($0)" })
        #expect(stored[3]["prompt_text"] as String == "question 3" && stored[3]["response_a_text"] as String == "first 3"
                && stored[3]["response_b_text"] as String == "second 3")
        #expect(try Self.messages(store, version, "response_b")[0] == [.assistant("second 0")])
        // Rows are frozen like every other kind's.
        #expect(throws: DatabaseError.self) {
            try store.write { try $0.execute(sql: "UPDATE labeled_pair SET label = 'b' WHERE version_id = ?", arguments: [version.id]) }
        }
    }

    @Test func annotatorVotesGiveTheStrictMajorityAndAreKept() throws {
        let votes: [[Any]] = [["a", "b", "a"], ["model_a", "model_b", NSNull()], ["tie", "B", "b"], ["a", "b", "tie"], [2, 2, 1]]
        let rows = votes.enumerated().map { i, v -> [String: Any] in
            ["prompt": "q\(i)", "response_a": "x\(i)", "response_b": "y\(i)", "annotator_1": v[0], "annotator_2": v[1],
             "annotator_3": v[2]]
        } + [["prompt": "q5", "response_a": "x5", "response_b": "y5", "annotator_1": "a", "more": ["b", "b"]] as [String: Any]]
        let store = try TestSupport.makeStore()
        let result = try Importer.run(store, ImportOptions(target: .labeledPairs, path: try Self.writeJSONLines(rows, name: "votes.jsonl"),
                                                           format: .pairwise, votes: ["annotator_1", "annotator_2", "annotator_3", "more"]))
        let stored = try Self.labeledRows(store, try #require(result.version))
        // A null vote is no vote: [a, b] has no strict majority; an array column gives each of its votes.
        #expect(stored.map { $0["label"] as String } == ["a", "tie", "b", "tie", "b", "b"])
        #expect(stored.map { $0["votes"] as String } == [#"["a","b","a"]"#, #"["a","b"]"#, #"["tie","b","b"]"#,
                                                         #"["a","b","tie"]"#, #"["b","b","a"]"#, #"["a","b","b"]"#])
    }

    @Test func mtBenchHumanJudgmentsGroupAnnotatorsOfTheFirstTurn() throws {
        func conversation(_ answer: String) -> [[String: String]] {
            [["role": "user", "content": "Write a haiku about tea."], ["role": "assistant", "content": answer],
             ["role": "user", "content": "Now about coffee."], ["role": "assistant", "content": answer + " (coffee)"]]
        }
        func row(_ q: Int, _ a: String, _ b: String, _ winner: String, judge: String, turn: Int = 1) -> [String: Any] {
            ["question_id": q, "model_a": a, "model_b": b, "winner": winner, "judge": judge, "turn": turn,
             "conversation_a": conversation("haiku by \(a)"), "conversation_b": conversation("haiku by \(b)")]
        }
        let rows = [row(81, "gpt-4", "llama-13b", "model_a", judge: "author_0"),
                    row(81, "gpt-4", "llama-13b", "tie", judge: "author_1"),
                    row(81, "gpt-4", "llama-13b", "model_b", judge: "author_2", turn: 2),
                    row(81, "llama-13b", "gpt-4", "model_b", judge: "author_3"),  // the same pair named the other way round
                    row(82, "vicuna-13b", "gpt-4", "tie (bothbad)", judge: "author_0")]
        let store = try TestSupport.makeStore()
        let result = try Importer.run(store, ImportOptions(target: .labeledPairs, path: try Self.writeJSONLines(rows, name: "human.jsonl"),
                                                           name: "mt-bench-human"))
        #expect(result.format == .mtBenchHuman && result.rows == 2 && result.skipped == ["judgments of a later turn": 1])
        let version = try #require(result.version)
        let stored = try Self.labeledRows(store, version)
        #expect(stored.map { $0["label"] as String } == ["a", "tie"])
        #expect(stored.map { $0["votes"] as String } == [#"["a","tie","a"]"#, #"["tie"]"#])
        #expect(stored.map { $0["question_id"] as String } == ["81", "82"])
        #expect(stored.map { $0["model_a"] as String } == ["gpt-4", "vicuna-13b"] && stored[0]["model_b"] as String == "llama-13b")
        // The first question alone is the prompt; each side is its model's first answer.
        #expect(try Self.messages(store, version, "prompt")[0] == [.user("Write a haiku about tea.")])
        #expect(try Self.messages(store, version, "response_a")[0] == [.assistant("haiku by gpt-4")])
        #expect(try Self.messages(store, version, "response_b")[0] == [.assistant("haiku by llama-13b")])
    }

    /// HHH's chosen/rejected pairs: half of them shown swapped (B chosen), chosen by each pair's hash, so the same
    /// pairs on every import.
    @Test func chosenRejectedPairsBecomeLabelledPairsHalfSwapped() throws {
        let path = TestSupport.sharedData("hhh-alignment/hhh_alignment_pairs.jsonl")
        let source = try Self.jsonLines(path)
        let store = try TestSupport.makeStore()
        let result = try Importer.run(store, ImportOptions(target: .labeledPairs, path: path, name: "hhh"))
        #expect(result.format == .trl && result.rows == source.count)
        let stored = try Self.labeledRows(store, try #require(result.version))
        for (row, pair) in zip(stored, source) {
            let label: String = row["label"]
            let (winner, loser) = label == "a" ? ("response_a_text", "response_b_text") : ("response_b_text", "response_a_text")
            #expect(["a", "b"].contains(label) && row["prompt_text"] as String == pair["prompt"] as! String)
            #expect(row[winner] as String == pair["chosen"] as! String && row[loser] as String == pair["rejected"] as! String)
        }
        let swapped = stored.count { $0["label"] as String == "b" }
        #expect(swapped > source.count * 3 / 10 && swapped < source.count * 7 / 10, "\(swapped) of \(source.count) swapped")
        let again = try Importer.run(store, ImportOptions(target: .labeledPairs, path: path, name: "hhh"))
        #expect(again.version == nil && again.unchangedRef == "hhh@1")
    }

    @Test func badPairwiseLabelsAndVotesAreLocated() throws {
        let good = #"{"prompt": "q", "response_a": "x", "response_b": "y", "label": "a"}"#
        let bad = [good, #"{"prompt": "q", "response_a": "x", "response_b": "y", "label": "maybe"}"#].joined(separator: "\n")
        try expectFailure(ImportOptions(target: .labeledPairs, path: TestSupport.writeTemp(bad, name: "bad.jsonl")),
                          ["bad.jsonl:2: field 'label': unknown label 'maybe'; expected a, b or tie"])
        let mapped = [#"{"q": "q", "o1": "x", "o2": "y", "pref": 3}"#].joined(separator: "\n")
        try expectFailure(ImportOptions(target: .labeledPairs, path: TestSupport.writeTemp(mapped, name: "mapped.jsonl"),
                                        fields: ["prompt": "q", "response_a": "o1", "response_b": "o2", "label": "pref"]),
                          ["mapped.jsonl:1: field 'label': unknown label 3; expected a, b or tie", "(read from path 'pref')"])
        let boolean = [good, good, #"{"prompt": "q", "response_a": "x", "response_b": "y", "label": true}"#].joined(separator: "\n")
        try expectFailure(ImportOptions(target: .labeledPairs, path: TestSupport.writeTemp(boolean, name: "bool.jsonl"), format: .pairwise),
                          ["bool.jsonl:3: field 'label': unknown label a boolean"])
        let missing = [good, #"{"prompt": "q", "response_a": "x", "label": "b"}"#].joined(separator: "\n")
        try expectFailure(ImportOptions(target: .labeledPairs, path: TestSupport.writeTemp(missing, name: "missing.jsonl"), format: .pairwise),
                          ["missing.jsonl:2: field 'response_b': missing"])
        let votes = [#"{"prompt": "q", "response_a": "x", "response_b": "y", "r1": "a", "r2": "worse"}"#].joined(separator: "\n")
        try expectFailure(ImportOptions(target: .labeledPairs, path: TestSupport.writeTemp(votes, name: "votes.jsonl"), format: .pairwise,
                                        votes: ["r1", "r2"]),
                          ["votes.jsonl:1: field 'r2': unknown label 'worse'"])
        let none = [#"{"prompt": "q", "response_a": "x", "response_b": "y", "r1": null}"#].joined(separator: "\n")
        try expectFailure(ImportOptions(target: .labeledPairs, path: TestSupport.writeTemp(none, name: "none.jsonl"), format: .pairwise,
                                        votes: ["r1", "r2"]),
                          ["none.jsonl:1: ", "no annotator voted"])
        try expectFailure(ImportOptions(target: .labeledPairs, path: TestSupport.writeTemp(good, name: "trl.jsonl"), format: .trl,
                                        votes: ["r1"]),
                          ["trl.jsonl: ", "--votes is read by format 'pairwise' only"])
        let mtBench = #"{"question_id": 1, "model_a": "m1", "model_b": "m2", "winner": "model_a", "conversation_a": [{"role": "user", "content": "q"}], "conversation_b": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "b"}]}"#
        let winner = mtBench.replacingOccurrences(of: #"[{"role": "user", "content": "q"}]"#, with: #"[{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]"#)
            .replacingOccurrences(of: #""model_a", "conv"#, with: #""nobody", "conv"#)
        try expectFailure(ImportOptions(target: .labeledPairs, path: TestSupport.writeTemp(winner + "\n", name: "winner.jsonl"), format: .mtBenchHuman),
                          ["winner.jsonl:1: field 'winner': unknown label 'nobody'"])
        try expectFailure(ImportOptions(target: .labeledPairs, path: TestSupport.writeTemp(mtBench, name: "human.jsonl")),
                          ["human.jsonl:1: field 'conversation_a': no assistant answer after a first question"])
    }
}

@Suite struct PairwiseLabelTests {
    @Test(arguments: [("a", Verdict.a), ("A", .a), ("model_a", .a), ("Model A", .a), ("response_a", .a), ("output_1", .a), ("1", .a),
                      ("b", .b), ("MODEL_B", .b), ("2", .b), ("[[B]]", .b), ("B is better", .b),
                      ("tie", .tie), ("TIE (BOTHBAD)", .tie), ("tie (both good)", .tie), ("0", .tie), ("C", .tie), ("draw", .tie)])
    func labelSpellings(label: String, expected: Verdict) {
        #expect(LabelSpelling.verdict(label) == expected)
    }

    @Test func numbersAndNothingElse() {
        #expect(LabelSpelling.verdict(NSNumber(value: 1)) == .a && LabelSpelling.verdict(NSNumber(value: 2)) == .b
                && LabelSpelling.verdict(NSNumber(value: 0)) == .tie)
        for other: Any in [NSNumber(value: 3), NSNumber(value: 1.5), NSNumber(value: true), "ab", "", "a b", ["a"]] {
            #expect(LabelSpelling.verdict(other) == nil, "\(other)")
        }
    }

    /// Both orders' verdicts come back mapped to the original sides; an item whose verdict flips is a tie, one with
    /// an unparsed order counts as unparsed, and the figures are the hand-computed ones.
    @Test func bothOrdersAndTheStoredFigures() throws {
        let outputs = ["A.\n[[A]]", "B shown first is worse.\n[[B]]",   // a, a: consistent
                       "[[A]]", "[[A]]",                                // a, then b after the swap: inconsistent → tie
                       "[[C]]", "[[C]]",                                // tie, tie
                       "no verdict", "[[B]]",                            // unparsed
                       "[[B]]", "[[A]]"]                                 // b, b
        let answers = outputs.map { ChatResponse(text: $0, finishReason: "stop", promptTokens: nil, completionTokens: nil, latencyMs: 0) }
        let (shown, pairs) = BothOrders.verdicts(answers)
        #expect(shown == [.a, .b, .a, .a, .tie, .tie, nil, .b, .b, .a])
        #expect(pairs.map(\.swapped) == [.a, .b, .tie, .a, .b] && pairs.map(\.combined) == [.a, .tie, .tie, nil, .b])
        let metrics = Dictionary(uniqueKeysWithValues: EvalPairwise.metrics(human: [.a, .b, .tie, .a, .b], pairs: pairs,
                                                                            bootstrap: BootstrapOptions(resamples: 200)).map { ($0.metric, $0) })
        #expect(metrics["items"]?.value == 5 && metrics["decided"]?.value == 4 && metrics["decisive"]?.value == 4)
        #expect(metrics["consistency"]?.value == 0.75 && metrics["consistency"]?.n == 4)
        #expect(metrics["accuracy"]?.value == 0.5 && metrics["accuracy"]?.n == 4)
        #expect(metrics["agreement"]?.value == 0.6 && metrics["unparsed_rate"]?.value == 0.2)
        // κ over the 4 parsed items: pₒ = 3/4, pₑ = 1/4·1/4 + 2/4·1/4 + 1/4·2/4 = 5/16, κ = (12 − 5) / (16 − 5).
        #expect(abs((metrics["kappa"]?.value ?? 0) - 7.0 / 11.0) < 1e-12 && metrics["kappa"]?.n == 4)
        #expect(metrics["accuracy"]?.lo != nil && metrics["accuracy"]!.lo! <= 0.5 && metrics["accuracy"]!.hi! >= 0.5)
    }

    /// A pointwise judge's verdict on a pair: the higher mean of each reply's parsed sample scores.
    @Test func pointwiseVerdictFromMeanScores() {
        #expect(EvalPointwisePairs.verdict(a: [4, 5], b: [3, nil]) == .a)
        #expect(EvalPointwisePairs.verdict(a: [2], b: [5, 4]) == .b)
        #expect(EvalPointwisePairs.verdict(a: [3, nil], b: [3]) == .tie)
        #expect(EvalPointwisePairs.verdict(a: [nil, nil], b: [5]) == nil && EvalPointwisePairs.verdict(a: [1], b: [nil]) == nil)
    }

    /// The migration that added the kind rebuilt `dataset`: its foreign keys and views still hold, and other kinds
    /// are still refused.
    @Test func theKindIsInTheStoreAndNothingElseIs() throws {
        let store = try TestSupport.makeStore()
        try store.read { db in
            #expect(try String.fetchAll(db, sql: "SELECT \"table\" FROM pragma_foreign_key_list('dataset_version')").contains("dataset"))
            _ = try Row.fetchAll(db, sql: "SELECT * FROM v_versions JOIN v_runs ON 1 = 0")
        }
        let experiment = try store.write { db in
            try db.execute(sql: "INSERT INTO experiment(name) VALUES ('x')")
            let id = db.lastInsertedRowID
            try db.execute(sql: "INSERT INTO dataset(experiment_id, name, kind) VALUES (?, 'd', 'labeled_pairs')", arguments: [id])
            return id
        }
        #expect(throws: DatabaseError.self) {
            try store.write { try $0.execute(sql: "INSERT INTO dataset(experiment_id, name, kind) VALUES (?, 'e', 'labeled')", arguments: [experiment]) }
        }
        #expect(try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM pragma_foreign_key_check") } == 0)
    }

    /// A finished eval-pairwise run's figures come out of `srlm query eval-pairwise` pivoted, and the report shows
    /// them in their own section (and has no such section without one).
    @Test func queryAndReportShowThePairwiseFigures() throws {
        let store = try TestSupport.makeStore()
        #expect(!(try ReportBuilder.build(store, experiment: "default")).sections.map(\.title).contains("The judge against human pairwise labels"))
        var config = EvalPairwise.Config()
        (config.data, config.model) = ("hhh@1", "M1")
        let pairs = [PositionPair(inOrder: .a, swapped: .a), PositionPair(inOrder: .b, swapped: .a), PositionPair(inOrder: .b, swapped: .b)]
        let metrics = EvalPairwise.metrics(human: [.a, .a, .b], pairs: pairs, bootstrap: BootstrapOptions(resamples: 100))
        let run = try RunLifecycle.begin(store, experiment: "default", stage: EvalPairwise.name, config: config, inputs: [], seed: nil)
        _ = try RunLifecycle.commit(store, experiment: "default", run: run, to: .init(dataset: EvalPairwise.dataset, kind: .judgments),
                                    stats: [:]) { writer in
            try writer.append(["prompt": .text(Blobs.text([.user("q")])), "response": .text(Blobs.text([.assistant("x")])),
                               "judge_model": .text("M1"), "sample_index": .int(0), "output": .text("[[A]]"), "score": .real(1),
                               "mode": .text("free")])
            try EvalRecords.write(writer, run: run.id, metrics)
        }
        let row = try #require(try NamedQuery.run(store, "eval-pairwise", experiment: "default").records.first)
        #expect(row.text("model") == "M1" && row.text("mode") == "pairwise" && row.text("data") == "hhh@1" && row.double("items") == 3
                && row.double("decisive") == 3)
        // Item 2 flips with the order: a tie, wrong against its human 'a'.
        #expect(row.double("accuracy") == 0.6667 && row.double("consistency") == 0.6667 && row.double("unparsed_rate") == 0)
        let report = try ReportBuilder.build(store, experiment: "default")
        let section = try #require(report.sections.first { $0.title == "The judge against human pairwise labels" })
        guard case .table(let table) = try #require(section.blocks.first) else { Issue.record("no table"); return }
        #expect(table.rows.count == 1 && Array(table.rows[0].prefix(2)) == [.text("M1"), .text("pairwise")])
        #expect(MarkdownRenderer.render(report).contains("Cohen's κ"))
    }

    /// The CLI: `--votes` takes comma-separated columns beside `--field` mappings, a skipped MT-Bench turn is
    /// reported, and `--mode pairwise` refuses pointwise-only options before opening a model.
    @Test func cliImportsVotesAndChecksTheMode() throws {
        let store = try TestSupport.makeStore()
        let farm = try ImportTests.writeJSONLines([["instruction": "Name a colour.", "output_1": "Blue.", "output_2": "Seven.", "r1": 1, "r2": 1, "r3": 2],
                                                   ["instruction": "Add 2 and 2.", "output_1": "5", "output_2": "4", "r1": 2, "r2": "tie", "r3": 1]],
                                                  name: "farm.jsonl")
        var (status, output) = try EngineSupport.srlm(["import", "labeled-pairs", farm, "--field", "prompt=instruction", "--field", "response_a=output_1",
                                                       "--field", "response_b=output_2", "--votes", "r1, r2,r3", "--name", "farm"], store: store)
        #expect(status == 0 && output.contains("imported 2 rows as farm@1 (format pairwise"), "\(output)")
        let votes = try store.read { try String.fetchAll($0, sql: "SELECT label || ' ' || votes FROM v_labeled_pairs ORDER BY ord") }
        #expect(votes == [#"a ["a","a","b"]"#, #"tie ["b","tie","a"]"#])
        let turns = try ImportTests.writeJSONLines([1, 2].map { turn in
            ["question_id": 81, "model_a": "m1", "model_b": "m2", "winner": "model_b", "turn": turn,
             "conversation_a": [["role": "user", "content": "q"], ["role": "assistant", "content": "a"]],
             "conversation_b": [["role": "user", "content": "q"], ["role": "assistant", "content": "b"]]] as [String: Any]
        }, name: "human.jsonl")
        (status, output) = try EngineSupport.srlm(["import", "labeled-pairs", turns, "--name", "human"], store: store)
        #expect(status == 0 && output.contains("(format mt-bench-human") && output.contains("skipped 1 judgments of a later turn"), "\(output)")
        (status, output) = try EngineSupport.srlm(["eval", "judge", "--mode", "pairwise", "--data", "farm", "--samples", "2"], store: store)
        #expect(status == 64 && output.contains("--exclude, --samples and --template apply to --mode pointwise only"), "\(output)")
        (status, output) = try EngineSupport.srlm(["eval", "judge", "--mode", "pairs"], store: store)
        #expect(status == 64 && output.contains("--mode must be pointwise or pairwise"), "\(output)")
    }

    /// A store made before migration 009 keeps its datasets (ids, names, kinds, the versions that point at them)
    /// through the rebuild of `dataset`, and takes labelled pairs afterwards.
    @Test func upgradingAStoreKeepsItsDatasets() throws {
        let path = TestSupport.temporaryDirectory("upgrade").appendingPathComponent("srlm.sqlite").path
        let before: [[String]]
        do {
            let queue = try TestSupport.storeMigrated(path, before: "009")
            before = try queue.write { db in
                try db.execute(sql: """
                    INSERT INTO experiment(id, name) VALUES (1, 'default');
                    INSERT INTO dataset(id, experiment_id, name, kind) VALUES (3, 1, 'old-pairs', 'pairs'), (7, 1, 'old-ift', 'ift');
                    INSERT INTO dataset_version(id, dataset_id, version, row_count, content_hash) VALUES (1, 7, 1, 0, 'h'), (2, 3, 1, 0, 'g');
                    """)
                return try Row.fetchAll(db, sql: "SELECT id, experiment_id, name, kind FROM dataset ORDER BY id").map { row in (0..<4).map { "\(row[$0] as DatabaseValue)" } }
            }
            #expect(throws: DatabaseError.self) {
                try queue.write { try $0.execute(sql: "INSERT INTO dataset(experiment_id, name, kind) VALUES (1, 'new', 'labeled_pairs')") }
            }
        }
        let store = try Store(path: path)
        try store.read { (db: Database) throws in
            #expect(try Row.fetchAll(db, sql: "SELECT id, experiment_id, name, kind FROM dataset ORDER BY id").map { row in (0..<4).map { "\(row[$0] as DatabaseValue)" } } == before)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM pragma_foreign_key_check") == 0)
            #expect(try String.fetchAll(db, sql: "SELECT ref FROM v_versions ORDER BY version_id") == ["old-ift@1", "old-pairs@1"])
        }
        let file = TestSupport.writeTemp(#"{"prompt": "q", "response_a": "x", "response_b": "y", "label": "b"}"#, name: "one.jsonl")
        let result = try Importer.run(store, ImportOptions(target: .labeledPairs, path: file))
        #expect(result.version?.ref == "labeled-pairs@1" && result.version?.id == 3)
    }
}

extension EngineBacked {
    @Suite struct PairwiseEvalRuns {
        /// SmolLM2 names the better reply of 4 HHH pairs (half of them shown swapped), in both orders: one verdict
        /// row per order, figures that match the stored rows and labels, and a rerun that is reused. Then it scores
        /// each reply alone with the loop's rubric: the figures follow from the stored scores.
        @Test func pairwiseJudgeAgainstHHHLabels() async throws {
            let store = try TestSupport.makeStore()
            _ = try Importer.run(store, ImportOptions(target: .labeledPairs, path: TestSupport.sharedData("hhh-alignment/hhh_alignment_pairs.jsonl"),
                                                      name: "hhh"))
            _ = try Derive.run(store, name: "hhh4", from: "hhh", where: "ord % 60 = 0")  // 4 pairs from different subsets
            var config = EvalPairwise.Config()
            config.data = "hhh4"
            config.structured = true
            config.sampling.maxTokens = 160
            config.resamples = 200
            let context = StageContext(store: store, quiet: true)
            let (first, again) = try await ModelSession.with(ModelSpec(gguf: try EngineSupport.modelPath(), parallel: 2, contextPerSlot: 4096)) {
                (try await context.perform(EvalPairwise(config: config), session: $0), try await context.perform(EvalPairwise(config: config), session: $0))
            }
            #expect(again.reused && again.runID == first.runID)
            #expect(first.version.kind == .judgments && first.version.rowCount == 2 * 4)
            let metrics = Dictionary(uniqueKeysWithValues: try EvalRecords.metrics(store, run: first.runID).map { ($0.metric, $0) })
            // Each item's two stored rows: A's outcome under each order (the swapped one already mapped back).
            let scores = try store.read { db in
                try Double?.fetchAll(db, sql: "SELECT score FROM judgment WHERE version_id = ? ORDER BY ord", arguments: [first.version.id])
            }
            let labels = try store.read { db in
                try String.fetchAll(db, sql: "SELECT label FROM v_labeled_pairs WHERE ref = 'hhh4@1' ORDER BY ord")
            }
            #expect(labels.count == 4 && scores.count == 8)
            func verdict(_ score: Double?) -> Verdict? { score.map { $0 == 1 ? .a : $0 == 0 ? .b : .tie } }
            let combined = labels.indices.map { i -> Verdict? in
                guard let x = verdict(scores[2 * i]), let y = verdict(scores[2 * i + 1]) else { return nil }
                return x == y ? x : .tie
            }
            let decided = combined.count { $0 != nil }
            let consistent = labels.indices.count { scores[2 * $0] != nil && scores[2 * $0] == scores[2 * $0 + 1] }
            let decisive = labels.indices.filter { labels[$0] != "tie" }
            let correct = decisive.count { combined[$0]?.rawValue == labels[$0] }
            #expect(metrics["items"]?.value == 4 && metrics["decided"]?.value == Double(decided))
            #expect(metrics["unparsed_rate"]?.value == Double(4 - decided) / 4)
            #expect(metrics["consistency"]?.value == (decided > 0 ? Double(consistent) / Double(decided) : nil))
            #expect(metrics["accuracy"]?.value == Double(correct) / Double(decisive.count) && metrics["accuracy"]?.n == decisive.count)
            #expect(metrics["agreement"]?.value == Double(labels.indices.count { combined[$0]?.rawValue == labels[$0] }) / 4)
            let row = try #require(try NamedQuery.run(store, "eval-pairwise", experiment: "default").records.first)
            #expect(row.text("data") == "hhh4@1" && row.double("items") == 4)
            print("pairwise HHH (SmolLM2, structured): " + ["items", "decided", "consistency", "accuracy", "agreement", "kappa", "unparsed_rate"]
                .map { "\($0) \(metrics[$0]?.value.map { String(format: "%.4f", $0) } ?? "—")" }.joined(separator: ", "))

            // The loop's pointwise judge on the same pairs: each reply scored alone, the higher score the verdict.
            var pointwise = EvalPointwisePairs.Config()
            pointwise.data = "hhh4"
            pointwise.samples = 1
            pointwise.structured = true
            pointwise.sampling.maxTokens = 128
            pointwise.resamples = 200
            let scored = try await ModelSession.with(ModelSpec(gguf: try EngineSupport.modelPath(), parallel: 2, contextPerSlot: 4096)) {
                try await context.perform(EvalPointwisePairs(config: pointwise), session: $0)
            }
            #expect(scored.version.rowCount == 2 * 4)
            let figures = Dictionary(uniqueKeysWithValues: try EvalRecords.metrics(store, run: scored.runID).map { ($0.metric, $0) })
            let replyScores = try store.read { db in
                try Double?.fetchAll(db, sql: "SELECT score FROM judgment WHERE version_id = ? ORDER BY ord", arguments: [scored.version.id])
            }
            let judged = labels.indices.map { i -> Verdict? in
                guard let a = replyScores[2 * i], let b = replyScores[2 * i + 1] else { return nil }
                return a > b ? .a : a < b ? .b : .tie
            }
            #expect(figures["sample_parse_rate"]?.value == Double(replyScores.count { $0 != nil }) / 8)
            #expect(figures["decided"]?.value == Double(judged.count { $0 != nil }) && figures["consistency"] == nil)
            #expect(figures["accuracy"]?.value == Double(decisive.count { judged[$0]?.rawValue == labels[$0] }) / Double(decisive.count))
            let modes = try NamedQuery.run(store, "eval-pairwise", experiment: "default").records.map { $0.text("mode") }
            #expect(modes == ["pairwise", "pointwise"])
            print("pointwise on HHH pairs (SmolLM2, structured): " + ["items", "decided", "accuracy", "agreement", "kappa", "unparsed_rate", "sample_parse_rate"]
                .map { "\($0) \(figures[$0]?.value.map { String(format: "%.4f", $0) } ?? "—")" }.joined(separator: ", "))
        }
    }
}
