import Foundation
import GRDB
import Testing
@testable import SRLMEval
@testable import SRLMImport
@testable import SRLMLoop
@testable import SRLMStages
@testable import SRLMStore

/// A store with two rounds, checkpoints, labelled pairs, eval runs and a plan: every listing and inspection command
/// has something to print.
enum ContractFixture {
    static let modelKey = "sha256:" + LineageFixture.ggufSHA

    static func build() throws -> Store {
        let store = try LineageFixture.build().store
        // Round 2: judgments without the rejected reply's lowest sample, and two pairs.
        _ = try Derive.run(store, name: "judgments", from: "judgments@1", where: "score >= 2")
        try store.write { db in
            let pairs = try VersionWriter(db, experiment: "default", name: "pairs", kind: .pairs, runID: nil)
            for (prompt, margin) in [(LineageFixture.question, 3.0), ("Say hello.", 1.0)] {
                try pairs.append([.text(Blobs.text([.user(prompt)])), .text(Blobs.text([.assistant("Seven.")])),
                                  .text(Blobs.text([.assistant("Nine.")])), .real(4 + margin), .real(4)])
            }
            let judgments = try DatasetVersion.resolve(db, "judgments@2", experiment: "default")
            try Rounds.setVersion(db, experiment: "default", iteration: 2, role: .judgments, version: judgments.id)
            try Rounds.setVersion(db, experiment: "default", iteration: 2, role: .pairs, version: try pairs.finish().id)
        }
        let rows: [[String: Any]] = [("Name a colour.", "Blue.", "Seven.", "a"), ("Add 2 and 2.", "5", "4", "b"), ("Greet me.", "Hi!", "Hello!", "tie")]
            .map { ["instruction": $0.0, "output_1": $0.1, "output_2": $0.2, "preference": $0.3] }
        _ = try Importer.run(store, ImportOptions(
            target: .labeledPairs, path: try ImportTests.writeJSONLines(rows, name: "labels.jsonl"), name: "labels",
            fields: ["prompt": "instruction", "response_a": "output_1", "response_b": "output_2", "label": "preference"]))
        // Runs recorded under M0's key, as an offline run by `--weights-id sha256:…` used to name its model.
        var judge = EvalJudge.Config()
        (judge.model, judge.modelKey) = (modelKey, modelKey)
        try evalRun(store, stage: EvalJudge.name, dataset: EvalJudge.dataset, config: judge,
                    metrics: [EvalMetric("prompts", 12, n: 12), EvalMetric("comparable_pairs", 36, n: 12),
                              EvalMetric("pairwiseAccuracy", 0.5, lo: 0.25, hi: 0.75, n: 36), EvalMetric("random.pairwiseAccuracy", 0.5)])
        var compare = EvalCompare.Config()
        (compare.kind, compare.a, compare.aModel, compare.b, compare.bModel) = ("h2h", "answers@1", "M1", "answers@2", "M0")
        (compare.model, compare.modelKey) = (modelKey, modelKey)
        try evalRun(store, stage: EvalCompare.name, dataset: EvalCompare.dataset, config: compare,
                    metrics: [EvalMetric("items", 4, n: 4), EvalMetric("win", 0.5, lo: 0, hi: 1, n: 4), EvalMetric("win_rate", 0.5)])
        var recipe = LoopPlan.Options()
        recipe.genPrompts.count = 5
        try LoopPlan.loop(recipe).save(store, experiment: "default", recipe: recipe)
        return store
    }

    static func evalRun<C: Encodable>(_ store: Store, stage: String, dataset: String, config: C, metrics: [EvalMetric]) throws {
        let run = try RunLifecycle.begin(store, experiment: "default", stage: stage, config: config, inputs: [], seed: nil)
        _ = try RunLifecycle.commit(store, experiment: "default", run: run, to: .init(dataset: dataset, kind: .judgments),
                                    stats: ["items": metrics.count]) { writer in
            try writer.append(["prompt": .text(Blobs.text([.user("q \(stage)")])), "response": .text(Blobs.text([.assistant("x")])),
                               "judge_model": .text(modelKey), "sample_index": .int(0), "output": .text("[[A]]"), "score": .real(1),
                               "mode": .text("free")])
            try EvalRecords.write(writer, run: run.id, metrics)
        }
    }

    /// The srlm binary's stdout alone (stderr is for people) and its exit status.
    static func srlm(_ arguments: [String], _ store: Store, timeoutSeconds: Int = 60) throws -> (status: Int32, stdout: String) {
        let (status, output) = try TestSupport.run(EngineSupport.srlmBinary, arguments + ["--store", store.path],
                                                   timeoutSeconds: timeoutSeconds, withErrors: false,
                                                   environment: ["SRLM_HOME": TestSupport.packageRoot.path])
        return (status, output)
    }
}

