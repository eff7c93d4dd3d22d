import ArgumentParser
import Foundation
import SRLMEngines
import SRLMStages
import SRLMStore

extension TrainLauncher.Kind: ExpressibleByArgument {}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a checkpoint with TRL (engines/train.py): SFT or DPO, metrics and checkpoint recorded in the store.",
        subcommands: [TrainSFTCommand.self, TrainDPOCommand.self])
}

/// Options both training verbs share; each verb adds its learning rates (their defaults differ).
struct TrainOptions: ParsableArguments {
    @OptionGroup var store: StoreOptions
    @Option(help: "Round mode: round N's data trains M<N+1> from M<N> (the round's policy).") var round: Int?
    @Option(help: "Base checkpoint (default: the round's policy, else M<N>; M0 without a round, registered from `make setup`'s SmolLM2 on first use).")
    var base: String?
    @Option(help: "Output checkpoint name (default: M<N+1> with --round, else SFT or DPO).") var name: String?
    @Option(help: "Global batch size: per-device batch x processes x gradient-accumulation steps.") var batchSize = TrainHyperparameters.sft.batchSize
    @Option(help: "Per-device batch size.") var perDeviceBatchSize = TrainHyperparameters.sft.perDeviceBatchSize
    @Option(help: "Dropout (set on every dropout field the model's config has).") var dropout = TrainHyperparameters.sft.dropout
    @Option(help: "Stop after this many optimizer steps (-1: train --epochs epochs).") var maxSteps = TrainHyperparameters.sft.maxSteps
    @Option(help: "Epochs.") var epochs = TrainHyperparameters.sft.epochs
    @Option(help: "Longest tokenized example, tokens (longer ones are truncated).") var maxLength = TrainHyperparameters.sft.maxLength
    @Option(help: "Seed.") var seed = TrainHyperparameters.sft.seed
    @Option(help: "Log (and store) metrics every N steps.") var loggingSteps = TrainHyperparameters.sft.loggingSteps
    @Flag(help: "Train a LoRA adapter (merged into a full model afterwards) instead of every weight.") var lora = false
    @Option(help: "LoRA rank.") var loraR = LoRAConfig().r
    @Option(help: "LoRA alpha.") var loraAlpha = LoRAConfig().alpha
    @Option(help: "LoRA dropout.") var loraDropout = LoRAConfig().dropout
    @Option(help: "LoRA target modules.") var loraTargetModules = LoRAConfig().targetModules
    @Option(help: "Another TRL SFTConfig/DPOConfig argument, KEY=VALUE (VALUE as JSON when it parses); repeatable.")
    var trainerArg: [String] = []
    @Option(help: "plain (python engines/train.py) or accelerate (accelerate launch engines/train.py).")
    var launcher: TrainLauncher.Kind = .plain
    @Option(help: "accelerate config file (multi-GPU, DeepSpeed, FSDP). Without it or --accelerate-arg: --cpu --num_processes 1.")
    var accelerateConfig: String?
    @Option(parsing: .unconditionalSingleValue, help: "An extra `accelerate launch` argument, e.g. --accelerate-arg=--multi_gpu; repeatable.")
    var accelerateArg: [String] = []
    @Option(help: "Convert the result to GGUF for llama.cpp: q8_0, f16, bf16, f32, or none.") var gguf = "q8_0"
    @Flag(help: "No progress bar or trainer output: the log stays in the run folder only (srlm-runs/<store file>/<run>/train.log).") var quiet = false

    func hyper(_ defaults: TrainHyperparameters, learningRate: Double, minLearningRate: Double) throws -> TrainHyperparameters {
        var h = defaults
        h.learningRate = learningRate
        h.minLearningRate = minLearningRate
        h.batchSize = batchSize
        h.perDeviceBatchSize = perDeviceBatchSize
        h.dropout = dropout
        h.maxSteps = maxSteps
        h.epochs = epochs
        h.maxLength = maxLength
        h.seed = seed
        h.loggingSteps = loggingSteps
        if lora {
            var l = LoRAConfig()
            l.r = loraR
            l.alpha = loraAlpha
            l.dropout = loraDropout
            l.targetModules = loraTargetModules
            h.lora = l
        }
        for argument in trainerArg {
            let (key, value) = try TrainHyperparameters.trainerArgument(argument)
            h.trainerArgs[key] = value
        }
        return h
    }

