import Foundation
import GRDB
import Testing
@testable import SRLMEngines
@testable import SRLMExport
@testable import SRLMStages
@testable import SRLMStore

/// Checkpoints, file hashes, `--model NAME`, the trainer's command lines and metrics parsing: no torch needed.
@Suite struct CheckpointTests {
    /// SHA-256 by coreutils, independent of srlm's hashing.
    static func sha256sum(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sha256sum", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(String(decoding: out, as: UTF8.self).prefix(64))
    }

    /// A fake model folder: weights, a config, and the trainer's own training_args.bin (not a weight file).
    static func modelFolder() throws -> String {
        let dir = TestSupport.temporaryDirectory("model").appendingPathComponent("hf")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: dir.appendingPathComponent("config.json"))
        try Data((0..<300_000).map { UInt8($0 % 251) }).write(to: dir.appendingPathComponent("model-00001.safetensors"))
        try Data("second shard".utf8).write(to: dir.appendingPathComponent("model-00002.safetensors"))
        try Data("pickled args".utf8).write(to: dir.appendingPathComponent("training_args.bin"))
        return dir.path
    }

    @Test func weightFilesAreHashedLikeSha256sum() throws {
        let folder = try Self.modelFolder()
        let files = try FileDigest.weightFiles(in: folder, format: .hf)
        #expect(files.map { URL(fileURLWithPath: $0.path).lastPathComponent } == ["model-00001.safetensors", "model-00002.safetensors"])
        for file in files {
            #expect(file.sha256 == (try Self.sha256sum(file.path)))
            #expect(file.size == (try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? NSNumber)?.int64Value)
        }
        #expect(throws: SRLMError.self) { try FileDigest.weightFiles(in: TestSupport.temporaryDirectory("empty").path, format: .hf) }
    }

    @Test func registerResolveAndRefuseDuplicates() throws {
        let store = try TestSupport.makeStore()
        let folder = try Self.modelFolder()
        let gguf = TestSupport.writeTemp("not really gguf", name: "base.gguf")
        let base = try CheckpointModels.add(store, experiment: "default", name: "Base", hf: folder, gguf: gguf)
        #expect(base.uri == folder && base.files.count == 3 && base.gguf?.path == gguf)
        #expect(base.gguf?.sha256 == (try Self.sha256sum(gguf)))
        let child = try store.write { db in
            try Checkpoints.register(db, experiment: "default", NewCheckpoint(name: "Child", uri: folder, baseID: base.id, files: []))
        }
        #expect(child.base == "Base")
        #expect(throws: SRLMError.self) {
            try CheckpointModels.add(store, experiment: "default", name: "Base", hf: folder, gguf: nil)
        }
        #expect(throws: SRLMError.self) { try CheckpointModels.add(store, experiment: "default", name: "a/b", hf: folder, gguf: nil) }
        do {
            _ = try store.read { try Checkpoints.resolve($0, experiment: "default", name: "Nope") }
            Issue.record("resolving an unknown name succeeded")
        } catch {
            #expect("\(error)".contains("known: Base, Child"))
        }
        // Another experiment sees none of them; the view lists what was registered.
        #expect(try store.read { try Checkpoints.find($0, experiment: "other", name: "Base") } == nil)
        let viewed = try store.read { try String.fetchAll($0, sql: "SELECT name || ':' || coalesce(base, '') FROM v_checkpoints ORDER BY checkpoint_id") }
        #expect(viewed == ["Base:", "Child:Base"])
    }

    @Test func modelNamesResolveToTheCheckpointsGGUF() throws {
        let store = try TestSupport.makeStore()
        let folder = try Self.modelFolder()
        let gguf = TestSupport.writeTemp("gguf bytes", name: "m1.gguf")
        try CheckpointModels.add(store, experiment: "default", name: "M1", hf: nil, gguf: gguf)
        try CheckpointModels.add(store, experiment: "default", name: "HFOnly", hf: folder, gguf: nil)
        let byName = try CheckpointModels.localModel("M1", experiment: "default", store: { store })
        #expect(byName.gguf == gguf && byName.label == "M1")
        // A .gguf path is used as is, without opening the store.
        let byPath = try CheckpointModels.localModel(gguf, experiment: "default", store: { throw SRLMError.notFound("unused") })
        #expect(byPath.gguf == gguf && byPath.label == "m1.gguf")
        do {
            _ = try CheckpointModels.localModel("HFOnly", experiment: "default", store: { store })
            Issue.record("a checkpoint without GGUF resolved")
        } catch {
            #expect("\(error)".contains("srlm checkpoint convert HFOnly"))
        }
        #expect(throws: SRLMError.self) { try CheckpointModels.localModel("M9", experiment: "default", store: { store }) }
        // A GGUF that changed on disk since it was registered is refused.
        try Data("gguf bytes, now longer".utf8).write(to: URL(fileURLWithPath: gguf))
        #expect(throws: SRLMError.self) { try CheckpointModels.localModel("M1", experiment: "default", store: { store }) }

        // A GGUF that is gone: converted again from the weights when they are there, else the error says what made it.
        let converted = TestSupport.writeTemp("m2 gguf", name: "m2.gguf")
        try CheckpointModels.add(store, experiment: "default", name: "M2", hf: folder, gguf: converted)
        try FileManager.default.removeItem(atPath: converted)
        #expect(throws: SRLMError.notFound("checkpoint 'M2': its GGUF \(converted) is missing; convert it again from its weights with `srlm checkpoint convert M2`")) {
            try CheckpointModels.localModel("M2", experiment: "default", store: { store })
        }
        try FileManager.default.removeItem(atPath: gguf)
        do {
            _ = try CheckpointModels.localModel("M1", experiment: "default", store: { store })
            Issue.record("a checkpoint whose GGUF is gone resolved")
        } catch {
            #expect("\(error)".contains("are gone too") && "\(error)".contains("srlm rm --round N"))
        }
    }

    @Test func launcherCommandLines() {
        let home = EngineHome(root: URL(fileURLWithPath: "/srlm"))
        let plain = Trainer.command(.sft, config: "c.json", launcher: TrainLauncher(), home: home)
        #expect(plain == [home.python, "/srlm/engines/train.py", "sft", "--config", "c.json"])
        let cpu = Trainer.command(.dpo, config: "c.json", launcher: TrainLauncher(kind: .accelerate), home: home)
        #expect(cpu == [home.python, "-m", "accelerate.commands.launch"] + TrainLauncher.cpuArguments + ["/srlm/engines/train.py", "dpo", "--config", "c.json"])
        let configured = Trainer.command(.dpo, config: "c.json", launcher: TrainLauncher(kind: .accelerate, accelerateConfig: "/a/ds.yaml"), home: home)
        #expect(configured.prefix(5) == [home.python, "-m", "accelerate.commands.launch", "--config_file", "/a/ds.yaml"])
        #expect(!configured.contains("--cpu"))
    }

    @Test func trainerConfigFollowsTheRecipeKeys() throws {
        var sft = TrainHyperparameters.sft
        let (key, value) = try TrainHyperparameters.trainerArgument("warmup_ratio=0.1")
        sft.trainerArgs[key] = value
        let (key2, value2) = try TrainHyperparameters.trainerArgument("optim=adamw_torch")
        sft.trainerArgs[key2] = value2
        let object = try sft.trainerConfig(method: .sft, model: "/m", data: "/d.jsonl", outputDir: "/o")
        #expect(object["learning_rate"] as? Double == 5.5e-6 && object["min_lr"] as? Double == 1.1e-6)
        #expect(object["beta"] == nil && object["batch_size"] as? Int == 16)
        let extra = object["trainer_args"] as? [String: Any]
        #expect(extra?["warmup_ratio"] as? Double == 0.1 && extra?["optim"] as? String == "adamw_torch")
        let dpo = try TrainHyperparameters.dpo.trainerConfig(method: .dpo, model: "/m", data: "/d", outputDir: "/o")
        #expect(dpo["beta"] as? Double == 0.1 && dpo["learning_rate"] as? Double == 1e-6 && dpo["min_lr"] as? Double == 1e-7)
        #expect(throws: SRLMError.self) { try TrainHyperparameters.trainerArgument("no-equals-sign") }
        #expect(throws: SRLMError.self) { try TrainHyperparameters.dpo.trainerConfig(method: .sft, model: "", data: "", outputDir: "") }
    }

    @Test func metricsFollowerReadsCompleteLinesOnly() throws {
        let path = TestSupport.writeTemp(#"{"step":1,"loss":2.5,"epoch":0.5,"note":"x"}"# + "\n" + #"{"step":2,"lo"#, name: "metrics.jsonl")
        let follower = MetricsFollower(path: path)
        let first = try follower.poll()
        #expect(first == [TrainMetric(step: 1, values: ["loss": 2.5, "epoch": 0.5])])
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((#"ss":null}"# + "\n[1]\n").utf8))
        try handle.close()
        do {
            _ = try follower.poll()
            Issue.record("a line that is not an object was accepted")
        } catch {
            #expect("\(error)".contains("metrics.jsonl:3"))
        }
    }

    /// EFT rows held out for evaluation never reach a training file.
    @Test func exportKeepsOneSplit() throws {
        let store = try TestSupport.makeStore()
        let eft = try TrainSupport.writeEFT(store)
        let path = TestSupport.temporaryDirectory("split").appendingPathComponent("train.jsonl").path
        #expect(try Exporter.run(store, version: eft, format: .sft, to: FileSink(path: path), split: "train") == 2)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!text.contains("held out"))
        let ift = try store.write { db in
            let w = try VersionWriter(db, experiment: "default", name: "ift", kind: .ift, runID: nil)
            try w.append(["prompt": .text(Blobs.text([.user("Hi")])), "response": .text(Blobs.text([.assistant("Hello")]))])
            return try w.finish()
        }
        #expect(throws: SRLMError.self) { try Exporter.run(store, version: ift, format: .sft, to: FileSink(path: path), split: "train") }
    }
}

#if os(Linux)
/// engines/supervise.py with a silent child (nothing that a closed pipe would stop): when its parent dies, however it
/// died, the child's whole process group goes too.
@Suite struct SuperviseTests {
    static let script = TestSupport.packageRoot.appendingPathComponent("engines/supervise.py").path

    /// Starts `parent` (which starts the supervisor over `sleep TOKEN`), SIGKILLs it once the child runs, and expects
    /// the child gone.
    static func expectGroupDiesWithParent(_ executable: String, _ arguments: (_ token: String) -> [String]) throws {
        let token = String(Int.random(in: 100_000...999_999))
        let parent = Process()
        parent.executableURL = URL(fileURLWithPath: executable)
        parent.arguments = arguments(token)
        try parent.run()
        // The child is up once a process is exactly `sleep TOKEN` (the supervisor's command line only ends with it).
        let running = TrainSupport.waitFor(seconds: 60) { TrainSupport.processes(matching: "sleep \(token)").contains { $0.hasSuffix(": sleep \(token) ") } }
        try #require(running, "supervisor and child did not start: \(TrainSupport.processes(matching: "sleep \(token)"))")
        defer { TrainSupport.killAll(matching: "sleep \(token)") }
        // Not waitUntilExit: Foundation may wait for the orphans too, and a failing test should fail, not hang.
        kill(parent.processIdentifier, SIGKILL)
        let gone = TrainSupport.waitFor(seconds: 10) { TrainSupport.processes(matching: "sleep \(token)").isEmpty }
        #expect(gone, "still running: \(TrainSupport.processes(matching: "sleep \(token)"))")
    }

    @Test func parentKilledTakesTheGroupDown() throws {
        // sh starts the supervisor in the background and stays (exec sleep) as its parent.
        try Self.expectGroupDiesWithParent("/bin/sh") { ["-c", "python3 \(Self.script) -- sleep \($0) & exec sleep 600"] }
    }

    /// As srlm runs it: the supervisor's stderr is a pipe to the parent. Once the parent is dead, writing there
    /// raises SIGPIPE; the group must be stopped all the same.
    @Test func parentKilledWhileHoldingTheStderrPipe() throws {
        try Self.expectGroupDiesWithParent("/usr/bin/python3") { token in
            ["-c", "import subprocess, sys, time; "
                + "subprocess.Popen([sys.executable, '\(Self.script)', '--', 'sleep', '\(token)'], stderr=subprocess.PIPE); "
                + "time.sleep(600)"]
        }
    }
}
#endif
