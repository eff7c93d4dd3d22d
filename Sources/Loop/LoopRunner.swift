import Foundation
import GRDB
import SRLMEngines
import SRLMEval
import SRLMStages
import SRLMStore

public enum LoopError: Error, CustomStringConvertible {
    case tooFewPairs(round: Int, pairs: Int, minimum: Int)
    case badStep(String)

    public var description: String {
        switch self {
        case let .tooFewPairs(round, pairs, minimum):
            return "round \(round) made \(pairs) pair\(pairs == 1 ? "" : "s"), fewer than --min-pairs \(minimum): not training on that. "
                + "Ask for more prompts (--prompts-per-round), more candidates, or judge with --structured so scores parse."
        case .badStep(let m): return "plan: \(m)"
        }
    }
}

/// Runs a plan's steps in order. Inference steps open their model (a local llama.cpp server for a checkpoint's GGUF)
/// and close it before the next step, so no server holds the cores while a trainer runs.
public struct LoopRunner: Sendable {
    /// Turns a step's model name (checkpoint or .gguf) into what to open.
    public var models: @Sendable (String) throws -> ModelSpec
    public var policy: RetryPolicy
    public var concurrency: Int?

    public init(models: @escaping @Sendable (String) throws -> ModelSpec, policy: RetryPolicy = RetryPolicy(), concurrency: Int? = nil) {
        self.models = models
        self.policy = policy
        self.concurrency = concurrency
    }

    public struct StepOutcome: Sendable {
        public let step: LoopPlan.Step
        public let reused: Bool
        public let summary: String
    }

    public func run(_ plan: LoopPlan, _ context: StageContext,
                    report: @Sendable (Int, LoopPlan.Step, StepOutcome) -> Void = { _, _, _ in }) async throws -> [StepOutcome] {
        var outcomes: [StepOutcome] = []
        for (n, step) in plan.steps.enumerated() {
            let outcome = try await run(step, context)
            outcomes.append(outcome)
            report(n, step, outcome)
        }
        return outcomes
    }

    func withModel<T>(_ step: LoopPlan.Step, _ body: (ModelSession) async throws -> T) async throws -> T {
        guard let name = step.model else { throw LoopError.badStep("\(step.summary) needs a model") }
        return try await ModelSession.with(try models(name), policy: policy, body)
    }

    /// The label and journal key a step's model will have, without starting it: a local GGUF is keyed by its file's
    /// SHA-256 (as the launcher reports it), an endpoint by its weights id or served name. Lets a resumed loop reuse
    /// finished inference steps without loading their model.
    func identity(_ step: LoopPlan.Step) throws -> (label: String, modelKey: String)? {
        guard let name = step.model else { return nil }
        let spec = try models(name)
        if let gguf = spec.gguf { return (spec.label, "sha256:" + (try FileDigest.sha256(gguf).sha256)) }
        return (spec.label, spec.weightsID ?? "served:" + (spec.endpoints.first?.modelName ?? "default"))
    }

    /// An inference step: reused without loading its model when an earlier run matches, else run with the model open.
    func inference(_ step: LoopPlan.Step, _ reusable: (_ label: String, _ modelKey: String) throws -> StageResult?,
                   _ run: (ModelSession) async throws -> StageResult) async throws -> StageResult {
        if let id = try identity(step), let reused = try reusable(id.label, id.modelKey) { return reused }
        return try await withModel(step, run)
    }

    /// A training step's options over the paper's hyperparameters.
    static func apply(_ options: [String: String], to hyper: inout TrainHyperparameters) {
        func int(_ key: String) -> Int? { options[key].flatMap(Int.init) }
        hyper.maxSteps = int("max_steps") ?? -1
        hyper.maxLength = int("max_length") ?? 1024
        hyper.batchSize = int("batch_size") ?? 16
        hyper.seed = Int64(int("seed") ?? 42)
    }