    func trainLauncher() throws -> TrainLauncher {
        if launcher == .plain && (accelerateConfig != nil || !accelerateArg.isEmpty) {
            throw ValidationError("--accelerate-config and --accelerate-arg need --launcher accelerate")
        }
        let config = accelerateConfig.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        if let config, !FileManager.default.fileExists(atPath: config) { throw ValidationError("--accelerate-config \(config): no such file") }
        return TrainLauncher(kind: launcher, accelerateConfig: config, accelerateArgs: accelerateArg)
    }

    func conversion() throws -> GGUFType? {
        if gguf == "none" { return nil }
        guard let type = GGUFType(rawValue: gguf) else {
            throw ValidationError("--gguf must be one of \(GGUFType.allCases.map(\.rawValue).joined(separator: ", ")) or none")
        }
        return type
    }

    func context() throws -> StageContext {
        StageContext(store: try store.open(), experiment: store.experiment, quiet: quiet)
    }
}

func printTrainResult(_ stage: String, _ result: TrainResult) {
    let c = result.checkpoint
    var line = "\(stage): \(result.reused ? "reused" : "trained") checkpoint \(c.name) (run \(result.runID)"
    if let steps = result.stats["steps"] { line += ", \(Int(steps)) steps" }
    if let rows = result.stats["rows"] { line += ", \(Int(rows)) rows" }
    line += "; base \(c.base ?? "-"), data \(c.dataVersion ?? "-")): \(c.uri)"
    if let gguf = c.gguf { line += "\n  gguf \(gguf.path) (\(gguf.size) bytes, sha256 \(gguf.sha256.prefix(12)))" }
    print(line)
}

struct TrainSFTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sft",
        abstract: "SFT (loss on completions): --data ift[@N] → SFT, or --round 0 (IFT + EFT) → M1.")
    @OptionGroup var options: TrainOptions
    @Option(help: "IFT data version (default with --round: the round's ift version).") var data: String?
    @Option(help: "EFT data version; its train split is added (default with --round: the round's eft version).") var eft: String?
    @Option(help: "Peak learning rate (paper: 5.5e-6).") var learningRate = TrainHyperparameters.sft.learningRate
    @Option(help: "Learning rate at the end of the cosine decay (paper: 1.1e-6).") var minLearningRate = TrainHyperparameters.sft.minLearningRate

    func config() throws -> TrainSFT.Config {
        var config = TrainSFT.Config(round: options.round, data: [data ?? ""] + (eft.map { [$0] } ?? []))
        config.hyper = try options.hyper(.sft, learningRate: learningRate, minLearningRate: minLearningRate)
        config.launcher = try options.trainLauncher()
        config.name = options.name ?? ""
        config.base = options.base ?? ""
        return config
    }

    func run() throws {
        let stage = TrainSFT(config: try config(), convert: try options.conversion())
        printTrainResult("train sft", try stage.run(try options.context()))
    }
}

struct TrainDPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dpo",
        abstract: "DPO on preference pairs: --round N (its pairs; M<N> → M<N+1>), or --data pairs[@N] → DPO.")
    @OptionGroup var options: TrainOptions
    @Option(help: "Pairs version (default with --round: the round's pairs).") var data: String?
    @Option(help: "DPO beta (paper: 0.1).") var beta = TrainHyperparameters.dpo.beta ?? 0.1
    @Option(help: "Iterative RPO: add this times the chosen reply's NLL to the DPO loss (TRL rpo_alpha; off by default).")
    var rpoAlpha: Double?
    @Option(help: "Meta-Rewarding: judge-training pairs to mix in (NAME@N, or 'round' for the round's from `srlm meta-judge`).")
    var judgePairs: String?
    @Option(help: "The most judge pairs may be of the training rows (default \(TrainDPO.Config.defaultJudgeShare)).") var judgeShare: Double?
    @Option(help: "Peak learning rate (paper: 1e-6).") var learningRate = TrainHyperparameters.dpo.learningRate
    @Option(help: "Learning rate at the end of the cosine decay (paper: 1e-7).") var minLearningRate = TrainHyperparameters.dpo.minLearningRate

    func config() throws -> TrainDPO.Config {
        var config = TrainDPO.Config(round: options.round, data: data.map { [$0] } ?? [])
        config.hyper = try options.hyper(.dpo, learningRate: learningRate, minLearningRate: minLearningRate)
        config.hyper.beta = beta
        config.hyper.rpoAlpha = rpoAlpha
        config.judgePairs = judgePairs
        config.judgeShare = judgeShare
        config.launcher = try options.trainLauncher()
        config.name = options.name ?? ""
        config.base = options.base ?? ""
        return config
    }

    func run() throws {
        let stage = TrainDPO(config: try config(), convert: try options.conversion())
        printTrainResult("train dpo", try stage.run(try options.context()))
    }
}
