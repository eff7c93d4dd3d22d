import Foundation
import SRLMStore
import SRLMEngines

/// Step 3: model Mt judges each candidate with the additive 5-point prompt, k samples (paper: 3, averaged later).
/// Free-form by default; `structured` constrains the output to end with a valid score line.
public struct Judge: BatchableStage {
    public static let name = "judge"
    public static let dataset = "judgments"

    public struct Config: Codable, Hashable, Sendable {
        public var round: Int
        public var samples = 3
        public var sampling = Sampling(temperature: 0.7, topP: 0.9, maxTokens: 256)
        public var structured = false
        /// The candidates to judge ("": the round's gen-candidates output); recorded resolved, as NAME@N.
        public var candidates = ""
        /// Filled by `plan`: the template's version tag, the judging model's label and journal key.
        public var template = ""
        public var model = ""
        public var modelKey = ""
        /// With `--rubrics DIR`: each category's rubric, as its template's version tag (nil: one rubric for all).
        public var rubrics: [String: String]?

        public init(round: Int) { self.round = round }
    }

    public struct Work: Sendable {
        let items: [StageRows.Candidate]
        /// The default rubric first, then the category rubrics; `itemTemplate[i]` indexes item i's.
        let templates: [JudgeTemplate]
        let itemTemplate: [Int]
        let requests: [ChatRequest]
        /// Set by `prepare`: the stored templates, which every judgments row names (its own).
        var templateBlobs: [BlobID] = []
        var template: JudgeTemplate { templates[0] }
    }

    public var config: Config
    /// A template file replacing the built-in rubric (its identity is the version recorded in the config).
    public var templateFile: String?
    /// false: the judgments are not recorded as the round's (another judge's view of the same candidates, e.g. the
    /// previous round's model, for `queries/judge-agreement.sql`).
    public var recordsRound: Bool

    /// A folder of `<category>.txt` rubrics (`coding.txt`, `math.txt`, …): each prompt categorized by `srlm
    /// categorize` is judged with its category's rubric; the rest with the default one.
    public var rubricsDirectory: String?

    public init(config: Config, templateFile: String? = nil, recordsRound: Bool = true, rubricsDirectory: String? = nil) {
        self.config = config
        self.templateFile = templateFile
        self.recordsRound = recordsRound
        self.rubricsDirectory = rubricsDirectory
    }

