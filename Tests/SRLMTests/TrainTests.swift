import Foundation
import GRDB
import Testing
@testable import SRLMEngines
@testable import SRLMImport
@testable import SRLMStages
@testable import SRLMStore

/// Real training on SmolLM2-135M with TRL on CPU, a few steps each. Under EngineBacked: serialized with the
/// llama.cpp suites, since each of them wants both cores.
/// (d) "a file exported by srlm that TRL itself loads and trains on": every run here exports its data with
/// `Exporter` (`sft` prompt/completion rows, `trl` preference rows) and engines/train.py trains TRL on that file.
extension EngineBacked {
    @Suite struct TrainTests {
        /// (a) M0 → M1 on IFT (OpenAssistant rows) + EFT train split; the one test that converts to GGUF.
        @Test func sftRoundZeroRegistersM1WithHashesMetricsAndGGUF() throws {
            let store = try TestSupport.makeStore()
            defer { TrainSupport.removeStoreFolder(store) }
            let ift = try TrainSupport.importIFT(store, trees: 3)
            let eft = try TrainSupport.writeEFT(store)
            var config = TrainSFT.Config(round: 0, data: ["ift", "eft"])
            config.hyper = TrainSupport.small(.sft)
            let context = StageContext(store: store, quiet: true)
            let result = try TrainSFT(config: config, convert: .q8_0, home: EngineSupport.home).run(context)
            let m1 = result.checkpoint
            #expect(!result.reused && m1.name == "M1" && m1.base == "M0" && m1.dataVersion == ift.ref && m1.trainRunID == result.runID)
            #expect(result.stats["steps"] == 2)

            // The training file is the exporter's output: IFT rows, then EFT train rows; the held-out row is not there.
            let work = TrainDriver.workDirectory(store, run: result.runID)
            let lines = try String(contentsOfFile: work + "/train.jsonl", encoding: .utf8).split(separator: "\n")
            #expect(lines.count == ift.rowCount + 2 && !lines.joined().contains("held out"))
            #expect(lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?.keys.sorted() == ["completion", "prompt"] })

            // Weight files and the GGUF, hashed as sha256sum hashes them.
            let hf = m1.files(.hf)
            #expect(hf.map(\.path) == [work + "/model/model.safetensors"])
            let gguf = try #require(m1.gguf)
            #expect(gguf.path == work + "/model.q8_0.gguf")
            for file in hf + [gguf] {
                #expect(file.sha256 == (try CheckpointTests.sha256sum(file.path)))
                #expect(file.size == (try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? NSNumber)?.int64Value)
            }
            #expect(result.conversion?.kind == "model")

            // Every numeric value of metrics.jsonl is a train_metric row.
            let logged = try TrainSupport.metricKeys(work + "/model/metrics.jsonl")
            let stored = try store.read { db in
                try Row.fetchAll(db, sql: "SELECT step, name FROM train_metric WHERE run_id = ?", arguments: [result.runID])
                    .map { "\($0["step"] as Int):\($0["name"] as String)" }
            }
            #expect(Set(stored) == logged && stored.count == logged.count)
            #expect(logged.contains("1:loss") && logged.contains("2:loss") && logged.contains("2:train_runtime"))

            // The round records its data, its policy and its result.
            let members = try store.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT m.role, coalesce(c.name, d.name || '@' || v.version) AS what FROM round_member m
                    JOIN round r ON r.id = m.round_id LEFT JOIN checkpoint c ON c.id = m.checkpoint_id
                    LEFT JOIN dataset_version v ON v.id = m.version_id LEFT JOIN dataset d ON d.id = v.dataset_id
                    WHERE r.iteration = 0 ORDER BY m.role
                    """).map { "\($0["role"] as String)=\($0["what"] as String)" }
            }
            #expect(members == ["eft=\(eft.ref)", "ift=\(ift.ref)", "policy=M0", "result=M1"])

            // `--model M1` serves the checkpoint's GGUF under its name.
            let model = try CheckpointModels.localModel("M1", experiment: "default", store: { store })
            #expect(model.gguf == gguf.path && model.label == "M1")

            // The same step again is skipped.
            let runs = try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM run") }
            let again = try TrainSFT(config: config, home: EngineSupport.home).run(context)
            #expect(again.reused && again.checkpoint.id == m1.id && again.runID == result.runID)
            #expect(try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM run") } == runs)
        }

        /// (b) + (c): M0 → M2 on round 1's pairs (Anthropic HH rows) through `accelerate launch --cpu --num_processes 1`.
        @Test func dpoRoundThroughAccelerateStoresRewardMetrics() throws {
            let store = try TestSupport.makeStore()
            defer { TrainSupport.removeStoreFolder(store) }
            let pairs = try TrainSupport.importPairs(store, count: 4)
            let m0 = try CheckpointModels.resolve(store, experiment: "default", name: "M0", home: EngineSupport.home)
            try store.write { db in
                try Rounds.setVersion(db, experiment: "default", iteration: 1, role: .pairs, version: pairs.id)
                try Rounds.setCheckpoint(db, experiment: "default", iteration: 1, role: .policy, checkpoint: m0.id)
            }
            var config = TrainDPO.Config(round: 1)
            config.hyper = TrainSupport.small(.dpo)
            config.launcher = TrainLauncher(kind: .accelerate)
            let result = try TrainDPO(config: config, convert: nil, home: EngineSupport.home).run(StageContext(store: store, quiet: true))
            let m2 = result.checkpoint
            #expect(m2.name == "M2" && m2.base == "M0" && m2.dataVersion == pairs.ref && m2.gguf == nil)

            let work = TrainDriver.workDirectory(store, run: result.runID)
            let rows = try String(contentsOfFile: work + "/train.jsonl", encoding: .utf8).split(separator: "\n")
            #expect(rows.count == 4)
            #expect(rows.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?.keys.sorted() == ["chosen", "prompt", "rejected"] })

            let rewards = try store.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT step, name, value FROM train_metric WHERE run_id = ? AND name LIKE 'rewards/%' ORDER BY step, name
                    """, arguments: [result.runID])
            }
            let names = ["rewards/accuracies", "rewards/chosen", "rewards/margins", "rewards/rejected"]
            #expect(rewards.map { "\($0["step"] as Int):\($0["name"] as String)" } == [1, 2].flatMap { s in names.map { "\(s):\($0)" } })
            #expect(rewards.allSatisfy { ($0["value"] as Double?) != nil })

