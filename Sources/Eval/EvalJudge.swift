import Foundation
import SRLMEngines
import SRLMMetrics
import SRLMStages
import SRLMStore

/// The judge against human rankings (the paper's Table 4): the model judges every reply of a human-ranked version
/// with the loop's own rubric, template and sampling (`Judge.Config`'s defaults), and the run stores its judgments
/// as a version and its figures in `eval_metric`, with bootstrap intervals and the random-judge baseline.
/// Prompts that appear in an `exclude` version (the IFT data; an EFT version's train split) are left out, so what is
/// measured is held out from training.
public struct EvalJudge: Stage {
    public static let name = "eval-judge"
    public static let dataset = "eval-judgments"

    public struct Config: Codable, Hashable, Sendable {
        /// The human-ranked replies; recorded resolved, as NAME@N.
        public var data = "ranked"
        /// Versions whose prompts were trained on and are left out (an eft version: its train split only).
        public var exclude: [String] = []
        public var samples = Judge.Config(round: 0).samples
        public var sampling = Judge.Config(round: 0).sampling
        public var structured = Judge.Config(round: 0).structured
        /// Bootstrap resamples for the intervals, and the random-judge repetitions.
        public var resamples = BootstrapOptions().resamples
        public var randomRepetitions = RandomJudgeOptions().repetitions
        /// Also each figure per prompt category (`metric@category`; the prompt's stored category from `srlm
        /// categorize`, else the keyword rules). nil (off) stays out of the recorded config.
        public var byCategory: Bool?
        /// Filled by `plan`: the template's version tag, the judging model's label and journal key.
        public var template = ""
        public var model = ""
        public var modelKey = ""

        public init() {}
    }

    public struct Work: Sendable {
        let groups: [[StageRows.RankedReply]]
        /// Each group's category, when figures per category are asked for.
        var categories: [String] = []
        let template: JudgeTemplate
        let requests: [ChatRequest]
        let held: Int
        var templateBlob: BlobID = 0
    }

    public var config: Config
    public var templateFile: String?

    public init(config: Config = Config(), templateFile: String? = nil) {
        self.config = config
        self.templateFile = templateFile
    }

    public func plan(_ context: StageContext, model: ModelIdentity?) throws -> StagePlan<Config, Work> {
        let data = try context.version(config.data)
        guard data.kind == .ranked else { throw SRLMError.wrongKind(ref: data.ref, holds: data.kind.rawValue, expected: "ranked replies") }
        let excluded = try config.exclude.map { try context.version($0) }
        var trained = Set<BlobID>()
        for version in excluded { trained.formUnion(try StageRows.trainedPrompts(context.store, version)) }
        let template = try JudgeTemplate.resolve(context.store, file: templateFile)
        var config = self.config
        config.data = data.ref
        config.exclude = excluded.map(\.ref)
        config.template = template.versionTag
        config.model = model?.label ?? ""
        config.modelKey = model?.key ?? ""
        var byPrompt: [BlobID: [StageRows.RankedReply]] = [:], order: [BlobID] = []
        for reply in try StageRows.rankedReplies(context.store, data) where !trained.contains(reply.prompt) {
            if byPrompt[reply.prompt] == nil { order.append(reply.prompt) }
            byPrompt[reply.prompt, default: []].append(reply)
        }
        let groups = order.map { byPrompt[$0]! }.filter { $0.count >= 2 }
        let requests = groups.flatMap { $0 }.flatMap { reply in
            template.requests(question: reply.question, answer: reply.answer, samples: config.samples, sampling: config.sampling,
                              structured: config.structured)
        }
        var work = Work(groups: groups, template: template, requests: requests, held: order.count)
        if config.byCategory == true {
            let stored = try StageRows.categories(context.store, experiment: context.experiment)
            work.categories = groups.map { group in
                stored[group[0].prompt] ?? PromptCategory.byRules(group[0].question.last { $0.role == "user" }?.content ?? "").rawValue
            }
        }
        return StagePlan(config: config, inputs: [data] + excluded, destination: .init(dataset: Self.dataset, kind: .judgments),
                         seed: config.sampling.seed, work: work)
    }

    public func prepare(_ plan: inout StagePlan<Config, Work>, _ context: StageContext) throws {
        plan.work.templateBlob = try plan.work.template.register(context.store)
    }

