import Foundation
import SRLMEngines
import SRLMMetrics
import SRLMStages
import SRLMStore

/// Is the policy better? A judge compares A's and B's answers to the same prompts in both orders (the paper's
/// head-to-head protocol): a verdict that flips with the order counts as a tie. Figures: win / tie / loss rates of A
/// and the win rate with ties as half, each with a bootstrap 95 % interval over prompts, the judge's position
/// consistency, and a length-controlled win rate (AlpacaEval 2's GLM with the length term set to zero; see
/// `LengthControlledWinRate`). B may be another model's answers (`eval h2h`) or reference outputs (`eval winrate`).
/// The run records which judge gave the verdicts, so a self-judged and a third-party-judged result never mix.
public struct EvalCompare: Stage {
    public static let name = "eval-compare"
    public static let dataset = "comparisons"

    public struct Config: Codable, Hashable, Sendable {
        /// "h2h" (two models) or "winrate" (a model against reference outputs).
        public var kind = "h2h"
        /// The two sides' answers: candidates or ift versions; recorded resolved, as NAME@N.
        public var a = ""
        public var b = ""
        /// The models behind each side, as shown in results (the reference's name for a win rate).
        public var aModel = ""
        public var bModel = ""
        /// Greedy by default: a verdict should not depend on a sampling draw.
        public var sampling = Sampling(temperature: 0, topP: 1, maxTokens: 384)
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
        let judging: BothOrders
        let requests: [ChatRequest]
        var templateBlob: BlobID = 0
    }

    public var config: Config

    public init(config: Config) { self.config = config }

    public func plan(_ context: StageContext, model: ModelIdentity?) throws -> StagePlan<Config, Work> {
        let (a, b) = (try context.version(config.a), try context.version(config.b))
        let template = try PairwiseTemplate.resolve(context.store)
        var config = self.config
        (config.a, config.b) = (a.ref, b.ref)
        config.template = template.versionTag
        config.model = model?.label ?? ""
        config.modelKey = model?.key ?? ""
        var firstOfB: [BlobID: StageRows.Candidate] = [:]
        for row in try StageRows.responses(context.store, b) where firstOfB[row.prompt] == nil { firstOfB[row.prompt] = row }
        var seen = Set<BlobID>()
        let items = try StageRows.responses(context.store, a).compactMap { row -> BothOrders.Item? in
            guard seen.insert(row.prompt).inserted, let other = firstOfB[row.prompt] else { return nil }
            return BothOrders.Item(prompt: row.prompt, question: row.question, a: row.response, answerA: row.answer,
                                   b: other.response, answerB: other.answer)
        }
        let judging = BothOrders(template: template, sampling: config.sampling, structured: config.structured)
        return StagePlan(config: config, inputs: [a, b], destination: .init(dataset: Self.dataset, kind: .judgments),
                         seed: config.sampling.seed, work: Work(items: items, judging: judging, requests: judging.requests(items)))
    }

    public func prepare(_ plan: inout StagePlan<Config, Work>, _ context: StageContext) throws {
        plan.work.templateBlob = try plan.work.judging.template.register(context.store)
    }

    public func execute(_ plan: StagePlan<Config, Work>, _ run: StageRun) async throws -> StageOutput {
        let (config, work) = (plan.config, plan.work)
        guard !work.items.isEmpty else { throw SRLMError.invalid("\(config.a) and \(config.b) answer no prompt in common") }
        let answers = try await run.answers(work.requests, what: "comparison")
        let (verdicts, pairs) = BothOrders.verdicts(answers)
        let consistency = PositionConsistency.compute(pairs, bootstrap: BootstrapOptions(resamples: config.resamples))
        let decided = work.items.indices.filter { consistency.combined[$0] != nil }
        let outcomes = decided.map { consistency.combined[$0]!.outcomeForA }
        let bootstrap = BootstrapOptions(resamples: config.resamples)
        let h2h = HeadToHead.compute(outcomes: outcomes, bootstrap: bootstrap)
        let lc = LengthControlledWinRate.fit(outcomes: outcomes, modelLengths: decided.map { work.items[$0].answerA.count },
                                             referenceLengths: decided.map { work.items[$0].answerB.count }, bootstrap: bootstrap)
        var metrics = [EvalMetric("items", Double(work.items.count), n: work.items.count),
                       EvalMetric("decided", Double(decided.count), n: work.items.count),
                       EvalMetric("consistency", consistency.consistentShare, n: consistency.bothParsed)]
        for (name, estimate) in [("win", h2h.winRate), ("tie", h2h.tieRate), ("loss", h2h.lossRate), ("win_rate", h2h.winRateTiesHalf),
                                 ("lc_win_rate", lc?.lengthControlledWinRate)] {
            metrics.append(EvalMetric(name, estimate, n: decided.count))
        }
        metrics += [EvalMetric("lc_theta", lc?.theta), EvalMetric("lc_phi", lc?.phi),
                    EvalMetric("a_length", mean(work.items.map { Double($0.answerA.count) }), n: work.items.count),
                    EvalMetric("b_length", mean(work.items.map { Double($0.answerB.count) }), n: work.items.count)]
        var stats: [String: Any] = ["items": work.items.count, "decided": decided.count, "judge": config.model]
        stats.merge(metrics.stats) { $1 }
        return StageOutput(stats: stats) { writer in
            try work.judging.write(writer, items: work.items, requests: work.requests, answers: answers, shown: verdicts,
                                   judge: config.model, templateBlob: work.templateBlob, modelKey: config.modelKey)
            try EvalRecords.write(writer, run: run.record.id, metrics)
        }
    }

    func mean(_ values: [Double]) -> Double? { values.isEmpty ? nil : values.reduce(0, +) / Double(values.count) }
}
