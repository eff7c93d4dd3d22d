import Foundation
import SRLMEngines
import SRLMMetrics
import SRLMStages
import SRLMStore

/// The loop's pointwise judge measured on pairwise human labels (`srlm eval judge --data LABELED_PAIRS`, the
/// default mode): each reply of a labelled pair is scored on its own with the loop's rubric, template and sampling
/// (k samples, averaged over those that parsed, as `eval judge` does), and the reply with the higher mean score is
/// the judge's verdict; equal means are a tie, and a reply with no parsed score leaves the item unparsed. The same
/// figures as `EvalPairwise` (accuracy over non-tie human labels, three-class agreement, Cohen's κ, unparsed
/// rate) and the sample parse rate; no position consistency, as no reply is shown beside another.
public struct EvalPointwisePairs: Stage {
    public static let name = "eval-pointwise-pairs"
    public static let dataset = "eval-pointwise-pair-judgments"

    public struct Config: Codable, Hashable, Sendable {
        /// The human-labelled pairs (a labeled_pairs version); recorded resolved, as NAME@N.
        public var data = EvalPairwise.Config().data
        public var samples = Judge.Config(round: 0).samples
        public var sampling = Judge.Config(round: 0).sampling
        public var structured = Judge.Config(round: 0).structured
        public var resamples = BootstrapOptions().resamples
        /// Filled by `plan`: the template's version tag, the judging model's label and journal key.
        public var template = ""
        public var model = ""
        public var modelKey = ""

        public init() {}
    }

    public struct Work: Sendable {
        let pairs: [StageRows.LabeledPair]
        let human: [Verdict]
        let template: JudgeTemplate
        let requests: [ChatRequest]
        var templateBlob: BlobID = 0
    }

    public var config: Config
    public var templateFile: String?

    public init(config: Config = Config(), templateFile: String? = nil) {
        self.config = config
        self.templateFile = templateFile
    }

    public func plan(_ context: StageContext, model: ModelIdentity?) throws -> StagePlan<Config, Work> {
        let (data, pairs, human) = try EvalPairwise.labeledPairs(context, config.data)
        let template = try JudgeTemplate.resolve(context.store, file: templateFile)
        var config = self.config
        config.data = data.ref
        config.template = template.versionTag
        config.model = model?.label ?? ""
        config.modelKey = model?.key ?? ""
        // Per pair: A's samples, then B's.
        let requests = pairs.flatMap { pair in
            [pair.answerA, pair.answerB].flatMap { answer in
                template.requests(question: pair.question, answer: answer, samples: config.samples, sampling: config.sampling,
                                  structured: config.structured)
            }
        }
        return StagePlan(config: config, inputs: [data], destination: .init(dataset: Self.dataset, kind: .judgments),
                         seed: config.sampling.seed,
                         work: Work(pairs: pairs, human: human, template: template,
                                    requests: requests))
    }

    public func prepare(_ plan: inout StagePlan<Config, Work>, _ context: StageContext) throws {
        plan.work.templateBlob = try plan.work.template.register(context.store)
    }

    public func execute(_ plan: StagePlan<Config, Work>, _ run: StageRun) async throws -> StageOutput {
        let (config, work) = (plan.config, plan.work)
        guard !work.pairs.isEmpty else { throw SRLMError.invalid("\(config.data) holds no labelled pair") }
        guard config.samples > 0 else { throw SRLMError.invalid("samples must be at least 1, not \(config.samples)") }
        let answers = try await run.answers(work.requests, what: "eval judge")
        let k = config.samples
        let rows = zip(work.requests, answers).enumerated().map { index, call in
            let pair = work.pairs[index / (2 * k)]
            return JudgmentRow(prompt: pair.prompt, response: (index / k) % 2 == 0 ? pair.responseA : pair.responseB,
                               request: call.0, output: call.1.text)
        }
        let scores = rows.map(\.outcome.score)
        let verdicts = work.pairs.indices.map { i in
            Self.verdict(a: scores[(2 * i * k)..<((2 * i + 1) * k)], b: scores[((2 * i + 1) * k)..<((2 * i + 2) * k)])
        }
        let bootstrap = BootstrapOptions(resamples: config.resamples)
        let parsed = scores.count { $0 != nil }
        let metrics = EvalPairwise.agreementMetrics(human: work.human, judge: verdicts, bootstrap: bootstrap)
            + [EvalMetric("sample_parse_rate", Double(parsed) / Double(scores.count), n: scores.count)]
        var stats: [String: Any] = ["items": work.pairs.count, "judgments": rows.count, "judge": config.model]
        stats.merge(metrics.stats) { $1 }
        return StageOutput(stats: stats) { writer in
            for row in rows {
                try row.append(to: writer, judge: config.model, structured: config.structured, template: work.templateBlob,
                               modelKey: config.modelKey)
            }
            try EvalRecords.write(writer, run: run.record.id, metrics)
        }
    }

    /// The verdict of two replies' samples: the higher mean of the parsed scores wins, equal means tie; nil when
    /// either reply has no parsed score.
    static func verdict(a: ArraySlice<Double?>, b: ArraySlice<Double?>) -> Verdict? {
        func mean(_ scores: ArraySlice<Double?>) -> Double? {
            let parsed = scores.compactMap { $0 }
            return parsed.isEmpty ? nil : parsed.reduce(0, +) / Double(parsed.count)
        }
        guard let x = mean(a), let y = mean(b) else { return nil }
        return x > y ? .a : x < y ? .b : .tie
    }
}
