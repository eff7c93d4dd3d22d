import Foundation
import GRDB
import SRLMStore
import SRLMEngines

/// Step 3: model Mt judges each candidate with the additive 5-point prompt, k samples (paper: 3, averaged later).
/// Free-form by default; `structured` constrains the output to end with a valid score line.
public struct Judge: Sendable {
    public static let stage = "judge"
    public static let dataset = "judgments"

    public struct Config: Codable, Hashable, Sendable {
        public var round: Int
        public var samples = 3
        public var sampling = Sampling(temperature: 0.7, topP: 0.9, maxTokens: 256)
        public var structured = false
        public var template = ""
        public var model = ""
        public var modelKey = ""
        public var candidates = ""

        public init(round: Int) { self.round = round }
    }

    public var config: Config
    public var candidatesRef: String?
    public var templateFile: String?
    public var concurrency: Int?

    public init(config: Config, candidatesRef: String? = nil, templateFile: String? = nil, concurrency: Int? = nil) {
        self.config = config
        self.candidatesRef = candidatesRef
        self.templateFile = templateFile
        self.concurrency = concurrency
    }

    public struct Item: Sendable {
        let prompt: BlobID
        let response: BlobID
        let question: Messages
        let answer: String
    }

    /// What the stage will ask: its resolved config, input, judged items and requests (also what `srlm batch
    /// export` writes).
    public func plan(_ context: StageContext, label: String, modelKey: String)
        throws -> (config: Config, input: DatasetVersion, items: [Item], templateBlob: BlobID, requests: [ChatRequest]) {
        let input = try Rounds.input(context.store, experiment: context.experiment, iteration: config.round,
                                     role: "candidates", explicit: candidatesRef, producedBy: "gen-candidates")
        let (template, templateBlob) = try JudgeTemplate.load(context.store, file: templateFile)
        var config = self.config
        config.template = template.versionTag
        config.model = label
        config.modelKey = modelKey
        config.candidates = input.ref
        let items: [Item] = try context.store.read { db in
            try Row.fetchAll(db, sql: "SELECT prompt, response FROM candidate WHERE version_id = ? ORDER BY ord", arguments: [input.id])
                .map { row in
                    let p: BlobID = row["prompt"], r: BlobID = row["response"]
                    return Item(prompt: p, response: r, question: try Blobs.messages(db, p),
                                answer: try Blobs.messages(db, r).lastContent)
                }
        }
        let requests = items.flatMap { item in
            (0..<config.samples).map { k in
                template.request(question: item.question, answer: item.answer, sampling: config.sampling, sample: k,
                                 structured: config.structured)
            }
        }
        return (config, input, items, templateBlob, requests)
    }

    /// The output of an earlier finished run with the same config and inputs, if any (no model needed).
    public func reusable(_ context: StageContext, label: String, modelKey: String) throws -> StageResult? {
        let (config, input, _, _, _) = try plan(context, label: label, modelKey: modelKey)
        return try context.reuse(stage: Self.stage, config: config, inputs: [input.id], round: config.round, role: "judgments")
    }

    /// One judgments row: the raw output with its parsed score, or the parse failure (never a made-up number).
    /// Returns whether a score parsed.
    public static func append(_ writer: VersionWriter, prompt: BlobID, response: BlobID, judge: String, request: ChatRequest,
                              output: String, structured: Bool, template: BlobID, modelKey: String) throws -> Bool {
        let outcome = ScoreParser.parse(output)
        try writer.append([
            "prompt": .blob(prompt), "response": .blob(response),
            "judge_model": .text(judge), "sample_index": .int(Int64(request.sampleIndex)),
            "output": .text(output), "score": outcome.score.map { .real($0) } ?? .null,
            "parse_error": outcome.failure.map { .text($0) } ?? .null,
            "mode": .text(structured ? "structured" : "free"), "template": .blob(template),
            "call_hash": .bytes(request.hash(modelKey: modelKey).bytes),
        ])
        return outcome.score != nil
    }

    public func run(_ context: StageContext, session: ModelSession) async throws -> StageResult {
        let (config, input, items, templateBlob, requests) = try plan(context, label: session.spec.label, modelKey: session.modelKey)
        if let reused = try context.reuse(stage: Self.stage, config: config, inputs: [input.id], round: config.round, role: "judgments") {
            return reused
        }
        let run = try context.beginRun(stage: Self.stage, config: config, inputs: [input.id], seed: config.sampling.seed,
                                       provenance: session.provenance)
        do {
            let progress = ProgressReporter(label: "judge", total: requests.count, quiet: context.quiet)
            let scheduler = CallScheduler(client: session.client, journal: Journal(store: context.store),
                                          modelKey: session.modelKey, concurrency: concurrency ?? session.slots, runID: run.id)
            let results = try await scheduler.run(requests, progress: progress)
            try StageContext.requireAnswers(results, what: "judge")
            var parsed = 0
            let totals = progress.totals
            let stats = { () -> [String: Any] in
                ["judgments": results.count, "parsed": parsed,
                 "parse_rate": results.isEmpty ? 0 : Double(parsed) / Double(results.count),
                 "calls": totals.calls, "from_journal": totals.fromJournal,
                 "completion_tokens": totals.tokens, "seconds": totals.seconds]
            }
            let version = try context.commit(run: run, round: config.round, role: "judgments", stats: stats) { db in
                let writer = try VersionWriter(db, experiment: context.experiment, name: Self.dataset, kind: .judgments, runID: run.id)
                for (index, result) in results.enumerated() {
                    guard case .success(let answer) = result else { continue }
                    let item = items[index / config.samples]
                    if try Self.append(writer, prompt: item.prompt, response: item.response, judge: config.model,
                                       request: requests[index], output: answer.text, structured: config.structured,
                                       template: templateBlob, modelKey: session.modelKey) {
                        parsed += 1
                    }
                }
                return try writer.finish()
            }
            return StageResult(version: version, runID: run.id, reused: false,
                               stats: ["judgments": Double(results.count), "parsed": Double(parsed)])
        } catch {
            throw context.failRun(run, error)
        }
    }
}
