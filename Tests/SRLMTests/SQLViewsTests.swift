import Foundation
import GRDB
import Testing
@testable import SRLMStore

/// A pairwise evaluation recorded as `srlm eval judge --mode pairwise` records it: a labelled-pairs version read by an
/// eval-pairwise run whose judgments hold item i as ords 2i (A shown first) and 2i+1 (B shown first), each scored as
/// A's outcome with the second order's verdict mapped back. Items: both orders say A (human a: agree); the verdict
/// flips with the order, so a tie (human b: disagree); the second order unparsed (human tie: no verdict).
enum PairwiseEvalFixture {
    static func build(_ store: Store) throws -> DatasetVersion {
        try store.write { db in
            let labeled = try VersionWriter(db, experiment: "default", name: "labels", kind: .labeledPairs, runID: nil)
            for (i, label) in ["a", "b", "tie"].enumerated() {
                try labeled.append(["prompt": TwoRounds.text(.user("Question \(i)?")), "response_a": TwoRounds.text(.assistant("Answer A\(i).")),
                                    "response_b": TwoRounds.text(.assistant("Answer B\(i).")), "label": .text(label)])
            }
            let data = try labeled.finish()
            let run = try Runs.begin(db, experiment: "default", stage: "eval-pairwise", config: ["model": "judge-x", "data": data.ref],
                                     inputs: [data.id])
            let judgments = try VersionWriter(db, experiment: "default", name: "eval-pairwise-judgments", kind: .judgments, runID: run.id)
            let outcomes: [[Double?]] = [[1, 1], [1, 0], [0.5, nil]]
            for (i, pair) in outcomes.enumerated() {
                for (order, score) in pair.enumerated() {
                    try judgments.append(["prompt": TwoRounds.text(.user("Question \(i)?")),
                                          "response": TwoRounds.text(.assistant(order == 0 ? "Answer A\(i)." : "Answer B\(i).")),
                                          "judge_model": .text("judge-x"), "sample_index": .int(Int64(order)),
                                          "output": .text("item \(i) order \(order)"), "score": score.map { .real($0) } ?? .null,
                                          "parse_error": score == nil ? .text("no verdict") : .null, "mode": .text("free")])
                }
            }
            let version = try judgments.finish()
            try Runs.finish(db, run.id)
            return version
        }
    }
}

extension TestSupport {
    /// A store at `path` as an older srlm left it: only the migrations numbered below `before`.
    static func storeMigrated(_ path: String, before: String) throws -> DatabaseQueue {
        let queue = try DatabaseQueue(path: path)
        var migrator = DatabaseMigrator()
        for file in try Schema.migrationFiles() where file.lastPathComponent < before {
            let sql = try String(contentsOf: file, encoding: .utf8)
            migrator.registerMigration(file.deletingPathExtension().lastPathComponent) { try $0.execute(sql: sql) }
        }
        try migrator.migrate(queue)
        return queue
    }
}

@Suite struct SQLViewsTests {
    @Test func pairwiseVerdictsSitBesideTheHumanLabels() throws {
        let store = try TestSupport.makeStore()
        let eval = try PairwiseEvalFixture.build(store)
        let rows = try store.read { db in
            try Row.fetchAll(db, sql: """
                SELECT ord, verdict_ab, verdict_ba_shown, verdict_ba, verdict, label, agree, output_ba, model, ref, labeled_ref,
                       judge_model, response_b_text
                FROM v_pairwise_verdicts ORDER BY ord
                """)
        }
        #expect(rows.count == 3)
        func values(_ row: Row) -> [String?] {
            ["verdict_ab", "verdict_ba_shown", "verdict_ba", "verdict", "label"].map { row[$0] as String? }
        }
        #expect(values(rows[0]) == ["a", "b", "a", "a", "a"] && rows[0]["agree"] == true)
        #expect(values(rows[1]) == ["a", "a", "b", "tie", "b"] && rows[1]["agree"] == false)
        #expect(values(rows[2]) == ["tie", nil, nil, nil, "tie"] && rows[2]["agree"] == nil as Bool?)
        #expect(rows[1]["output_ba"] == "item 1 order 1" && rows[1]["response_b_text"] == "Answer B1.")
        #expect(rows[0]["model"] == "judge-x" && rows[0]["judge_model"] == "judge-x")
        #expect(rows[0]["ref"] == eval.ref && rows[0]["labeled_ref"] == "labels@1")
        #expect(try PairwiseVerdicts.isPairwiseEval(store, eval))
        let view = try PairwiseVerdicts.read(store, eval, limit: 2, offset: 1)
        #expect(view.items.map(\.ord) == [1, 2] && view.labeledRef == "labels@1" && view.items[0].verdict == "tie")
    }