/// Issue 28 goal 4: with `--format json` every listing and inspection command prints one JSON document, and it
/// validates against its schema in schema/json/ (PyPI jsonschema, from the engines' venv).
@Suite struct JSONContractTests {
    /// The command lines checked, each with the schema its output must meet (schema/json/NAME.schema.json).
    static let cases: [(schema: String, arguments: [String])] = [
        ("datasets", ["datasets"]), ("datasets", ["datasets", "--all-experiments"]),
        ("show", ["show", "pairs@1"]), ("show", ["show", "judgments@1"]), ("show", ["show", "candidates@1"]),
        ("show", ["show", "generated-prompts@1"]), ("show", ["show", "labels@1"]),
        ("show-side-by-side", ["show", "pairs@1", "--side-by-side"]),
        ("show-prompt", ["show", "candidates@1", "--prompt", "0"]), ("show-prompt", ["show", "pairs@1", "--prompt", "0"]),
        ("log", ["log"]), ("log-rounds", ["log", "--rounds"]), ("checkpoints", ["checkpoints"]),
        ("diff", ["diff", "judgments@1", "judgments@2"]), ("diff", ["diff", "pairs@1", "pairs@2", "--stat"]),
        ("diff-summary", ["diff", "judgments@1", "judgments@2", "--summary"]),
        ("diff-by-prompt", ["diff", "pairs@1", "pairs@2", "--by-prompt"]), ("diff-rounds", ["diff", "--rounds", "1", "2"]),
        ("blame", ["blame", "pairs@1", "0"]), ("blame", ["blame", "candidates@1", "1"]),
        ("plan-show", ["plan", "show"]),
        ("query-eval-judge", ["query", "eval-judge"]), ("query-eval-pairwise", ["query", "eval-pairwise"]),
        ("query-eval-h2h", ["query", "eval-h2h"]), ("query-names", ["query"]),
        ("sql", ["sql", "SELECT run_id, stage, config, stats FROM v_runs"]),
        ("doctor", ["doctor"]),
    ]

    @Test func everyListingValidatesAgainstItsSchema() throws {
        let python = EngineSupport.home.python
        try #require(FileManager.default.isExecutableFile(atPath: python), "needs the engines' venv (`make setup`): \(python)")
        let store = try ContractFixture.build()
        let folder = TestSupport.temporaryDirectory("json-contract")
        var checks: [[String: String]] = []
        for (index, check) in Self.cases.enumerated() {
            let (status, stdout) = try ContractFixture.srlm(check.arguments + ["--format", "json"], store)
            // doctor exits 1 when an engine is missing and still prints its document.
            #expect(status == 0 || check.schema == "doctor", "\(check.arguments): exit \(status)\n\(stdout)")
            let file = folder.appendingPathComponent("\(index).json")
            try Data(stdout.utf8).write(to: file)
            checks.append(["schema": check.schema, "output": file.path, "command": check.arguments.joined(separator: " ")])
        }
        try Self.validate(checks, in: folder)
    }

    /// Validates each output against its schema with the venv's PyPI jsonschema (Tests/Fixtures/validate_json.py).
    static func validate(_ checks: [[String: String]], in folder: URL) throws {
        let manifest = folder.appendingPathComponent("checks.json")
        try JSONSerialization.data(withJSONObject: checks).write(to: manifest)
        let schemas = TestSupport.packageRoot.appendingPathComponent("schema/json").path
        let (status, report) = try TestSupport.run(EngineSupport.home.python, [TestSupport.fixture("validate_json.py"), schemas, manifest.path],
                                                   timeoutSeconds: 120)
        #expect(status == 0, "\(report)")
        #expect(report.contains("\"valid\": \(checks.count)"), "\(report)")
    }