            let provenance = try store.read { try String.fetchOne($0, sql: "SELECT provenance FROM run WHERE id = ?", arguments: [result.runID]) } ?? ""
            #expect(provenance.contains("accelerate.commands.launch") && provenance.contains("--cpu") && provenance.contains(#""world_size":1"#))

            // round-history reads the DPO margin of the round's result.
            let history = try SQLQuery.run(store, try Schema.query(named: "round-history"), arguments: ["experiment": "default"])
            let column = { (name: String) in history.columns.firstIndex(of: name)! }
            let round1 = try #require(history.rows.first { QueryResult.display($0[column("iteration")]) == "1" })
            #expect(QueryResult.display(round1[column("checkpoint")]) == "M2")
            let lastMargin = try #require(rewards.last { ($0["name"] as String) == "rewards/margins" }?["value"] as Double?)
            #expect(abs((Double(QueryResult.display(round1[column("dpo_margin")])) ?? .nan) - lastMargin) < 1e-3)
        }

        /// (issue 14, item 4) `--rpo-alpha`: Iterative RPO's NLL term on the chosen reply joins the DPO loss. At step 1
        /// the policy equals the reference, so plain DPO's loss is ln 2; with α = 1 it is ln 2 plus the chosen replies'
        /// mean token NLL, well above it.
        @Test func rpoAlphaAddsTheChosenRepliesNLL() throws {
            let store = try TestSupport.makeStore()
            defer { TrainSupport.removeStoreFolder(store) }
            let pairs = try TrainSupport.importPairs(store, count: 4)
            var config = TrainDPO.Config()
            config.data = [pairs.ref]
            config.name = "RPO"
            config.hyper = TrainSupport.small(.dpo)
            config.hyper.maxSteps = 1
            config.hyper.rpoAlpha = 1
            let result = try TrainDPO(config: config, convert: nil, home: EngineSupport.home).run(StageContext(store: store, quiet: true))
            let loss = try #require(try store.read {
                try Double.fetchOne($0, sql: "SELECT value FROM train_metric WHERE run_id = ? AND step = 1 AND name = 'loss'", arguments: [result.runID])
            })
            #expect(loss > log(2) + 0.5, "step-1 loss \(loss)")
            let recorded = try store.read { try String.fetchOne($0, sql: "SELECT config FROM run WHERE id = ?", arguments: [result.runID]) } ?? ""
            #expect(recorded.contains(#""rpoAlpha":1"#))
            let trainerConfig = try String(contentsOfFile: TrainDriver.workDirectory(store, run: result.runID) + "/train-config.json", encoding: .utf8)
            #expect(trainerConfig.contains(#""rpo_alpha" : 1"#))
        }

        /// (issue 14, item 4) Per-pair weights reach TRL's loss. At step 1 without dropout the policy is the reference
        /// (every pair's DPO term is ln 2): weights 0.5 give a loss of ln 2 / 2 and half the plain gradient; a soft
        /// label of 0.5 (the judges disagree as often as they agree) cancels the gradient, so the model does not move.
        @Test func pairWeightsScaleTheLossAndSoftLabelsCancelIt() throws {
            let store = try TestSupport.makeStore()
            defer { TrainSupport.removeStoreFolder(store) }
            func train(_ name: String, weight: Double?, confidence: Double?) throws -> (loss: Double, gradNorm: Double, provenance: String) {
                let lines = (0..<2).map { i in
                    var row: [String: Any] = ["prompt": "Name color number \(i).", "chosen": "Blue \(i).", "rejected": "Table \(i)."]
                    row["weight"] = weight
                    row["confidence"] = confidence
                    return String(decoding: try! JSONSerialization.data(withJSONObject: row, options: [.sortedKeys]), as: UTF8.self)
                }
                let path = TestSupport.writeTemp(lines.joined(separator: "\n") + "\n", name: "\(name).jsonl")
                let pairs = try #require(try Importer.run(store, ImportOptions(target: .pairs, path: path, format: .trl, name: name)).version)
                var config = TrainDPO.Config()
                config.data = [pairs.ref]
                config.name = name.uppercased()
                config.hyper = TrainSupport.small(.dpo)
                config.hyper.maxSteps = 1
                config.hyper.dropout = 0
                let result = try TrainDPO(config: config, convert: nil, home: EngineSupport.home).run(StageContext(store: store, quiet: true))
                func metric(_ name: String) throws -> Double {
                    try #require(try store.read {
                        try Double.fetchOne($0, sql: "SELECT value FROM train_metric WHERE run_id = ? AND step = 1 AND name = ?", arguments: [result.runID, name])
                    })
                }
                let provenance = try store.read { try String.fetchOne($0, sql: "SELECT provenance FROM run WHERE id = ?", arguments: [result.runID]) } ?? ""
                return (try metric("loss"), try metric("grad_norm"), provenance)
            }
            let plain = try train("plain", weight: nil, confidence: nil)
            let half = try train("half", weight: 0.5, confidence: nil)
            let unsure = try train("unsure", weight: nil, confidence: 0.5)
            #expect(abs(plain.loss - log(2)) < 1e-4 && plain.gradNorm > 0.1, "plain \(plain)")
            #expect(abs(half.loss - log(2) / 2) < 1e-4 && abs(half.gradNorm - plain.gradNorm / 2) < 1e-3 * plain.gradNorm, "half \(half)")
            #expect(abs(unsure.loss - log(2)) < 1e-4 && unsure.gradNorm < 1e-6, "unsure \(unsure)")
            #expect(half.provenance.contains(#""pair_weights":{"confidence":1,"weight":0.5}"#) && !plain.provenance.contains(#""pair_weights":{"#),
                    "\(half.provenance)")
        }

        /// A trainer that fails says why, with the tail of its log; the run is marked failed and nothing is registered.
        @Test func failedTrainerReportsItsLogAndFailsTheRun() throws {
            let store = try TestSupport.makeStore()
            defer { TrainSupport.removeStoreFolder(store) }
            _ = try TrainSupport.importIFT(store, trees: 2)
            var config = TrainSFT.Config(data: ["ift"])
            config.hyper = TrainSupport.small(.sft)
            config.hyper.batchSize = 0
            do {
                _ = try TrainSFT(config: config, convert: nil, home: EngineSupport.home).run(StageContext(store: store, quiet: true))
                Issue.record("a batch size of 0 trained")
            } catch {
                let text = "\(error)"
                #expect(text.contains("batch_size and per_device_train_batch_size must be >= 1") && text.contains("--- last lines of"))
            }
            let run = try store.read { try Row.fetchOne($0, sql: "SELECT status, error FROM run WHERE stage = 'train-sft'") }
            #expect((run?["status"] as String?) == "failed" && (run?["error"] as String?)?.contains("batch_size") == true)
            #expect(try store.read { try Checkpoints.find($0, experiment: "default", name: "SFT") } == nil)
        }

        #if os(Linux)
        /// (issue 13, item 3) On a terminal (a pseudo-terminal from util-linux `script`) `srlm train` draws one bar
        /// with steps, loss and an ETA, and the trainer's own output stays in train.log; with --quiet, nothing.
        @Test func trainingDrawsAProgressBarOnATerminal() throws {
            let store = try TestSupport.makeStore()
            defer { TrainSupport.removeStoreFolder(store) }
            _ = try TrainSupport.importIFT(store, trees: 2)
            func onTerminal(_ arguments: [String]) throws -> String {
                let command = ([EngineSupport.srlmBinary] + arguments + ["--store", store.path]).map { "'\($0)'" }.joined(separator: " ")
                let script = Process()
                script.executableURL = URL(fileURLWithPath: "/usr/bin/script")
                script.arguments = ["-qec", command, "/dev/null"]
                script.environment = ProcessInfo.processInfo.environment.merging(["SRLM_HOME": TestSupport.packageRoot.path]) { $1 }
                let out = Pipe()
                script.standardOutput = out
                script.standardInput = FileHandle.nullDevice
                try script.run()
                let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                script.waitUntilExit()
                #expect(script.terminationStatus == 0, "\(text.suffix(2000))")
                return text
            }
            let shown = try onTerminal(["train", "sft", "--data", "ift", "--max-steps", "4", "--batch-size", "2",
                                        "--per-device-batch-size", "2", "--max-length", "256", "--gguf", "none"])
            #expect(shown.contains("train-sft ████████████████████████ 4/4 steps"), "\(shown.suffix(2000))")
            #expect(shown.contains("loss ") && shown.contains(" s/step  ETA "))
            #expect(shown.contains("\r\u{1B}[2K"))  // redrawn in place
            #expect(!shown.contains("{'loss'"))      // the trainer's own log lines went to train.log only
            let quiet = try onTerminal(["train", "sft", "--data", "ift", "--max-steps", "5", "--batch-size", "2",
                                        "--per-device-batch-size", "2", "--max-length", "256", "--gguf", "none", "--quiet", "--name", "SFT-quiet"])
            #expect(!quiet.contains("█") && !quiet.contains("ETA"), "\(quiet.suffix(2000))")
        }

        /// srlm killed with SIGKILL mid-training: the supervisor takes the trainer's whole process group down.
        @Test func killedSrlmTakesTheTrainerWithIt() throws {
            let store = try TestSupport.makeStore()
            defer { TrainSupport.removeStoreFolder(store) }
            _ = try TrainSupport.importIFT(store, trees: 2)
            let runs = URL(fileURLWithPath: store.path).deletingLastPathComponent().appendingPathComponent("srlm-runs").path
            let srlm = Process()
            srlm.executableURL = URL(fileURLWithPath: EngineSupport.srlmBinary)
            srlm.arguments = ["train", "sft", "--data", "ift", "--max-steps", "50", "--gguf", "none", "--quiet", "--store", store.path]
            srlm.environment = ProcessInfo.processInfo.environment.merging(["SRLM_HOME": TestSupport.packageRoot.path]) { $1 }
            srlm.standardOutput = FileHandle.nullDevice
            srlm.standardError = FileHandle.nullDevice
            try srlm.run()
            defer { TrainSupport.killAll(matching: runs) }
            let started = TrainSupport.waitFor(seconds: 60) { !TrainSupport.processes(matching: runs).filter { $0.contains("engines/train.py") }.isEmpty }
            if !started { kill(srlm.processIdentifier, SIGKILL) }
            try #require(started, "the trainer never started")
            kill(srlm.processIdentifier, SIGKILL)
            let gone = TrainSupport.waitFor(seconds: 10) { TrainSupport.processes(matching: runs).isEmpty }
            #expect(gone, "still running: \(TrainSupport.processes(matching: runs))")
        }
        #endif
    }
}