    @Test func migrationUpgradesAStoreFrom016() throws {
        let path = TestSupport.temporaryDirectory("upgrade17").appendingPathComponent("srlm.sqlite").path
        do {
            let queue = try TestSupport.storeMigrated(path, before: "017")
            try queue.write { db in
                let w = try VersionWriter(db, experiment: "default", name: "old-pairs", kind: .pairs, runID: nil)
                try w.append([TwoRounds.text(.user("Q")), TwoRounds.text(.assistant("yes")), TwoRounds.text(.assistant("no")), .real(2), .real(1)])
                try Rounds.setVersion(db, experiment: "default", iteration: 1, role: .pairs, version: try w.finish().id)
            }
            // (Read from the schema's text: compiling a view needs srlm_text, which this plain connection lacks.)
            let before = try queue.read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE name IN ('v_prompt_candidates', 'judgment_by_reply')") }
            #expect(before.isEmpty)
        }
        #expect(throws: SRLMError.self) { try Store(path: path, readOnly: true) }
        let store = try Store(path: path, create: true)
        #expect(try RoundViewsTests.lines(store, "SELECT round, ref, chosen_text FROM v_pairs") == [#"1 "old-pairs@1" "yes""#])
        let indexes = try RoundViewsTests.lines(store, """
            SELECT name FROM sqlite_master WHERE type = 'index' AND name IN ('judgment_by_reply', 'pair_by_prompt') ORDER BY name
            """)
        #expect(indexes == [#""judgment_by_reply""#, #""pair_by_prompt""#])
        #expect(try Fsck.run(store).ok)
    }

    @Test func sqlErrorsAreRewrittenForPeople() throws {
        let store = try TestSupport.makeStore()
        _ = try writeSamplePairs(store)
        func message(_ sql: String) -> String {
            do { _ = try SQLQuery.run(store, sql); return "no error" } catch { return "\(error)" }
        }
        let many = message("SELECT 1; SELECT 2")
        #expect(many.contains("one statement at a time") && !many.contains("Database.execute"), "\(many)")
        let column = message("SELECT chosen_txt FROM v_pairs WHERE ref = 'pairs@1'")
        #expect(column.contains("no such column: chosen_txt (did you mean chosen_text?)"), "\(column)")
        #expect(column.contains("v_pairs: version_id, experiment, round, model, ref, ord, chosen_score"), "\(column)")
        let table = message("SELECT * FROM v_pair")
        #expect(table.contains("did you mean v_pairs?") && table.contains("v_prompt_candidates"), "\(table)")
        // A trailing semicolon is one statement still.
        #expect(try SQLQuery.run(store, "SELECT count(*) FROM v_pairs;\n").rows == [[20.databaseValue]])
        // derive --where names the view's columns too.
        let derive = #expect(throws: SRLMError.self) { try Derive.run(store, name: "bad", from: "pairs@1", where: "margn > 1") }
        #expect(derive?.description.contains("did you mean margin?") == true, "\(derive?.description ?? "")")
        #expect(SQLErrorText.nearest("rond", among: ["round", "ref"]) == "round")
        #expect(SQLErrorText.nearest("zzzzzz", among: ["round", "ref"]) == nil)
    }

