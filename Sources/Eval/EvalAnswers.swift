import Foundation
import SRLMEngines
import SRLMStages
import SRLMStore

/// A model's answers to an evaluation's prompts (one per prompt, the paper's generation sampling), the side of a
/// head-to-head or win-rate comparison. Any version with prompts works: a prompts set, or reference outputs
/// imported as ift rows (their prompts are answered). Written as a candidates version `answers`, outside any round.
public struct EvalAnswers: BatchableStage {
    public static let name = "eval-answers"
    public static let dataset = "answers"

    public struct Config: Codable, Hashable, Sendable {
        /// The prompts; recorded resolved, as NAME@N.
        public var prompts = ""
        public var sampling = GenCandidates.Config(round: 0).sampling
        /// Filled by `plan`: the answering model's label and journal key.
        public var model = ""
        public var modelKey = ""

        public init(prompts: String = "") { self.prompts = prompts }
    }

    public struct Work: Sendable {
        let prompts: [(id: BlobID, messages: Messages)]
        let requests: [ChatRequest]
    }

    public var config: Config

    public init(config: Config) { self.config = config }

    public static func requests(_ work: Work) -> [ChatRequest] { work.requests }

    public func plan(_ context: StageContext, model: ModelIdentity?) throws -> StagePlan<Config, Work> {
        let input = try context.version(config.prompts)
        var config = self.config
        config.prompts = input.ref
        config.model = model?.label ?? ""
        config.modelKey = model?.key ?? ""
        let prompts = try StageRows.distinctPrompts(context.store, input)
        var generation = GenCandidates.Config(round: 0)
        generation.candidates = 1
        generation.sampling = config.sampling
        return StagePlan(config: config, inputs: [input], destination: .init(dataset: Self.dataset, kind: .candidates),
                         seed: config.sampling.seed,
                         work: Work(prompts: prompts, requests: GenCandidates.requests(prompts: prompts.map(\.messages), config: generation)))
    }

    public func execute(_ plan: StagePlan<Config, Work>, _ run: StageRun) async throws -> StageOutput {
        let (config, work) = (plan.config, plan.work)
        let answers = try await run.answers(work.requests, what: "answer")
        return StageOutput(stats: ["answers": answers.count]) { writer in
            for (index, answer) in answers.enumerated() {
                try GenCandidates.append(writer, prompt: work.prompts[index].id, request: work.requests[index], answer: answer,
                                         model: config.model, modelKey: config.modelKey)
            }
        }
    }
}
