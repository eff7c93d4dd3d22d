import Foundation
import SRLMStore
import SRLMEngines

/// Step 2 of self-instruction creation: N candidate responses per prompt from model Mt (paper: N 4, T 0.7, p 0.9).
public struct GenCandidates: BatchableStage {
    public static let name = "gen-candidates"
    public static let dataset = "candidates"

    public struct Config: Codable, Hashable, Sendable {
        public var round: Int
        public var candidates = 4
        public var sampling = Sampling(temperature: 0.7, topP: 0.9, maxTokens: 512)
        /// The prompts to answer ("": the round's gen-prompts output); recorded resolved, as NAME@N.
        public var prompts = ""
        /// Filled by `plan`: the answering model's label and journal key.
        public var model = ""
        public var modelKey = ""

        public init(round: Int) { self.round = round }
    }

    public struct Work: Sendable {
        let prompts: [(id: BlobID, messages: Messages)]
        let requests: [ChatRequest]
    }

    public var config: Config

    public init(config: Config) { self.config = config }

    /// The requests for every (prompt, sample), in output order.
    public static func requests(prompts: [Messages], config: Config) -> [ChatRequest] {
        prompts.flatMap { prompt in
            (0..<config.candidates).map { i in
                ChatRequest(messages: prompt, temperature: config.sampling.temperature, topP: config.sampling.topP,
                            maxTokens: config.sampling.maxTokens, seed: config.sampling.seed + Int64(i), sampleIndex: i)
            }
        }
    }

    public static func requests(_ work: Work) -> [ChatRequest] { work.requests }

    public func plan(_ context: StageContext, model: ModelIdentity?) throws -> StagePlan<Config, Work> {
        let input = try Rounds.input(context.store, experiment: context.experiment, iteration: config.round, role: .prompts,
                                     explicit: config.prompts.isEmpty ? nil : config.prompts, producedBy: "gen-prompts")
        var config = self.config
        config.model = model?.label ?? ""
        config.modelKey = model?.key ?? ""
        config.prompts = input.ref
        let prompts = try StageRows.prompts(context.store, input)
        return StagePlan(config: config, inputs: [input],
                         destination: .init(dataset: Self.dataset, kind: .candidates, round: config.round, role: .candidates),
                         seed: config.sampling.seed,
                         work: Work(prompts: prompts, requests: Self.requests(prompts: prompts.map(\.messages), config: config)))
    }

    public func execute(_ plan: StagePlan<Config, Work>, _ run: StageRun) async throws -> StageOutput {
        let (config, work) = (plan.config, plan.work)
        let answers = try await run.answers(work.requests, what: "candidate")
        return StageOutput(stats: [:]) { writer in
            for (index, answer) in answers.enumerated() {
                try Self.append(writer, prompt: work.prompts[index / config.candidates].id, request: work.requests[index],
                                answer: answer, model: config.model, modelKey: config.modelKey)
            }
        }
    }

    /// One candidates row: the answer with the sampling that made it, its token count and finish reason.
    public static func append(_ writer: VersionWriter, prompt: BlobID, request: ChatRequest, answer: ChatResponse,
                              model: String, modelKey: String) throws {
        try writer.append([
            "prompt": .blob(prompt),
            "response": .text(Blobs.text([.assistant(answer.text)])),
            "model": .text(model), "sample_index": .int(Int64(request.sampleIndex)),
            "temperature": .real(request.temperature), "top_p": .real(request.topP),
            "max_tokens": .int(Int64(request.maxTokens)), "seed": .int(request.seed),
            "completion_tokens": answer.completionTokens.map { .int(Int64($0)) } ?? .null,
            "finish_reason": answer.finishReason.map { .text($0) } ?? .null,
            "call_hash": .bytes(request.hash(modelKey: modelKey).bytes),
        ])
    }
}