    /// The CLI: `sql --file`, `query PATH.sql`, `show --prompt N`, `show <pairwise eval> --side-by-side`, and the
    /// rewritten error with its hint.
    @Test func commandLine() throws {
        try #require(FileManager.default.fileExists(atPath: EngineSupport.srlmBinary), "build srlm first: swift build")
        let store = try TwoRounds.build()
        _ = try PairwiseEvalFixture.build(store)
        let file = TestSupport.writeTemp("SELECT ref, round FROM v_pairs WHERE experiment = :experiment ORDER BY ref", name: "mine.sql")
        var (status, output) = try EngineSupport.srlm(["query", file, "--format", "csv"], store: store)
        #expect(status == 0 && output.hasSuffix("ref,round\npairs@1,1\npairs@2,2\n"), "\(output)")
        let plain = TestSupport.writeTemp("SELECT count(*) AS n FROM v_prompt_candidates", name: "count.sql")
        (status, output) = try EngineSupport.srlm(["sql", "--file", plain, "--format", "csv"], store: store)
        #expect(status == 0 && output.hasSuffix("n\n4\n"), "\(output)")
        (status, output) = try EngineSupport.srlm(["sql", "SELECT 1; SELECT 2"], store: store)
        #expect(status == 1 && output.contains("one statement at a time") && !output.contains("Database.execute")
                && output.contains("Hint: docs/SQL.md"), "\(output)")
        (status, output) = try EngineSupport.srlm(["query", "./missing.sql"], store: store)
        #expect(status == 1 && output.contains("no SQL file at ./missing.sql"), "\(output)")

        (status, output) = try EngineSupport.srlm(["show", "candidates@1", "--prompt", "0", "--width", "100"], store: store)
        #expect(status == 0, "\(output)")
        for expected in ["candidates@1 prompt 0 of 1 · round 1", "PROMPT: \(TwoRounds.question)", "mean 4.5 · CHOSEN",
                         "mean 1.5 · REJECTED", "── judge sample 1: score 5 · M0", "r1 Seven is prime. sample 1"] {
            #expect(output.contains(expected), "\(expected) missing from\n\(output)")
        }
        #expect(!output.contains("r2 "), "round 2's rationales leaked into round 1:\n\(output)")
        (status, output) = try EngineSupport.srlm(["show", "candidates@2", "--prompt", "0", "--format", "json"], store: store)
        let json = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        let candidates = json?["candidates"] as? [[String: Any]]
        #expect(status == 0 && json?["round"] as? Int == 2 && candidates?.count == 2, "\(output)")
        #expect(candidates?.first?["mean_score"] as? Double == 1.5 && candidates?.first?["rejected"] as? Bool == true)

        (status, output) = try EngineSupport.srlm(["show", "eval-pairwise-judgments", "--side-by-side", "--width", "160"], store: store)
        #expect(status == 0, "\(output)")
        for expected in ["3 labelled pairs of labels@1, judged by judge-x", "row 0 · human a · judge a · agree",
                         "row 1 · human b · judge tie · disagree", "row 2 · human tie · judge none · no verdict",
                         "B shown first: verdict a as shown, b for the pair", "item 1 order 1"] {
            #expect(output.contains(expected), "\(expected) missing from\n\(output)")
        }
        // The same as JSON meets its schema (schema/json/show-pairwise-eval.schema.json), as the JSON contract asks.
        (status, output) = try ContractFixture.srlm(["show", "eval-pairwise-judgments", "--side-by-side", "--format", "json"], store)
        #expect(status == 0, "\(output)")
        let folder = TestSupport.temporaryDirectory("pairwise-eval-json")
        let document = folder.appendingPathComponent("side-by-side.json")
        try Data(output.utf8).write(to: document)
        try JSONContractTests.validate([["schema": "show-pairwise-eval", "output": document.path, "command": "show EVAL --side-by-side"]], in: folder)
    }
}