    /// The rubrics of a folder, by category; a file named for no category is an error naming it.
    static func rubrics(_ store: Store, directory: String) throws -> [(category: String, template: JudgeTemplate)] {
        let files: [String]
        do { files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".txt") }.sorted() } catch {
            throw SRLMError.notFound("rubrics folder \(directory): cannot read it (\(error.localizedDescription))")
        }
        guard !files.isEmpty else { throw SRLMError.invalid("rubrics folder \(directory) holds no <category>.txt file") }
        return try files.map { file in
            let category = String(file.dropLast(4))
            guard PromptCategory(rawValue: category) != nil else {
                throw SRLMError.invalid("\(directory)/\(file): not a category (\(PromptCategory.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return (category, try JudgeTemplate.resolve(store, file: directory + "/" + file, name: "judge-rubric-\(category)"))
        }
    }

    public static func requests(_ work: Work) -> [ChatRequest] { work.requests }

    /// k requests per item (sample k uses seed + k), items in order.
    static func requests(_ items: [StageRows.Candidate], template: JudgeTemplate, samples: Int, sampling: Sampling,
                         structured: Bool) -> [ChatRequest] {
        items.flatMap { template.requests(question: $0.question, answer: $0.answer, samples: samples, sampling: sampling, structured: structured) }
    }

    public func plan(_ context: StageContext, model: ModelIdentity?) throws -> StagePlan<Config, Work> {
        let input = try Rounds.input(context.store, experiment: context.experiment, iteration: config.round, role: .candidates,
                                     explicit: config.candidates.isEmpty ? nil : config.candidates, producedBy: "gen-candidates")
        let template = try JudgeTemplate.resolve(context.store, file: templateFile)
        var config = self.config
        config.template = template.versionTag
        config.model = model?.label ?? ""
        config.modelKey = model?.key ?? ""
        config.candidates = input.ref
        let items = try StageRows.responses(context.store, input)
        var templates = [template], itemTemplate = [Int](repeating: 0, count: items.count)
        if let rubricsDirectory {
            let rubrics = try Self.rubrics(context.store, directory: rubricsDirectory)
            config.rubrics = Dictionary(uniqueKeysWithValues: rubrics.map { ($0.category, $0.template.versionTag) })
            templates += rubrics.map(\.template)
            let categories = try StageRows.categories(context.store, experiment: context.experiment)
            let index = Dictionary(uniqueKeysWithValues: rubrics.enumerated().map { ($1.category, $0 + 1) })
            itemTemplate = items.map { categories[$0.prompt].flatMap { index[$0] } ?? 0 }
        }
        let requests = items.indices.flatMap { i in
            templates[itemTemplate[i]].requests(question: items[i].question, answer: items[i].answer, samples: config.samples,
                                                sampling: config.sampling, structured: config.structured)
        }
        return StagePlan(config: config, inputs: [input],
                         destination: .init(dataset: Self.dataset, kind: .judgments, round: recordsRound ? config.round : nil,
                                            role: recordsRound ? .judgments : nil),
                         seed: config.sampling.seed, work: Work(items: items, templates: templates, itemTemplate: itemTemplate, requests: requests))
    }

    public func prepare(_ plan: inout StagePlan<Config, Work>, _ context: StageContext) throws {
        plan.work.templateBlobs = try plan.work.templates.map { try $0.register(context.store) }
    }

    public func execute(_ plan: StagePlan<Config, Work>, _ run: StageRun) async throws -> StageOutput {
        let (config, work) = (plan.config, plan.work)
        let answers = try await run.answers(work.requests, what: "judge")
        let rows = zip(work.requests, answers).enumerated().map { index, call in
            JudgmentRow(prompt: work.items[index / config.samples].prompt, response: work.items[index / config.samples].response,
                        request: call.0, output: call.1.text)
        }
        let parsed = rows.filter { $0.outcome.score != nil }.count
        return StageOutput(stats: ["judgments": rows.count, "parsed": parsed,
                                   "parse_rate": rows.isEmpty ? 0 : Double(parsed) / Double(rows.count)]) { writer in
            for (index, row) in rows.enumerated() {
                try row.append(to: writer, judge: config.model, structured: config.structured,
                               template: work.templateBlobs[work.itemTemplate[index / config.samples]], modelKey: config.modelKey)
            }
        }
    }
}

/// One judgments row: the raw output with its parsed score, or the parse failure (never a made-up number). The
/// judge, build-eft's judged targets, judge-probe and eval judge all write their judgments through it.
public struct JudgmentRow: Sendable {
    public let prompt: BlobID
    public let response: BlobID
    public let request: ChatRequest
    public let output: String
    public let outcome: ScoreParser.Outcome

    public init(prompt: BlobID, response: BlobID, request: ChatRequest, output: String) {
        self.prompt = prompt
        self.response = response
        self.request = request
        self.output = output
        self.outcome = ScoreParser.parse(output)
    }

    public func append(to writer: VersionWriter, judge: String, structured: Bool, template: BlobID, modelKey: String) throws {
        try writer.append([
            "prompt": .blob(prompt), "response": .blob(response),
            "judge_model": .text(judge), "sample_index": .int(Int64(request.sampleIndex)),
            "output": .text(output), "score": outcome.score.map { .real($0) } ?? .null,
            "parse_error": outcome.failure.map { .text($0) } ?? .null,
            "mode": .text(structured ? "structured" : "free"), "template": .blob(template),
            "call_hash": .bytes(request.hash(modelKey: modelKey).bytes),
        ])
    }
}
