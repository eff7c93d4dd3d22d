import Foundation
import GRDB
import SRLMStore
import SRLMEngines

/// Step 2 of self-instruction creation: N candidate responses per prompt from model Mt (paper: N 4, T 0.7, p 0.9).
public struct GenCandidates: Sendable {
    public static let stage = "gen-candidates"
    public static let dataset = "candidates"

    public struct Config: Codable, Hashable, Sendable {
        public var round: Int
        public var candidates = 4
        public var sampling = Sampling(temperature: 0.7, topP: 0.9, maxTokens: 512)
        public var model: String = ""
        public var modelKey: String = ""
        public var prompts: String = ""

        public init(round: Int) { self.round = round }
    }

    public var config: Config
    public var promptsRef: String?
    public var concurrency: Int?

    public init(config: Config, promptsRef: String? = nil, concurrency: Int? = nil) {
        self.config = config
        self.promptsRef = promptsRef
        self.concurrency = concurrency
    }

    /// The requests for every (prompt, sample), in output order.
    static func requests(prompts: [Messages], config: Config) -> [ChatRequest] {
        prompts.flatMap { prompt in
            (0..<config.candidates).map { i in
                ChatRequest(messages: prompt, temperature: config.sampling.temperature, topP: config.sampling.topP,
                            maxTokens: config.sampling.maxTokens, seed: config.sampling.seed + Int64(i), sampleIndex: i)
            }
        }
    }

    /// What the stage will ask: its resolved config, input and requests (also what `srlm batch export` writes).
    public func plan(_ context: StageContext, label: String, modelKey: String)
        throws -> (config: Config, input: DatasetVersion, prompts: [(id: BlobID, messages: Messages)], requests: [ChatRequest]) {
        let input = try Rounds.input(context.store, experiment: context.experiment, iteration: config.round,
                                     role: "prompts", explicit: promptsRef, producedBy: "gen-prompts")
        var config = self.config
        config.model = label
        config.modelKey = modelKey
        config.prompts = input.ref
        let prompts: [(id: BlobID, messages: Messages)] = try context.store.read { db in
            try Row.fetchAll(db, sql: "SELECT prompt FROM prompt WHERE version_id = ? ORDER BY ord", arguments: [input.id])
                .map { row in let id: BlobID = row["prompt"]; return (id, try Blobs.messages(db, id)) }
        }
        return (config, input, prompts, Self.requests(prompts: prompts.map(\.messages), config: config))
    }

    /// The output of an earlier finished run with the same config and inputs, if any (no model needed).
    public func reusable(_ context: StageContext, label: String, modelKey: String) throws -> StageResult? {
        let (config, input, _, _) = try plan(context, label: label, modelKey: modelKey)
        return try context.reuse(stage: Self.stage, config: config, inputs: [input.id], round: config.round, role: "candidates")
    }

    public func run(_ context: StageContext, session: ModelSession) async throws -> StageResult {
        let (config, input, prompts, requests) = try plan(context, label: session.spec.label, modelKey: session.modelKey)
        if let reused = try context.reuse(stage: Self.stage, config: config, inputs: [input.id], round: config.round, role: "candidates") {
            return reused
        }
        let run = try context.beginRun(stage: Self.stage, config: config, inputs: [input.id], seed: config.sampling.seed,
                                       provenance: session.provenance)
        do {
            let progress = ProgressReporter(label: "gen-candidates", total: requests.count, quiet: context.quiet)
            let scheduler = CallScheduler(client: session.client, journal: Journal(store: context.store),
                                          modelKey: session.modelKey, concurrency: concurrency ?? session.slots, runID: run.id)
            let results = try await scheduler.run(requests, progress: progress)
            try StageContext.requireAnswers(results, what: "candidate")
            let totals = progress.totals
            let stats: [String: Any] = ["calls": totals.calls, "from_journal": totals.fromJournal,
                                        "completion_tokens": totals.tokens, "seconds": totals.seconds,
                                        "calls_per_s": Double(totals.calls) / max(totals.seconds, 1e-9),
                                        "tokens_per_s": Double(totals.tokens) / max(totals.seconds, 1e-9)]
            let version = try context.commit(run: run, round: config.round, role: "candidates", stats: { stats }) { db in
                let writer = try VersionWriter(db, experiment: context.experiment, name: Self.dataset, kind: .candidates, runID: run.id)
                for (index, result) in results.enumerated() {
                    guard case .success(let answer) = result else { continue }
                    let request = requests[index]
                    let prompt = prompts[index / config.candidates]
                    try writer.append([
                        "prompt": .blob(prompt.id),
                        "response": .text(Blobs.text([.assistant(answer.text)])),
                        "model": .text(config.model), "sample_index": .int(Int64(request.sampleIndex)),
                        "temperature": .real(request.temperature), "top_p": .real(request.topP),
                        "max_tokens": .int(Int64(request.maxTokens)), "seed": .int(request.seed),
                        "completion_tokens": answer.completionTokens.map { .int(Int64($0)) } ?? .null,
                        "finish_reason": answer.finishReason.map { .text($0) } ?? .null,
                        "call_hash": .bytes(request.hash(modelKey: session.modelKey).bytes),
                    ])
                }
                return try writer.finish()
            }
            return StageResult(version: version, runID: run.id, reused: false,
                               stats: ["calls": Double(totals.calls), "tokens": Double(totals.tokens), "seconds": totals.seconds])
        } catch {
            throw context.failRun(run, error)
        }
    }
}
