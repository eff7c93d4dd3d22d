import Foundation
import SRLMEngines
import SRLMMetrics
import SRLMStages
import SRLMStore

/// The judge against human pairwise labels (`srlm eval judge --mode pairwise`): the judge reads each labelled
/// pair's two replies with the pairwise template and names the better one, in both orders (MT-Bench's protocol).
/// The verdict that counts is the one that survives the swap; a verdict that flips with the order is a tie, and an
/// item where either order gave no verdict is unparsed. Figures, with bootstrap 95 % intervals over items
/// (`PairwiseAgreement`, `PositionConsistency`): accuracy over the items people did not call a tie (a judge tie or
/// an unparsed item is wrong), three-class agreement (a, b, tie) over all items, Cohen's κ over the parsed items,
/// the unparsed rate, and position consistency (same verdict after the swap, over items whose both orders parsed).
public struct EvalPairwise: Stage {
    public static let name = "eval-pairwise"
    public static let dataset = "eval-pairwise-judgments"

    public struct Config: Codable, Hashable, Sendable {
        /// The human-labelled pairs (a labeled_pairs version); recorded resolved, as NAME@N.
        public var data = "labeled-pairs"
        /// Greedy, as the head-to-head judge: a verdict should not depend on a sampling draw.
        public var sampling = EvalCompare.Config().sampling
        public var structured = false
        public var resamples = BootstrapOptions().resamples
        /// Filled by `plan`: the template's version tag, the judge's label and journal key.
        public var template = ""
        public var model = ""
        public var modelKey = ""

        public init() {}
    }

    public struct Work: Sendable {
        let items: [BothOrders.Item]
        let human: [Verdict]
        let judging: BothOrders
        let requests: [ChatRequest]
        var templateBlob: BlobID = 0
    }

    public var config: Config

    public init(config: Config = Config()) { self.config = config }

    public func plan(_ context: StageContext, model: ModelIdentity?) throws -> StagePlan<Config, Work> {
        let (data, rows, human) = try Self.labeledPairs(context, config.data)
        let template = try PairwiseTemplate.resolve(context.store)
        var config = self.config
        config.data = data.ref
        config.template = template.versionTag
        config.model = model?.label ?? ""
        config.modelKey = model?.key ?? ""
        let items = rows.map { BothOrders.Item(prompt: $0.prompt, question: $0.question, a: $0.responseA, answerA: $0.answerA,
                                               b: $0.responseB, answerB: $0.answerB) }
        let judging = BothOrders(template: template, sampling: config.sampling, structured: config.structured)
        return StagePlan(config: config, inputs: [data], destination: .init(dataset: Self.dataset, kind: .judgments),
                         seed: config.sampling.seed,
                         work: Work(items: items, human: human, judging: judging, requests: judging.requests(items)))
    }

    public func prepare(_ plan: inout StagePlan<Config, Work>, _ context: StageContext) throws {
        plan.work.templateBlob = try plan.work.judging.template.register(context.store)
    }

    public func execute(_ plan: StagePlan<Config, Work>, _ run: StageRun) async throws -> StageOutput {
        let (config, work) = (plan.config, plan.work)
        guard !work.items.isEmpty else { throw SRLMError.invalid("\(config.data) holds no labelled pair") }
        let answers = try await run.answers(work.requests, what: "pairwise judgment")
        let (shown, pairs) = BothOrders.verdicts(answers)
        let metrics = Self.metrics(human: work.human, pairs: pairs, bootstrap: BootstrapOptions(resamples: config.resamples))
        var stats: [String: Any] = ["items": work.items.count, "judgments": answers.count, "judge": config.model]
        stats.merge(metrics.stats) { $1 }
        return StageOutput(stats: stats) { writer in
            try work.judging.write(writer, items: work.items, requests: work.requests, answers: answers, shown: shown,
                                   judge: config.model, templateBlob: work.templateBlob, modelKey: config.modelKey)
            try EvalRecords.write(writer, run: run.record.id, metrics)
        }
    }

    /// A labeled-pairs version, its rows and their human verdicts: what every judge measured on pairwise labels reads.
    static func labeledPairs(_ context: StageContext, _ ref: String) throws -> (DatasetVersion, [StageRows.LabeledPair], [Verdict]) {
        let data = try context.version(ref)
        guard data.kind == .labeledPairs else {
            throw SRLMError.wrongKind(ref: data.ref, holds: data.kind.rawValue, expected: "labeled pairs (srlm import labeled-pairs)")
        }
        let rows = try StageRows.labeledPairs(context.store, data)
        return (data, rows, try humanVerdicts(rows, data))
    }

    /// The human verdicts of a labeled-pairs version's rows.
    static func humanVerdicts(_ rows: [StageRows.LabeledPair], _ data: DatasetVersion) throws -> [Verdict] {
        try rows.map { row in
            // The schema's CHECK admits only these three.
            guard let verdict = Verdict(rawValue: row.label) else { throw SRLMError.invalid("\(data.ref): label '\(row.label)' is not a, b or tie") }
            return verdict
        }
    }

    /// The figures as stored, from the human verdicts and each item's two verdicts (the swapped one mapped back):
    /// `items`, `decided` (both orders parsed), `decisive` (human verdict not a tie), `consistency`, `accuracy`,
    /// `agreement`, `kappa` and `unparsed_rate`, each with its interval and the count it is over.
    static func metrics(human: [Verdict], pairs: [PositionPair], bootstrap: BootstrapOptions) -> [EvalMetric] {
        let consistency = PositionConsistency.compute(pairs, bootstrap: bootstrap)
        return agreementMetrics(human: human, judge: consistency.combined, bootstrap: bootstrap)
            + [EvalMetric("consistency", consistency.consistentShare, n: consistency.bothParsed)]
    }

    /// What every judge measured on labelled pairs reports, from its verdicts (nil: none): `items`, `decided`
    /// (a verdict), `decisive` (human verdict not a tie), `accuracy`, `agreement`, `kappa` and `unparsed_rate`.
    static func agreementMetrics(human: [Verdict], judge: [Verdict?], bootstrap: BootstrapOptions) -> [EvalMetric] {
        let agreement = PairwiseAgreement.compute(zip(human, judge).map { PairwiseItem(human: $0, judge: $1) }, bootstrap: bootstrap)
        return [EvalMetric("items", Double(agreement.items), n: agreement.items),
                EvalMetric("decided", Double(agreement.items - agreement.unparsed), n: agreement.items),
                EvalMetric("decisive", Double(agreement.decisiveItems), n: agreement.items),
                EvalMetric("accuracy", agreement.accuracy, n: agreement.decisiveItems),
                EvalMetric("agreement", agreement.agreement, n: agreement.items),
                EvalMetric("kappa", agreement.kappa, n: agreement.items - agreement.unparsed),
                EvalMetric("unparsed_rate", agreement.unparsedRate, n: agreement.items)]
    }
}
