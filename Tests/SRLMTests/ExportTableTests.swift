import Foundation
import GRDB
import Testing
@testable import CLI
@testable import SRLMExport
@testable import SRLMStages
@testable import SRLMStore

/// Issue 28 goal 1: `srlm export --format table` writes every kind with every column, texts decoded, and the lineage
/// columns ref, ord, row_hash, round, model and run_id; the store's other records export as tables.
@Suite struct ExportTableTests {
    /// LineageFixture's round plus a prompt the generation filters threw away.
    static func store() throws -> LineageFixture.Built {
        let built = try LineageFixture.build()
        try built.store.write { db in
            let prompt = try Int64.fetchOne(db, sql: "SELECT prompt FROM prompt ORDER BY version_id DESC, ord LIMIT 1")!
            try db.execute(sql: "INSERT INTO prompt_rejection(run_id, prompt, reason, detail) VALUES (?, ?, 'duplicate', 'rouge-l 0.9')",
                           arguments: [built.runs["gen-prompts"]!, prompt])
        }
        return built
    }

    static func rows(_ store: Store, _ ref: String) throws -> [[String: Any]] {
        let sink = CollectingSink()
        let written = try TableExport.run(store, version: try LineageFixture.version(store, ref), to: sink)
        #expect(written.rows == sink.lines)
        return try ExportFixtures.objects(sink.data)
    }

    static func rows(_ store: Store, table: StoreTable, experiment: String? = nil) throws -> [[String: Any]] {
        let sink = CollectingSink()
        _ = try TableExport.run(store, table: table, experiment: experiment, to: sink)
        return try ExportFixtures.objects(sink.data)
    }

    /// The row hashes fsck recomputes for a version, in ord order (each text hashed from its stored bytes).
    static func fsckRowHashes(_ store: Store, _ version: DatasetVersion) throws -> [String] {
        try store.read { db in
            var hashes: [String] = []
            try Derive.forEachRow(db, of: version) { values in
                hashes.append(try version.kind.rowHash(values) { ContentHash(of: try BlobReader.data(db, $0)) }.hex)
            }
            return hashes
        }
    }