    func run(_ step: LoopPlan.Step, _ context: StageContext) async throws -> StepOutcome {
        let o = step.options
        func int(_ key: String, _ fallback: Int) -> Int { o[key].flatMap(Int.init) ?? fallback }
        func done(_ result: StageResult) -> StepOutcome {
            StepOutcome(step: step, reused: result.reused, summary: "\(result.version.ref) (\(result.version.rowCount) rows)")
        }
        switch step.stage {
        case "judge-probe":
            let probe = JudgeProbe(probeRef: o["probe"] ?? "probe", concurrency: concurrency)
            let outcome = try await withModel(step) { try await probe.run(context, session: $0) }
            return StepOutcome(step: step, reused: outcome.reused,
                               summary: "\(outcome.parsed)/\(outcome.judged) free-form judgments parsed")
        case "build-eft":
            var config = BuildEFT.Config()
            config.targets = BuildEFT.Targets(rawValue: o["targets"] ?? "judge") ?? .judge
            config.seed = Int64(int("seed", 0))
            config.sampling.seed = config.seed
            config.sampling.maxTokens = int("max_tokens", 256)
            let stage = BuildEFT(config: config, rankedRef: o["ranked"] ?? "ranked", iftRef: o["ift"].flatMap { $0.isEmpty ? nil : $0 },
                                 concurrency: concurrency)
            let result = config.targets == .human
                ? try await stage.run(context, session: nil)
                : try await withModel(step) { try await stage.run(context, session: $0) }
            return done(result)
        case "gen-prompts":
            var config = GenPrompts.Config(round: step.round, count: int("count", 8))
            config.sampling.maxTokens = int("max_tokens", 128)
            config.sampling.seed = Int64(int("seed", 0))
            let evaluation = (o["decontaminate"] ?? "").split(separator: ",").map(String.init)
            let stage = GenPrompts(config: config, seedsRef: o["seeds"] ?? "ift", decontaminate: evaluation, concurrency: concurrency)
            return done(try await inference(step, { try stage.reusable(context, label: $0, modelKey: $1) },
                                            { try await stage.run(context, session: $0) }))
        case "gen-candidates":
            var config = GenCandidates.Config(round: step.round)
            config.candidates = int("n", 4)
            config.sampling.maxTokens = int("max_tokens", 256)
            config.sampling.seed = Int64(int("seed", 0))
            let stage = GenCandidates(config: config, concurrency: concurrency)
            return done(try await inference(step, { try stage.reusable(context, label: $0, modelKey: $1) },
                                            { try await stage.run(context, session: $0) }))
        case "judge":
            var config = Judge.Config(round: step.round)
            config.samples = int("samples", 3)
            config.sampling.maxTokens = int("max_tokens", 256)
            config.sampling.seed = Int64(int("seed", 0))
            config.structured = o["structured"] == "true"
            let stage = Judge(config: config, concurrency: concurrency)
            return done(try await inference(step, { try stage.reusable(context, label: $0, modelKey: $1) },
                                            { try await stage.run(context, session: $0) }))
        case "pairs":
            return done(try Pairs(config: Pairs.Config(round: step.round)).run(context))
        case "train-sft":
            var config = TrainSFT.Config(round: step.options["eft"] == "round" ? step.round : nil)
            config.name = step.model ?? ""
            Self.apply(o, to: &config.hyper)
            let result = try TrainSFT(config: config, dataRef: o["data"]).run(context)
            return StepOutcome(step: step, reused: result.reused, summary: "checkpoint \(result.checkpoint.name)")
        case "train-dpo":
            let minimum = int("min_pairs", 1)
            let pairs = try context.store.read {
                try Rounds.version($0, experiment: context.experiment, iteration: step.round, role: "pairs")?.rowCount ?? 0
            }
            if pairs < minimum { throw LoopError.tooFewPairs(round: step.round, pairs: pairs, minimum: minimum) }
            var config = TrainDPO.Config(round: step.round)
            config.name = step.model ?? ""
            config.base = o["base"] ?? ""
            Self.apply(o, to: &config.hyper)
            let result = try TrainDPO(config: config).run(context)
            return StepOutcome(step: step, reused: result.reused, summary: "checkpoint \(result.checkpoint.name)")
        default:
            throw LoopError.badStep("unknown stage '\(step.stage)'")
        }
    }
}
