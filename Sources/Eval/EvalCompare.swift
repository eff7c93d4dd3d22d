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

    public struct Item: Sendable {
        let prompt: BlobID
        let question: Messages
        let a: StageRows.Candidate
        let b: StageRows.Candidate
    }

    public struct Work: Sendable {
        let items: [Item]
        let template: PairwiseTemplate
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
        let items = try StageRows.responses(context.store, a).compactMap { row -> Item? in
            guard seen.insert(row.prompt).inserted, let other = firstOfB[row.prompt] else { return nil }
            return Item(prompt: row.prompt, question: row.question, a: row, b: other)
        }
        let requests = items.flatMap { item in
            [template.request(question: item.question, first: item.a.answer, second: item.b.answer, sampling: config.sampling,
                              order: 0, structured: config.structured),
             template.request(question: item.question, first: item.b.answer, second: item.a.answer, sampling: config.sampling,
                              order: 1, structured: config.structured)]
        }
        return StagePlan(config: config, inputs: [a, b], destination: .init(dataset: Self.dataset, kind: .judgments),
                         seed: config.sampling.seed, work: Work(items: items, template: template, requests: requests))
    }

    public func prepare(_ plan: inout StagePlan<Config, Work>, _ context: StageContext) throws {
        plan.work.templateBlob = try plan.work.template.register(context.store)
    }

    public func execute(_ plan: StagePlan<Config, Work>, _ run: StageRun) async throws -> StageOutput {
        let (config, work) = (plan.config, plan.work)
        guard !work.items.isEmpty else { throw SRLMError.invalid("\(config.a) and \(config.b) answer no prompt in common") }
        let answers = try await run.answers(work.requests, what: "comparison")
        let verdicts = answers.map { PairwiseTemplate.verdict($0.text) }
        let pairs = work.items.indices.map { i in PositionPair(inOrder: verdicts[2 * i], swapped: verdicts[2 * i + 1]?.swapped) }
        let consistency = PositionConsistency.compute(pairs, bootstrap: BootstrapOptions(resamples: config.resamples))
        let decided = work.items.indices.filter { consistency.combined[$0] != nil }
        let outcomes = decided.map { consistency.combined[$0]!.outcomeForA }
        let bootstrap = BootstrapOptions(resamples: config.resamples)
        let h2h = HeadToHead.compute(outcomes: outcomes, bootstrap: bootstrap)
        let lc = LengthControlledWinRate.fit(outcomes: outcomes, modelLengths: decided.map { work.items[$0].a.answer.count },
                                             referenceLengths: decided.map { work.items[$0].b.answer.count }, bootstrap: bootstrap)
        var metrics = [EvalMetric("items", Double(work.items.count), n: work.items.count),
                       EvalMetric("decided", Double(decided.count), n: work.items.count),
                       EvalMetric("consistency", consistency.consistentShare?.value, lo: consistency.consistentShare?.interval?.low,
                                  hi: consistency.consistentShare?.interval?.high, n: consistency.bothParsed)]
        for (name, estimate) in [("win", h2h.winRate), ("tie", h2h.tieRate), ("loss", h2h.lossRate), ("win_rate", h2h.winRateTiesHalf),
                                 ("lc_win_rate", lc?.lengthControlledWinRate)] {
            metrics.append(EvalMetric(name, estimate?.value, lo: estimate?.interval?.low, hi: estimate?.interval?.high, n: decided.count))
        }
        metrics += [EvalMetric("lc_theta", lc?.theta), EvalMetric("lc_phi", lc?.phi),
                    EvalMetric("a_length", mean(work.items.map { Double($0.a.answer.count) }), n: work.items.count),
                    EvalMetric("b_length", mean(work.items.map { Double($0.b.answer.count) }), n: work.items.count)]
        var stats: [String: Any] = ["items": work.items.count, "decided": decided.count, "judge": config.model]
        for m in metrics { stats[m.metric] = m.value ?? NSNull() }
        return StageOutput(stats: stats) { writer in
            for (index, answer) in answers.enumerated() {
                let item = work.items[index / 2]
                let shownFirst = index % 2 == 0 ? item.a : item.b
                // The row's score is A's outcome under this order's verdict (1 win, 0.5 tie, 0 loss).
                let verdict = verdicts[index].map { index % 2 == 0 ? $0 : $0.swapped }
                try writer.append([
                    "prompt": .blob(item.prompt), "response": .blob(shownFirst.response),
                    "judge_model": .text(config.model), "sample_index": .int(Int64(index % 2)),
                    "output": .text(answer.text), "score": verdict.map { .real($0.outcomeForA) } ?? .null,
                    "parse_error": verdict == nil ? .text("no [[A]], [[B]] or [[C]] verdict in the output") : .null,
                    "mode": .text(config.structured ? "structured" : "free"), "template": .blob(work.templateBlob),
                    "call_hash": .bytes(work.requests[index].hash(modelKey: config.modelKey).bytes),
                ])
            }
            try EvalRecords.write(writer, run: run.record.id, metrics)
        }
    }

    func mean(_ values: [Double]) -> Double? { values.isEmpty ? nil : values.reduce(0, +) / Double(values.count) }
}