    /// Every schema is checked by a case above, and none is taken for a migration or a named query (Package.swift
    /// flattens schema/ into one resource folder).
    @Test func everySchemaIsCheckedAndNoneIsSQL() throws {
        let folder = TestSupport.packageRoot.appendingPathComponent("schema/json")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".schema.json") }
        // eval: EngineBacked.EvalJSONContract; show-pairwise-eval: SQLViewsTests.commandLine (a pairwise eval's store).
        let checked = Set(Self.cases.map(\.schema) + ["eval", "show-pairwise-eval"])
        #expect(Set(files.map { String($0.dropLast(".schema.json".count)) }) == checked)
        #expect(try Schema.migrationFiles().allSatisfy { $0.pathExtension == "sql" })
        #expect(try !Schema.queryNames().contains { $0.contains("schema") })
    }

    /// Nested values are JSON, keys are the views' names, counts are integers, and csv/json stdout has no title line.
    @Test func valuesAreNestedAndNamedAsTheViews() throws {
        let store = try ContractFixture.build()
        func json(_ arguments: [String]) throws -> Any {
            let (status, stdout) = try ContractFixture.srlm(arguments + ["--format", "json"], store)
            #expect(status == 0, "\(arguments): \(stdout)")
            return try JSONSerialization.jsonObject(with: Data(stdout.utf8))
        }
        let runs = try #require(try json(["log"]) as? [[String: Any]])
        let pairsRun = try #require(runs.first { $0["stage"] as? String == "pairs" })
        #expect((pairsRun["config"] as? [String: Any])?["judgments"] as? String == "judgments@1")
        #expect(pairsRun["inputs"] as? [String] == ["judgments@1"] && pairsRun["outputs"] as? [String] == ["pairs@1"])
        let evalRun = try #require(runs.first { $0["stage"] as? String == EvalJudge.name })
        #expect((evalRun["stats"] as? [String: Any])?["items"] as? Int == 4)

        let checkpoints = try #require(try json(["checkpoints"]) as? [[String: Any]])
        let m0 = try #require(checkpoints.first { $0["name"] as? String == "M0" })
        #expect(m0["model_key"] as? String == ContractFixture.modelKey && (m0["gguf"] as? String)?.hasSuffix("/m0.gguf") == true && m0.keys.contains("train_run_id"))
        #expect(checkpoints.allSatisfy { $0.keys.allSatisfy { !$0.contains(where: \.isUppercase) } })

        let datasets = try #require(try json(["datasets"]) as? [[String: Any]])
        #expect(datasets.contains { $0["ref"] as? String == "pairs@2" && $0["row_count"] as? Int == 2 })

        // Old runs under the key are listed under the checkpoint's name; counts are integers in every format.
        let judged = try #require((try json(["query", "eval-judge"]) as? [[String: Any]])?.first)
        #expect(judged["model"] as? String == "M0" && judged["model_key"] as? String == ContractFixture.modelKey)
        let (_, csv) = try ContractFixture.srlm(["query", "eval-judge", "--format", "csv"], store)
        #expect(csv.contains(",12,36,") && !csv.contains("12.0"), "\(csv)")
        let compared = try #require((try json(["query", "eval-h2h"]) as? [[String: Any]])?.first)
        #expect(compared["judge"] as? String == "M0" && compared["judge_key"] as? String == ContractFixture.modelKey)

        for format in ["csv", "json"] {
            let (status, stdout) = try ContractFixture.srlm(["show", "pairs@1", "--format", format], store)
            #expect(status == 0 && !stdout.contains("content ") && (stdout.hasPrefix("version_id,") || stdout.hasPrefix("[")), "\(stdout)")
        }
    }
}

extension JSONDecoder {
    /// Reads the JSON contract's snake_case keys back into srlm's Codable types, `…ID` properties included.
    static var contract: JSONDecoder {
        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .custom { path in
            let words = path.last!.stringValue.split(separator: "_")
            let camel = words.enumerated().map { $0.offset == 0 ? String($0.element) : $0.element.prefix(1).uppercased() + $0.element.dropFirst() }.joined()
            return Key(stringValue: camel.hasSuffix("Id") ? camel.dropLast(2) + "ID" : camel)
        }
        return decoder
    }
}

extension EngineBacked {
    @Suite struct EvalJSONContract {
        /// `eval judge --format json`, live against the real llama.cpp server (SmolLM2) under M0's key, then offline
        /// under the same key from the journal: both validate against schema/json/eval.schema.json and name the model
        /// M0 with its key beside it, as a run served from M0's GGUF does.
        @Test func evalJudgeNamesTheModelLiveAndOffline() throws {
            let store = try ContractFixture.build()
            let folder = TestSupport.temporaryDirectory("json-contract-eval")
            let server = try EngineSupport.startServer(parallel: 1)
            defer { server.stop() }
            let url = try #require(server.ready?.url, "llama.cpp did not start")
            let judge = ["eval", "judge", "--mode", "pairwise", "--data", "labels", "--resamples", "20", "--quiet", "--format", "json",
                         "--structured", "--max-tokens", "48", "--weights-id", ContractFixture.modelKey]
            var checks: [[String: String]] = []
            for (name, extra) in [("live", ["--endpoint", url]), ("offline", ["--offline"])] {
                // A model-served run: room for a slow machine (it took 4.5 s on an idle 2-core one).
                let (status, stdout) = try ContractFixture.srlm(judge + extra, store, timeoutSeconds: 600)
                #expect(status == 0, "\(name): \(stdout)")
                let document = try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any]
                #expect(document?["model"] as? String == "M0" && document?["model_key"] as? String == ContractFixture.modelKey, "\(name): \(stdout)")
                let file = folder.appendingPathComponent("eval-\(name).json")
                try Data(stdout.utf8).write(to: file)
                checks.append(["schema": "eval", "output": file.path, "command": "eval judge (\(name))"])
            }
            try JSONContractTests.validate(checks, in: folder)
        }
    }
}