    @Test func candidatesCarryEveryColumnAndTheirLineage() throws {
        let built = try Self.store()
        let version = try LineageFixture.version(built.store, "candidates@1")
        let rows = try Self.rows(built.store, "candidates@1")
        #expect(rows.count == 2)
        let names = VersionTable.columns(.candidates).map(\.name)
        #expect(Array(names.prefix(5)) == ["ref", "ord", "row_hash", "round", "run_id"])
        for row in rows { #expect(Set(row.keys) == Set(names)) }
        #expect(rows.map { $0["ord"] as? Int } == [0, 1])
        #expect(rows.allSatisfy { $0["ref"] as? String == "candidates@1" && $0["round"] as? Int == 1 })
        #expect(rows.allSatisfy { $0["run_id"] as? Int64 == built.runs["gen-candidates"] })
        #expect(rows.map { $0["row_hash"] as? String } == (try Self.fsckRowHashes(built.store, version)))
        // A candidate's own model column is its producing model; texts decoded, the whole message list beside them.
        #expect(rows[0]["model"] as? String == "m0.gguf")
        #expect(rows[0]["prompt_text"] as? String == LineageFixture.question)
        #expect(rows[1]["response_text"] as? String == LineageFixture.rejectedText)
        #expect(rows[0]["response_json"] as? String == Blobs.text([.assistant(LineageFixture.chosenText)]))
        #expect(rows[1]["finish_reason"] as? String == "stop" && rows[1]["completion_tokens"] as? Int == 11)
        #expect(rows[1]["call_hash"] as? String == "cafe01")
        #expect(rows[0]["temperature"] as? Double == 0.7)
    }

    @Test func judgmentsCarryEverySampleWithItsRationaleAndTheJudgeModel() throws {
        let built = try Self.store()
        let rows = try Self.rows(built.store, "judgments@1")
        #expect(rows.count == 4)
        #expect(rows.map { $0["score"] as? Double } == [4, 5, 2, 1])
        #expect(rows.allSatisfy { $0["model"] as? String == "m0.gguf" && $0["judge_model"] as? String == "m0.gguf" })
        #expect((rows[3]["output_text"] as? String)?.hasPrefix("Rationale rejected 1") == true)
        #expect(rows[3]["output_json"] is NSNull, "a plain text has no message list")
        #expect(rows[0]["template_text"] as? String == "Rate the reply from 0 to 5.")
        #expect(rows.allSatisfy { $0["parse_error"] is NSNull && $0["mode"] as? String == "free" })
        let hashes = try Self.fsckRowHashes(built.store, try LineageFixture.version(built.store, "judgments@1"))
        #expect(rows.map { $0["row_hash"] as? String } == hashes)
    }

    @Test func aVersionOutsideRoundsHasNoRoundAndAnImportNoModel() throws {
        let built = try Self.store()
        let seeds = try Self.rows(built.store, "seeds@1")
        #expect(seeds.count == 1 && seeds[0]["round"] is NSNull && seeds[0]["model"] is NSNull)
        #expect(seeds[0]["run_id"] as? Int64 == built.runs["import"] && seeds[0]["origin"] as? String == "seed")
        let pairs = try Self.rows(built.store, "pairs@1")
        #expect(pairs.count == 1 && pairs[0]["round"] as? Int == 1)
        #expect(pairs[0]["chosen_score"] as? Double == 4.5 && pairs[0]["weight"] is NSNull)
        #expect(pairs[0]["chosen_text"] as? String == LineageFixture.chosenText)
    }

    @Test func storeTablesExportRunsCheckpointsRoundsRejectionsCallsAndEvalFigures() throws {
        let built = try Self.store()
        let judge = built.runs["judge"]!
        try built.store.write { db in
            let output = try Int64.fetchOne(db, sql: "SELECT output FROM judgment ORDER BY ord LIMIT 1")!
            let prompt = try Int64.fetchOne(db, sql: "SELECT prompt FROM judgment ORDER BY ord LIMIT 1")!
            try db.execute(sql: """
                INSERT INTO model_call(request_hash, model_key, request, response, status, finish_reason, completion_tokens, run_id)
                VALUES (x'00ff', 'sha256:ab', ?, ?, 'ok', 'stop', 7, ?)
                """, arguments: [prompt, output, judge])
            try db.execute(sql: "INSERT INTO eval_metric(run_id, metric, value, lo, hi, n) VALUES (?, 'pairwise_accuracy', 0.75, 0.5, 0.9, 4)",
                           arguments: [judge])
        }
        let calls = try Self.rows(built.store, table: .modelCalls)
        #expect(calls.count == 1 && calls[0]["request_hash"] as? String == "00ff" && calls[0]["experiment"] as? String == "default")
        #expect((calls[0]["response_text"] as? String)?.hasPrefix("Rationale chosen 0") == true && calls[0]["completion_tokens"] as? Int == 7)
        let figures = try Self.rows(built.store, table: .evalMetrics)
        #expect(figures.count == 1 && figures[0]["metric"] as? String == "pairwise_accuracy" && figures[0]["value"] as? Double == 0.75)
        #expect(figures[0]["model"] as? String == "m0.gguf" && figures[0]["n"] as? Int == 4)
        let runs = try Self.rows(built.store, table: .runs)
        #expect(runs.count == built.runs.count)
        let gen = try #require(runs.first { $0["stage"] as? String == "gen-candidates" })
        #expect(gen["outputs"] as? String == #"["candidates@1"]"# && gen["inputs"] as? String == #"["generated-prompts@1"]"#)
        #expect(gen["round"] as? Int == 1)
        let checkpoints = try Self.rows(built.store, table: .checkpoints)
        #expect(checkpoints.map { $0["name"] as? String } == ["M0", "M1"])
        #expect(checkpoints[1]["base"] as? String == "M0" && checkpoints[1]["data_ref"] as? String == "pairs@1")
        let rounds = try Self.rows(built.store, table: .rounds)
        #expect(Set(rounds.compactMap { $0["role"] as? String }) == ["prompts", "candidates", "judgments", "pairs"])
        let versions = try Self.rows(built.store, table: .versions)
        #expect(versions.count == 5)
        #expect(versions.first { $0["ref"] as? String == "judgments@1" }?["model"] as? String == "m0.gguf")
        let rejections = try Self.rows(built.store, table: .promptRejections)
        #expect(rejections.count == 1 && rejections[0]["reason"] as? String == "duplicate")
        #expect(rejections[0]["outputs"] as? String == #"["generated-prompts@1"]"#)
        #expect(try Self.rows(built.store, table: .runs, experiment: "default").count == runs.count)
        #expect(throws: SRLMError.self) { try Self.rows(built.store, table: .runs, experiment: "nope") }
    }

    @Test func aRowChangedBehindSrlmsBackFailsTheTableExportAndPublishesNothing() throws {
        let built = try Self.store()
        let version = try LineageFixture.version(built.store, "pairs@1")
        try built.store.write { db in
            try db.execute(sql: "DROP TRIGGER IF EXISTS pair_frozen")
            try db.execute(sql: "UPDATE pair SET chosen_score = 9 WHERE version_id = ?", arguments: [version.id])
        }
        let path = TestSupport.temporaryDirectory("table").appendingPathComponent("pairs.jsonl").path
        #expect(throws: SRLMError.self) { _ = try TableExport.run(built.store, version: version, to: FileSink(path: path)) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func blameFindsTheRowOfAnExportedRowHash() throws {
        let built = try Self.store()
        let version = try LineageFixture.version(built.store, "candidates@1")
        let rows = try Self.rows(built.store, "candidates@1")
        let hash = try #require(rows[1]["row_hash"] as? String)
        #expect(try VersionTable.ord(built.store, version, rowHash: hash) == 1)
        #expect(try VersionTable.ord(built.store, version, rowHash: String(hash.prefix(12)).uppercased()) == 1)
        let blame = try Lineage.blame(built.store, version, row: String(try VersionTable.ord(built.store, version, rowHash: hash)))
        #expect(blame.row.ord == 1 && blame.reply?.text == LineageFixture.rejectedText)
        #expect(throws: SRLMError.self) { try VersionTable.ord(built.store, version, rowHash: String(repeating: "0", count: 16)) }
        #expect(throws: SRLMError.self) { try VersionTable.ord(built.store, version, rowHash: "xyz") }
    }

    /// The CLI names a row once (ROW, --ord or --row-hash) and exports a table by default, one target at a time.
    @Test func theCommandsTakeARowByOrdOrHashAndDefaultToTheTableFormat() throws {
        #expect(try Blame.parse(["candidates@1", "--ord", "1"]).ord == 1)
        #expect(try Blame.parse(["candidates@1", "--row-hash", "cafe0123"]).rowHash == "cafe0123")
        #expect(throws: (any Error).self) { try Blame.parse(["candidates@1", "1", "--ord", "1"]) }
        #expect(throws: (any Error).self) { try Blame.parse(["candidates@1"]) }
        #expect(try Export.parse(["judgments@1"]).format == .table)
        #expect(try Export.parse(["pairs@1", "--format", "trl"]).format == .training(.trl))
        #expect(try Export.parse(["--table", "model_calls"]).table == .modelCalls)
        #expect(throws: (any Error).self) { try Export.parse(["pairs@1", "--all", "out"]) }
        #expect(throws: (any Error).self) { try Export.parse(["--all", "out", "--format", "trl"]) }
        #expect(throws: (any Error).self) { try Export.parse([]) }
    }

    /// The views that set versions side by side leave as tables too: each labelled pair a pairwise eval judged, with
    /// both orders' verdicts beside the human label (v_pairwise_verdicts).
    @Test func pairwiseVerdictsExportAsATable() throws {
        let store = try TwoRounds.build()
        let eval = try PairwiseEvalFixture.build(store)
        let rows = try Self.rows(store, table: .pairwiseVerdicts)
        #expect(rows.map { $0["label"] as? String } == ["a", "b", "tie"] && rows.allSatisfy { $0["ref"] as? String == eval.ref })
        #expect(rows.map { $0["verdict"] as? String } == ["a", "tie", nil] && rows.map { $0["agree"] as? Int } == [1, 0, nil], "\(rows)")
        let scored = try Self.rows(store, table: .promptCandidates)
        #expect(Set(scored.compactMap { $0["round"] as? Int }) == [1, 2] && scored.allSatisfy { $0["scores"] is String })
    }
}
