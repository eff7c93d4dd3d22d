import Foundation
import SRLMEngines
import SRLMExport
import SRLMStore

/// One training step of the loop, resolved: what TrainSFT and TrainDPO hand to `TrainDriver`.
struct TrainPlan {
    let method: TrainMethod
    let stage: String
    let hyper: TrainHyperparameters
    let launcher: TrainLauncher
    let name: String
    let base: Checkpoint
    /// Training data in file order; eft versions contribute their `train` split only.
    let inputs: [DatasetVersion]
    let round: Int?
    let convert: GGUFType?
    let home: EngineHome
    /// Inputs used only in part: the first N rows of that version (its rows' order decides which).
    var rowLimits: [Int64: Int] = [:]
}

/// Export → train → metrics → checkpoint → GGUF. No inference server is opened here: training has the cores.
enum TrainDriver {
    static func run<C: Encodable>(_ context: StageContext, _ plan: TrainPlan, config: C) throws -> TrainResult {
        let store = context.store
        let inputIDs = plan.inputs.map(\.id)
        if let done = try RunLifecycle.finishedRun(store, experiment: context.experiment, stage: plan.stage, config: config, inputs: inputIDs),
           let made = try Checkpoints.made(byRun: done, store) {
            try TrainRecords.linkRound(store, experiment: context.experiment, round: plan.round, policy: plan.base.id, result: made.id)
            let conversion = try convertIfMissing(context, plan, made)
            let checkpoint = try Checkpoints.byID(store, made.id)
            return TrainResult(checkpoint: checkpoint, runID: done, reused: true, stats: [:], conversion: conversion)
        }
        if let existing = try Checkpoints.find(store, experiment: context.experiment, name: plan.name) {
            throw SRLMError.invalid("checkpoint '\(plan.name)' already exists"
                + (existing.trainRunID.map { " (trained by run \($0) with another config or data)" } ?? " (registered by hand)")
                + ": train under another name")
        }
        guard let baseFolder = CheckpointModels.hfFolder(plan.base) else {
            throw SRLMError.invalid("checkpoint '\(plan.base.name)' has no Hugging Face folder to train from (uri \(plan.base.uri)); "
                + "register one with `srlm checkpoint add NAME --hf DIR` (engines/gguf_to_hf.py makes a folder from a GGUF)")
        }
        var provenance: [String: Any] = ["trainer": "engines/train.py", "launcher": plan.launcher.kind.rawValue,
                                         "base": plan.base.name, "base_uri": baseFolder, "base_weights": plan.base.weightsKey]
        let run = try RunLifecycle.begin(store, experiment: context.experiment, stage: plan.stage, config: config,
                                         inputs: inputIDs, seed: plan.hyper.seed, provenance: provenance)
        let checkpoint: Checkpoint
        var stats: [String: Double] = [:]
        do {
            let work = workDirectory(store, run: run.id)
            try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
            let (dataPath, rows) = try exportData(store, plan.inputs, to: work, limits: plan.rowLimits)
            let outputDir = work + "/model"
            let configPath = work + "/train-config.json"
            provenance["command"] = Trainer.command(plan.method, config: configPath, launcher: plan.launcher, home: plan.home)
            let object = try plan.hyper.trainerConfig(method: plan.method, model: baseFolder, data: dataPath, outputDir: outputDir)
            try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: configPath))
            let progress = TrainProgress(label: plan.stage, quiet: context.quiet)
            defer { progress.finish() }
            // On a terminal the bar replaces the trainer's own output (still in train.log); piped, both stay plain.
            let outcome = try Trainer.run(plan.method, config: configPath, outputDir: outputDir, launcher: plan.launcher,
                                          home: plan.home, logPath: work + "/train.log", echo: !context.quiet && !progress.live,
                                          onStep: { progress.step($0, of: $1) }) { metrics in
                try TrainRecords.storeMetrics(store, run: run.id, metrics.map { ($0.step, $0.values) })
                progress.report(metrics)
            }
            let done = outcome.doneObject
            let merged = done["merged_dir"] as? String
            let files = try (merged == nil ? [] : FileDigest.weightFiles(in: outputDir, format: .lora))
                + FileDigest.weightFiles(in: merged ?? outputDir, format: .hf)
            var summary = done["metrics"] as? [String: Any] ?? [:]
            summary["last_log"] = done["last_log"] as? [String: Any] ?? [:]
            summary["steps"] = done["steps"] as? NSNumber ?? 0
            stats = ["rows": Double(rows), "steps": (done["steps"] as? NSNumber)?.doubleValue ?? 0,
                     "metric_rows": Double(outcome.metrics.reduce(0) { $0 + $1.values.count }),
                     "train_runtime_s": (done["train_runtime"] as? NSNumber)?.doubleValue ?? 0,
                     "peak_rss_mb": (done["peak_rss_mb"] as? NSNumber)?.doubleValue ?? 0]
            provenance["start"] = outcome.start.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) } ?? NSNull()
            checkpoint = try TrainRecords.finish(store, experiment: context.experiment, run: run.id, checkpoint: NewCheckpoint(
                name: plan.name, uri: merged ?? outputDir, baseID: plan.base.id, trainRunID: run.id,
                dataVersionID: plan.inputs.first?.id, config: try CanonicalJSON.canonicalize(RunLifecycle.configObject(config)),
                metrics: try CanonicalJSON.canonicalize(summary), files: files),
                round: plan.round, provenance: provenance, stats: stats)
        } catch {
            RunLifecycle.fail(store, run, error)
            throw error
        }
        let conversion = try convertIfMissing(context, plan, checkpoint)
        let final = try Checkpoints.byID(store, checkpoint.id)
        return TrainResult(checkpoint: final, runID: run.id, reused: false, stats: stats, conversion: conversion)
    }

    /// The run's exported data, trainer config, log and model (see `RunFolder`).
    static func workDirectory(_ store: Store, run: Int64) -> String { RunFolder.path(store: store.path, run: run) }

    /// Each input through the exporter (pairs as TRL preference rows, the rest as prompt/completion rows), then all
    /// of them in one file. Returns its path and row count.
    static func exportData(_ store: Store, _ inputs: [DatasetVersion], to work: String, limits: [Int64: Int] = [:]) throws -> (String, Int) {
        var parts: [(path: String, lines: Int?)] = []
        var rows = 0
        for version in inputs {
            let path = "\(work)/\(version.name)@\(version.version).jsonl"
            let written = try Exporter.run(store, version: version, format: version.kind == .pairs ? .trl : .sft,
                                           to: FileSink(path: path), split: version.kind == .eft ? "train" : nil)
            let limit = limits[version.id].map { min($0, written) }
            rows += limit ?? written
            if FileManager.default.fileExists(atPath: path) && limit != 0 { parts.append((path, limit)) }
        }
        guard rows > 0 else {
            throw SRLMError.invalid("\(inputs.map(\.ref).joined(separator: " + ")) hold no training rows: nothing to train on")
        }
        let data = work + "/train.jsonl"
        _ = FileManager.default.createFile(atPath: data, contents: nil)
        guard let out = FileHandle(forWritingAtPath: data) else { throw SRLMError.invalid("cannot write \(data)") }
        defer { try? out.close() }
        for part in parts {
            var data = try Data(contentsOf: URL(fileURLWithPath: part.path))
            if let lines = part.lines {
                // The first `lines` lines: JSON Lines rows never hold a raw newline.
                var end = data.startIndex, count = 0
                while count < lines, let newline = data[end...].firstIndex(of: UInt8(ascii: "\n")) { end = newline + 1; count += 1 }
                data = data[data.startIndex..<end]
            }
            try out.write(contentsOf: data)
        }
        return (data, rows)
    }

    static func convertIfMissing(_ context: StageContext, _ plan: TrainPlan, _ checkpoint: Checkpoint) throws -> GGUFConversion? {
        guard let type = plan.convert, checkpoint.gguf == nil else { return nil }
        do {
            return try CheckpointModels.convert(context.store, experiment: context.experiment, name: checkpoint.name, type: type,
                                                home: plan.home, echo: !context.quiet).conversion
        } catch {
            throw SRLMError.training("checkpoint '\(checkpoint.name)' is registered, but its GGUF conversion failed; "
                                       + "retry with `srlm checkpoint convert \(checkpoint.name)`:\n\(error)")
        }
    }
}
