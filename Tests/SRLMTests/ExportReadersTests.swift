import Foundation
import GRDB
import Testing
@testable import SRLMEngines
@testable import SRLMExport
@testable import SRLMStore

/// Issue 28 goals 1 and 2, read as a researcher without srlm would: `export --all` read by DuckDB, polars, pandas
/// and Hugging Face datasets (the engines' venv, offline), and the Python reader (python/) in an interpreter whose
/// only srlm is the binary it runs.
@Suite(.serialized) struct ExportReadersTests {
    static var python: String { EngineSupport.home.python }

    static func requireVenv() throws {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw SRLMError.setup("these tests read Parquet with the engines' venv: run `make setup` first (missing \(python))")
        }
    }

    /// Runs the venv's Python offline, with a Hugging Face home of its own; returns its last stdout line as JSON.
    static func runPython(_ arguments: [String], environment: [String: String] = [:]) throws -> [String: Any] {
        let home = TestSupport.temporaryDirectory("hf-home")
        defer { try? FileManager.default.removeItem(at: home) }
        let (status, output) = try TestSupport.run(python, arguments, timeoutSeconds: 300, withErrors: false, environment: [
            "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "HF_HOME": home.path,
            "HF_DATASETS_CACHE": home.appendingPathComponent("datasets").path,
        ].merging(environment) { $1 })
        let last = output.split(separator: "\n").last.map(String.init) ?? ""
        let parsed = try? JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any]
        guard status == 0, let parsed else { throw SRLMError.setup("python \(arguments.first ?? "") failed (\(status)): \(output.suffix(3000))") }
        return parsed
    }

    @Test func theFolderReadsInDuckDBPolarsPandasAndDatasetsAndASecondRunWritesNothing() throws {
        try Self.requireVenv()
        let built = try ExportTableTests.store()
        // A version with no rows beside candidates@1: its file has no row groups, which every reader takes.
        _ = try ExportFixtures.write(built.store, "no-candidates", .candidates, [])
        let dir = TestSupport.temporaryDirectory("export-all")
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try ParquetFolder.export(built.store, to: dir.path, experiment: nil, home: EngineSupport.home)
        #expect(first.versionsWritten == 6 && first.versionsSkipped == 0)
        #expect(first.tablesWritten == 6, "versions, rounds, runs, checkpoints, prompt_rejections, prompt_candidates (no calls, no eval yet)")

        let seen = try Self.runPython([TestSupport.fixture("export_readers.py"), dir.path])
        let candidates = try LineageFixture.version(built.store, "candidates@1")
        let rowHash = try ExportTableTests.fsckRowHashes(built.store, candidates)[1]
        for reader in ["duckdb", "polars", "pandas", "datasets"] {
            let result = try #require(seen[reader] as? [String: Any], "\(reader): \(seen)")
            #expect(result["rows"] as? [String: Int] == ["prompts": 3, "candidates": 2, "judgments": 4, "pairs": 1], "\(reader)")
            let row = try #require(result["candidate"] as? [String: Any], "\(reader)")
            #expect(row["ref"] as? String == "candidates@1" && row["ord"] as? Int == 1 && row["round"] as? Int == 1, "\(reader): \(row)")
            #expect(row["model"] as? String == "m0.gguf" && row["run_id"] as? Int64 == built.runs["gen-candidates"], "\(reader): \(row)")
            #expect(row["row_hash"] as? String == rowHash, "\(reader)")
            #expect(row["response_text"] as? String == LineageFixture.rejectedText, "\(reader)")
            if reader != "datasets" {
                #expect(row["dataset"] as? String == "candidates" && row["version"] as? Int == 1, "\(reader) reads the partitions: \(row)")
            }
        }
        let duck = try #require(seen["duckdb"] as? [String: Any])
        #expect(duck["all_versions"] as? Int == 10 && duck["runs"] as? Int == built.runs.count)
        // Each candidate of the round with its judge samples' scores (a JSON list) and its pair flags.
        let scored = try #require(duck["prompt_candidates"] as? [[String: Any]], "\(duck)")
        let candidateRows = try ExportTableTests.rows(built.store, "candidates@1")
        #expect(scored.count == candidateRows.count && scored.allSatisfy { $0["round"] as? Int == 1 && $0["ref"] as? String == "candidates@1" }, "\(scored)")
        #expect(scored.contains { $0["chosen"] as? Int == 1 } && scored.contains { $0["rejected"] as? Int == 1 }, "\(scored)")
        let metadata = try #require(seen["metadata"] as? [String: String])
        #expect(metadata["srlm.ref"] == "candidates@1" && metadata["srlm.content_hash"] == candidates.contentHash)
        #expect(metadata["srlm.store"] == URL(fileURLWithPath: built.store.path).standardizedFileURL.path)
        #expect(metadata["srlm.version"] == Runs.toolVersion)
        let lineage = try #require(try JSONSerialization.jsonObject(with: Data((metadata["srlm.lineage"] ?? "").utf8)) as? [String: Any])
        #expect(lineage["round"] as? Int == 1 && lineage["stage"] as? String == "gen-candidates" && lineage["inputs"] as? [String] == ["generated-prompts@1"])
        #expect(seen["files"] as? [String] == ["kind=candidates/experiment=default/dataset=candidates/version=1/part-0.parquet",
                                               "kind=candidates/experiment=default/dataset=no-candidates/version=1/part-0.parquet"])

        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("manifest.json"))) as? [String: Any]
        let entries = manifest?["versions"] as? [[String: Any]] ?? []
        #expect(entries.count == 6)
        #expect(entries.first { $0["ref"] as? String == "candidates@1" }?["content_hash"] as? String == candidates.contentHash)

        let again = try ParquetFolder.export(built.store, to: dir.path, experiment: nil, home: EngineSupport.home)
        #expect(again.versionsWritten == 0 && again.versionsSkipped == 6 && again.tablesWritten == 0 && again.tablesSkipped == 6)

        // A new version is the only file the next run writes.
        _ = try ExportFixtures.write(built.store, "pairs", .pairs, [ExportFixtures.pair([.user("Another?")], "Yes.", "No.")])
        let third = try ParquetFolder.export(built.store, to: dir.path, experiment: "default", home: EngineSupport.home)
        #expect(third.versionsWritten == 1 && third.versionsSkipped == 6)
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("kind=pairs/experiment=default/dataset=pairs/version=2/part-0.parquet").path))
        #expect(throws: SRLMError.self) { try ParquetFolder.export(built.store, to: dir.path, experiment: "nope", home: EngineSupport.home) }
    }

    /// python/ installed into a folder of its own (no network: no build isolation, no dependencies) and imported by
    /// the venv's interpreter, which reads the store only through the srlm binary.
    @Test func thePythonReaderReadsVersionsRoundsAndRefsThroughTheBinary() throws {
        try Self.requireVenv()
        let built = try ExportTableTests.store()
        try built.store.close()
        let target = TestSupport.temporaryDirectory("srlm-reader")
        defer { try? FileManager.default.removeItem(at: target) }
        // Built from a copy: setuptools leaves build/ and *.egg-info in the folder it builds.
        let source = target.appendingPathComponent("source")
        try FileManager.default.copyItem(at: TestSupport.packageRoot.appendingPathComponent("python"), to: source)
        let pip = URL(fileURLWithPath: Self.python).deletingLastPathComponent().appendingPathComponent("pip").path
        let installed = target.appendingPathComponent("site")
        let (status, output) = try TestSupport.run(pip, ["install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
                                                         "--target", installed.path, source.path],
                                                   timeoutSeconds: 300, environment: ["PIP_DISABLE_PIP_VERSION_CHECK": "1"])
        #expect(status == 0, "\(output)")
        let script = """
            import json, sys
            import srlm
            store = srlm.open(sys.argv[1])
            versions, rounds = store.versions(), store.rounds()
            pairs = store.read("pairs@1")
            frame = store.to_pandas("candidates@1")
            empty = store.table("model_calls")
            try:
                store.read("nope@1")
                refused = None
            except srlm.SRLMError as error:
                refused = str(error)
            uses_sqlite3 = "sqlite3" in sys.modules
            print(json.dumps({
                "module": srlm.__file__, "uses_sqlite3": uses_sqlite3,
                "versions": versions.num_rows, "refs": sorted(versions.column("ref").to_pylist()),
                "rounds": rounds.num_rows, "pairs_columns": pairs.column_names[:6],
                "pairs_types": [str(t) for t in pairs.schema.types[:6]],
                "chosen": pairs.column("chosen_text").to_pylist(), "weight": pairs.column("weight").to_pylist(),
                "candidates": len(frame), "round": frame["round"].tolist(), "text": frame["response_text"].tolist(),
                "calls": empty.num_rows, "calls_columns": len(empty.column_names), "refused": refused}))
            """
        let seen = try Self.runPython(["-c", script, built.store.path],
                                      environment: ["PYTHONPATH": installed.path, "SRLM_BIN": EngineSupport.srlmBinary])
        #expect((seen["module"] as? String)?.hasPrefix(installed.path) == true, "the installed copy, not the source tree")
        #expect(seen["uses_sqlite3"] as? Bool == false, "the reader never opens the store itself: any Python's sqlite3 will do")
        #expect(seen["versions"] as? Int == 5 && seen["rounds"] as? Int == 4)
        #expect(seen["refs"] as? [String] == ["candidates@1", "generated-prompts@1", "judgments@1", "pairs@1", "seeds@1"])
        #expect(seen["pairs_columns"] as? [String] == ["ref", "ord", "row_hash", "round", "model", "run_id"])
        #expect(seen["pairs_types"] as? [String] == ["string", "int64", "string", "int64", "string", "int64"])
        #expect(seen["chosen"] as? [String] == [LineageFixture.chosenText])
        #expect((seen["weight"] as? [Any])?.first is NSNull, "an all-NULL column keeps its type and its nulls")
        #expect(seen["candidates"] as? Int == 2 && seen["round"] as? [Int] == [1, 1])
        #expect(seen["text"] as? [String] == [LineageFixture.chosenText, LineageFixture.rejectedText])
        #expect(seen["calls"] as? Int == 0 && seen["calls_columns"] as? Int == StoreTable.modelCalls.columns.count)
        #expect((seen["refused"] as? String)?.contains("nope") == true, "\(seen["refused"] ?? "")")
    }
}