    public func execute(_ plan: StagePlan<Config, Work>, _ run: StageRun) async throws -> StageOutput {
        let (config, work) = (plan.config, plan.work)
        guard !work.groups.isEmpty else {
            throw SRLMError.invalid("\(config.data): no prompt with 2 or more replies is left to evaluate after the exclusions")
        }
        let answers = try await run.answers(work.requests, what: "eval judge")
        let replies = work.groups.flatMap { $0 }
        let rows = zip(work.requests, answers).enumerated().map { index, call in
            JudgmentRow(prompt: replies[index / config.samples].prompt, response: replies[index / config.samples].reply,
                        request: call.0, output: call.1.text)
        }
        var next = 0
        let prompts = work.groups.map { group in
            RankedPrompt(replies: group.map { reply in
                defer { next += config.samples }
                return RankedReply(humanRank: reply.rank, scores: rows[next..<(next + config.samples)].map(\.outcome.score),
                                   length: reply.answer.count)
            })
        }
        let agreement = RankedAgreement.compute(prompts, bootstrap: BootstrapOptions(resamples: config.resamples),
                                                randomJudge: RandomJudgeOptions(repetitions: config.randomRepetitions, scores: ScoreParser.scores))
        let metrics = Self.metrics(agreement) + Self.categoryMetrics(prompts, categories: work.categories,
                                                                     bootstrap: BootstrapOptions(resamples: config.resamples))
        // Which random judge the random.* figures are: the scores it drew from (runs before 0 was drawn used 1–5).
        var stats: [String: Any] = ["prompts": work.groups.count, "replies": replies.count, "judgments": rows.count,
                                    "random_scores": Self.scoreRange(agreement.randomJudge.scores)]
        stats.merge(metrics.filter { !$0.metric.hasPrefix("random.") }.stats) { $1 }
        return StageOutput(stats: stats) { writer in
            for row in rows {
                try row.append(to: writer, judge: config.model, structured: config.structured, template: work.templateBlob,
                               modelKey: config.modelKey)
            }
            try EvalRecords.write(writer, run: run.record.id, metrics)
        }
    }

    /// "0–5": a random judge's score range as its runs record it.
    static func scoreRange(_ scores: ClosedRange<Int>) -> String { "\(scores.lowerBound)–\(scores.upperBound)" }

    /// Every figure again within each category (`metric@category`, no random-judge baseline): which kinds of task the
    /// judge ranks as people do.
    static func categoryMetrics(_ prompts: [RankedPrompt], categories: [String], bootstrap: BootstrapOptions) -> [EvalMetric] {
        guard categories.count == prompts.count else { return [] }
        var order: [String] = []
        var groups: [String: [RankedPrompt]] = [:]
        for (prompt, category) in zip(prompts, categories) {
            if groups[category] == nil { order.append(category) }
            groups[category, default: []].append(prompt)
        }
        return order.sorted().flatMap { category in
            metrics(RankedAgreement.compute(groups[category]!, bootstrap: bootstrap, randomJudge: RandomJudgeOptions(repetitions: 1)))
                .filter { !$0.metric.hasPrefix("random.") }
                .map { EvalMetric("\($0.metric)@\(category)", $0.value, lo: $0.lo, hi: $0.hi, n: $0.n) }
        }
    }

    /// The figures as stored: each metric with its interval and count, and `random.<metric>` for the baseline (its
    /// mean over repetitions, with the 2.5 / 97.5 percentiles as lo / hi).
    static func metrics(_ agreement: RankedAgreement) -> [EvalMetric] {
        let c = agreement.counts
        var out = [EvalMetric("prompts", Double(c.promptsUsed), n: c.promptsUsed),
                   EvalMetric("comparable_pairs", Double(c.comparablePairs), n: c.promptsUsed)]
        for metric in RankedMetric.allCases {
            let n: Int
            switch metric {
            case .pairwiseAccuracy, .pairwiseAccuracyTiesHalf, .judgeTieRate: n = c.comparablePairs
            case .fiveBest: n = c.fiveBestPrompts
            case .exactMatch: n = c.exactMatchPrompts
            case .spearmanPerPrompt: n = c.spearmanPrompts
            case .kendallPerPrompt: n = c.kendallPrompts
            case .sampleParseRate: n = c.samples
            case .spearmanPooled, .kendallPooled, .lengthSpearman, .lengthPearson: n = c.scoredReplies
            }
            let estimate = agreement[metric]
            out.append(EvalMetric(metric.rawValue, estimate, n: n))
            if let spread = agreement.randomJudge[metric] {
                out.append(EvalMetric("random." + metric.rawValue, spread.mean, lo: spread.low, hi: spread.high,
                                      n: agreement.randomJudge.repetitions))
            }
        }
        return out
    }
}
