import Foundation
import SRLMEngines
import SRLMEval
import SRLMStages
import SRLMStore

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

    /// The identity a step's model will have, without starting it: lets a resumed loop reuse finished inference
    /// steps without loading their model.
    func identity(_ step: LoopPlan.Step) throws -> ModelIdentity? {
        try step.model.map { try models($0).identity() }
    }

    /// A stage step: reused without loading its model when an earlier run matches, else run with the model open.
    func perform<S: Stage>(_ stage: S, _ step: LoopPlan.Step, _ context: StageContext, needsModel: Bool = true) async throws -> StageResult {
        guard needsModel else { return try await context.perform(stage) }
        guard let name = step.model else { throw SRLMError.badPlan("\(step.summary) needs a model") }
        if let reused = try context.reusable(stage, model: try identity(step)) { return reused }
        return try await ModelSession.with(try models(name), policy: policy) {
            try await context.perform(stage, session: $0, concurrency: concurrency)
        }
    }

    func run(_ step: LoopPlan.Step, _ context: StageContext) async throws -> StepOutcome {
        func done(_ result: StageResult) -> StepOutcome {
            StepOutcome(step: step, reused: result.reused, summary: "\(result.version.ref) (\(result.version.rowCount) rows)")
        }
        func trained(_ result: TrainResult) -> StepOutcome {
            StepOutcome(step: step, reused: result.reused, summary: "checkpoint \(result.checkpoint.name)")
        }
        switch step.action {
        case .judgeProbe(let config):
            let result = try await perform(JudgeProbe(config: config, templateFile: step.template), step, context)
            let (parsed, judged) = (Int(result.stats["parsed"] ?? 0), Int(result.stats["judged"] ?? 0))
            return StepOutcome(step: step, reused: result.reused, summary: "\(parsed)/\(judged) free-form judgments parsed")
        case .buildEFT(let config):
            return done(try await perform(BuildEFT(config: config, templateFile: step.template), step, context, needsModel: config.targets != .human))
        case .genPrompts(let config):
            return done(try await perform(GenPrompts(config: config), step, context))
        case .evolPrompts(let config):
            return done(try await perform(EvolPrompts(config: config), step, context))
        case .genCandidates(let config):
            return done(try await perform(GenCandidates(config: config), step, context))
        case .judge(let config):
            return done(try await perform(Judge(config: config, templateFile: step.template), step, context))
        case .pairs(let config):
            return done(try await perform(Pairs(config: config), step, context, needsModel: false))
        case .trainSFT(let config):
            return trained(try TrainSFT(config: config).run(context))
        case let .trainDPO(config, minimum):
            let explicit = config.data.first.flatMap { $0.isEmpty ? nil : $0 }
            let pairs = try explicit.map { try context.version($0).rowCount }
                ?? Rounds.version(context.store, experiment: context.experiment, iteration: step.round, role: .pairs)?.rowCount ?? 0
            if pairs < minimum { throw SRLMError.tooFewPairs(round: step.round, pairs: pairs, minimum: minimum) }
            return trained(try TrainDPO(config: config).run(context))
        }
    }
}
