import Foundation
import SRLMEngines
import SRLMStages
import SRLMStore

/// Can a model act as a judge at all? It judges a fixed probe set of (question, response) pairs free-form, one sample
/// each, and the run records how many outputs held a parseable score. Before EFT a small model's free-form judgments
/// rarely parse; the demo prints this rate before and after.
public struct JudgeProbe: Stage {
    public static let name = "judge-probe"
    public static let dataset = "probe-judgments"

    public struct Config: Codable, Hashable, Sendable {
        public var sampling = Sampling(temperature: 0.7, topP: 0.9, maxTokens: 256)
        /// The probe set: an ift dataset of (question, response) rows; recorded resolved, as NAME@N.
        public var probe = "probe"
        /// Filled by `plan`: the template's version tag, the judging model's label and journal key.
        public var template = ""
        public var model = ""
        public var modelKey = ""

        public init() {}
    }

    public struct Work: Sendable {
        let items: [StageRows.Candidate]
        let template: JudgeTemplate
        let requests: [ChatRequest]
        var templateBlob: BlobID = 0
    }

    public var config: Config
    /// A judge template file (nil: the built-in rubric), as `judge --template`.
    public var templateFile: String?

    public init(config: Config = Config(), templateFile: String? = nil) {
        self.config = config
        self.templateFile = templateFile
    }

    public func plan(_ context: StageContext, model: ModelIdentity?) throws -> StagePlan<Config, Work> {
        let probe = try context.version(config.probe)
        guard probe.kind == .ift else { throw SRLMError.wrongKind(ref: probe.ref, holds: probe.kind.rawValue, expected: "ift (question, response) rows") }
        let template = try JudgeTemplate.resolve(context.store, file: templateFile)
        var config = self.config
        config.probe = probe.ref
        config.template = template.versionTag
        config.model = model?.label ?? ""
        config.modelKey = model?.key ?? ""
        let items = try StageRows.responses(context.store, probe)
        let requests = items.map { template.request(question: $0.question, answer: $0.answer, sampling: config.sampling, structured: false) }
        return StagePlan(config: config, inputs: [probe], destination: .init(dataset: Self.dataset, kind: .judgments),
                         seed: config.sampling.seed, work: Work(items: items, template: template, requests: requests))
    }

    public func prepare(_ plan: inout StagePlan<Config, Work>, _ context: StageContext) throws {
        plan.work.templateBlob = try plan.work.template.register(context.store)
    }

    public func execute(_ plan: StagePlan<Config, Work>, _ run: StageRun) async throws -> StageOutput {
        let (config, work) = (plan.config, plan.work)
        let answers = try await run.answers(work.requests, what: "judge-probe")
        let rows = zip(work.items, zip(work.requests, answers)).map {
            JudgmentRow(prompt: $0.prompt, response: $0.response, request: $1.0, output: $1.1.text)
        }
        let parsed = rows.filter { $0.outcome.score != nil }.count
        return StageOutput(stats: ["judged": rows.count, "parsed": parsed,
                                   "parse_rate": rows.isEmpty ? 0 : Double(parsed) / Double(rows.count)]) { writer in
            for row in rows {
                try row.append(to: writer, judge: config.model, structured: false, template: work.templateBlob, modelKey: config.modelKey)
            }
        }
    }
}
