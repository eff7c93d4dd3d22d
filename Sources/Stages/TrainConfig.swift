import Foundation
import SRLMEngines
import SRLMStore

/// LoRA settings (engines/train.py's `lora` object; PEFT names in comments).
public struct LoRAConfig: Codable, Hashable, Sendable {
    public var r = 16
    public var alpha = 32          // lora_alpha
    public var dropout = 0.05      // lora_dropout
    public var targetModules = "all-linear"

    public init() {}
}

/// The recipe's hyperparameters. Defaults follow the paper (Yuan et al. 2024): SFT lr 5.5e-6 decaying (cosine) to
/// 1.1e-6, DPO lr 1e-6 decaying to 1e-7 with β 0.1, global batch 16, dropout 0.1. Every field is overridable.
public struct TrainHyperparameters: Codable, Hashable, Sendable {
    public var learningRate: Double
    public var minLearningRate: Double
    /// DPO's β (nil for SFT).
    public var beta: Double?
    /// Iterative RPO (Pang et al. 2024): DPO's loss plus α × the NLL of the chosen reply (TRL's `rpo_alpha`; nil: plain
    /// DPO, and the field is left out of the recorded config).
    public var rpoAlpha: Double?
    /// Global batch: per-device batch × processes × gradient-accumulation steps.
    public var batchSize = 16
    public var perDeviceBatchSize = 2
    public var dropout = 0.1
    /// -1: train `epochs` epochs.
    public var maxSteps = -1
    public var epochs = 1.0
    public var maxLength = 1024
    public var seed: Int64 = 42
    public var loggingSteps = 1
    public var lora: LoRAConfig? = nil
    /// Anything else for TRL's SFTConfig/DPOConfig, as JSON texts (`--trainer-arg warmup_ratio=0.1`).
    public var trainerArgs: [String: String] = [:]

    public init(learningRate: Double, minLearningRate: Double, beta: Double?) {
        self.learningRate = learningRate
        self.minLearningRate = minLearningRate
        self.beta = beta
    }

    public static let sft = TrainHyperparameters(learningRate: 5.5e-6, minLearningRate: 1.1e-6, beta: nil)
    public static let dpo = TrainHyperparameters(learningRate: 1e-6, minLearningRate: 1e-7, beta: 0.1)

    /// engines/train.py's config object (its DEFAULTS' keys).
    func trainerConfig(method: TrainMethod, model: String, data: String, outputDir: String) throws -> [String: Any] {
        var object: [String: Any] = [
            "model": model, "data": data, "output_dir": outputDir,
            "learning_rate": learningRate, "min_lr": minLearningRate, "batch_size": batchSize,
            "per_device_train_batch_size": perDeviceBatchSize, "dropout": dropout, "max_steps": maxSteps,
            "num_train_epochs": epochs, "max_length": maxLength, "seed": seed, "logging_steps": loggingSteps,
        ]
        switch method {
        case .sft:
            guard beta == nil, rpoAlpha == nil else { throw SRLMError.invalid("beta and rpo_alpha are DPO settings; SFT takes neither") }
        case .dpo:
            object["beta"] = beta ?? 0.1
            if let rpoAlpha {
                guard rpoAlpha >= 0 else { throw SRLMError.outOfRange(setting: "rpo alpha", value: "\(rpoAlpha)", expected: "≥ 0") }
                object["rpo_alpha"] = rpoAlpha
            }
        }
        if let lora {
            object["lora"] = ["r": lora.r, "alpha": lora.alpha, "dropout": lora.dropout, "target_modules": lora.targetModules]
        }
        var extra: [String: Any] = [:]
        for (key, text) in trainerArgs {
            // JSON when it parses (as `--trainer-arg`); otherwise the text itself, as a plan file's `key: word` gives it.
            extra[key] = (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)) ?? text
        }
        object["trainer_args"] = extra
        return object
    }

    /// `KEY=VALUE` → (key, JSON text): VALUE as JSON when it parses (numbers, true, null, objects), else a string.
    public static func trainerArgument(_ text: String) throws -> (String, String) {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty else { throw SRLMError.invalid("trainer argument '\(text)': expected KEY=VALUE") }
        let value = parts[1]
        if (try? JSONSerialization.jsonObject(with: Data(value.utf8), options: .fragmentsAllowed)) != nil { return (parts[0], value) }
        return (parts[0], try CanonicalJSON.canonicalize(value))
    }
}

/// What a training stage made (or found already made).
public struct TrainResult: Sendable {
    public let checkpoint: Checkpoint
    public let runID: Int64
    public let reused: Bool
    public let stats: [String: Double]
    public let conversion: GGUFConversion?
}