/// Data and process helpers for the training tests.
enum TrainSupport {
    /// Few steps on tiny batches: the machinery, not the model, is under test.
    static func small(_ defaults: TrainHyperparameters) -> TrainHyperparameters {
        var h = defaults
        h.maxSteps = 2
        h.batchSize = 2
        h.perDeviceBatchSize = 2
        h.maxLength = 256
        return h
    }

    /// The first lines of a shared data file (gunzipped when .gz) in a temporary file.
    static func head(_ relative: String, lines: Int) throws -> String {
        let source = TestSupport.sharedData(relative)
        let data = source.hasSuffix(".gz") ? try ImportTests.gunzip(source) : try Data(contentsOf: URL(fileURLWithPath: source))
        let text = String(decoding: data, as: UTF8.self).split(separator: "\n").prefix(lines).joined(separator: "\n") + "\n"
        return TestSupport.writeTemp(text, name: URL(fileURLWithPath: relative).lastPathComponent.replacingOccurrences(of: ".gz", with: ""))
    }

    static func importIFT(_ store: Store, trees: Int) throws -> DatasetVersion {
        let path = try head("oasst/en_trees_60.jsonl", lines: trees)
        return try #require(try Importer.run(store, ImportOptions(target: .ift, path: path, format: .oasst)).version)
    }

    static func importPairs(_ store: Store, count: Int) throws -> DatasetVersion {
        let path = try head("hh-rlhf/harmless-base_test.jsonl.gz", lines: count)
        return try #require(try Importer.run(store, ImportOptions(target: .pairs, path: path, format: .hhRlhf)).version)
    }

    /// Three EFT examples written for these tests: two in the train split, one held out.
    static func writeEFT(_ store: Store) throws -> DatasetVersion {
        let rows: [(String, String, Double, String)] = [
            ("Rate this reply to 'What is 2 + 2?': '4'.", "The reply is correct and direct.\nScore: 5", 5, "train"),
            ("Rate this reply to 'Name a color.': 'Table'.", "The reply does not name a color.\nScore: 0", 0, "train"),
            ("Rate this reply to 'Say hi.': 'Hi!'.", "This row is held out for evaluation.\nScore: 4", 4, "eval"),
        ]
        return try store.write { db in
            let writer = try VersionWriter(db, experiment: "default", name: "eft", kind: .eft, runID: nil)
            for (prompt, response, score, split) in rows {
                try writer.append(["prompt": .text(Blobs.text([.user(prompt)])), "response": .text(Blobs.text([.assistant(response)])),
                                   "score": .real(score), "target_origin": .text("human"), "split": .text(split)])
            }
            return try writer.finish()
        }
    }

    /// "step:name" of every numeric value in a metrics.jsonl file (read here with JSONSerialization, not srlm's reader).
    static func metricKeys(_ path: String) throws -> Set<String> {
        var keys = Set<String>()
        for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let step = try #require(object["step"] as? Int)
            for (name, value) in object where name != "step" && (value is NSNumber || value is NSNull) { keys.insert("\(step):\(name)") }
        }
        return keys
    }

    /// Command lines of live processes that mention `text` (zombies have empty command lines).
    static func processes(matching text: String) -> [String] {
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.filter { Int($0) != nil } ?? []
        return pids.compactMap { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else { return nil }
            let line = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            return line.contains(text) ? "\(pid): \(line)" : nil
        }
    }

    /// Trained models are 0.5 GB each: a test removes its store's folder (store, srlm-runs/) when done.
    static func removeStoreFolder(_ store: Store) {
        try? FileManager.default.removeItem(at: URL(fileURLWithPath: store.path).deletingLastPathComponent())
    }

    /// SIGKILL to the processes this test started that are still there (matched by a unique path or token).
    static func killAll(matching text: String) {
        for line in processes(matching: text) {
            if let pid = Int32(line.prefix { $0 != ":" }) { kill(pid, SIGKILL) }
        }
    }

    static func waitFor(seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return condition()
    }
}
