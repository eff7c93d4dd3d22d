import Foundation
import SRLMEngines
import SRLMMetrics
import SRLMStages
import SRLMStore

/// The meta-judge prompt (Meta-Rewarding, Wu et al. 2024, in srlm's own words): the model reads what its judge was
/// asked (rubric, question, response) and two of its own judgments of it, and names the more accurate one with the
/// pairwise verdict line (`[[A]]`, `[[B]]`, `[[C]]` for a tie). Stored as a versioned template.
public struct MetaJudgeTemplate: Sendable, Hashable {
    public static let name = "meta-judge"

    public let body: String
    public let version: Int

    public static let builtIn = """
        Below is what a judge was asked to do — a scoring rubric, a user's question and an AI assistant's response — \
        followed by two evaluations the judge wrote. Decide which evaluation is more accurate: it applies the rubric \
        point by point, its reasoning is correct and specific to this response, and its score follows from its \
        reasoning. The order of the evaluations, their length and how high they score must not sway you.

        [What the judge was asked]
        {{prompt}}
        [End of what the judge was asked]

        [Evaluation A]
        {{a}}
        [End of evaluation A]

        [Evaluation B]
        {{b}}
        [End of evaluation B]

        Explain briefly which evaluation is more accurate, then end with the verdict on a line of its own: [[A]] if \
        A is more accurate, [[B]] if B is, [[C]] if they are equally good.
        """

    public var versionTag: String { "\(Self.name)@\(version)" }

    public static func resolve(_ store: Store) throws -> MetaJudgeTemplate {
        MetaJudgeTemplate(body: builtIn, version: try StageRows.templateVersion(store, name: name, body: builtIn).version)
    }

    public func register(_ store: Store) throws -> BlobID {
        try StageRows.registerTemplate(store, name: Self.name, version: version, body: body)
    }

    public func request(judgePrompt: Messages, first: String, second: String, sampling: Sampling, order: Int, structured: Bool) -> ChatRequest {
        let text = body.replacingOccurrences(of: "{{prompt}}", with: judgePrompt.map(\.content).joined(separator: "\n"))
            .replacingOccurrences(of: "{{a}}", with: first).replacingOccurrences(of: "{{b}}", with: second)
        return ChatRequest(messages: [.user(text)], temperature: sampling.temperature, topP: sampling.topP,
                           maxTokens: sampling.maxTokens, seed: sampling.seed, sampleIndex: order,
                           constraint: structured ? PairwiseTemplate.constraint(maxTokens: sampling.maxTokens) : nil,
                           templateVersion: versionTag)
    }
}

/// `srlm meta-judge --round N`, step 1 (Meta-Rewarding): for each candidate of the round with two or more parsed
/// judge samples that differ, every two of them are compared by the model as meta-judge, in both orders; a verdict
/// that flips with the order is a tie, one that did not parse in either order is left out (counted). Each battle is
/// a labeled pair (prompt: what the judge was asked; a, b: the two judgments; label: the verdict; votes: each
/// order's). `JudgePairs` turns them into ratings and judge-training pairs without a model.
public struct MetaJudge: Stage {
    public static let name = "meta-judge"
    public static let dataset = "meta-judgments"

    public struct Config: Codable, Hashable, Sendable {
        public var round: Int
        /// The judgments to compare ("": the round's); recorded resolved, as NAME@N.
        public var judgments = ""
        /// Greedy, as the pairwise judges: a verdict should not depend on a sampling draw.
        public var sampling = EvalCompare.Config().sampling
        public var structured = false
        /// Candidates compared at most (0: all), in the judgments' order.
        public var maxCandidates = 0
        /// Filled by `plan`: the template's version tag, the meta-judge's label and journal key.
        public var template = ""
        public var model = ""
        public var modelKey = ""

        public init(round: Int) { self.round = round }
    }

    /// Two judgments of one candidate, as the meta-judge reads them.
    struct Battle: Sendable {
        let judgePrompt: Messages
        let a: StageRows.JudgedSample
        let b: StageRows.JudgedSample
    }

    public struct Work: Sendable {
        let battles: [Battle]
        let requests: [ChatRequest]
        let template: MetaJudgeTemplate
        var skipped: [String: Int]
    }

    public var config: Config

    public init(config: Config) { self.config = config }

    public func plan(_ context: StageContext, model: ModelIdentity?) throws -> StagePlan<Config, Work> {
        let input = try Rounds.input(context.store, experiment: context.experiment, iteration: config.round, role: .judgments,
                                     explicit: config.judgments.isEmpty ? nil : config.judgments, producedBy: "judge")
        let template = try MetaJudgeTemplate.resolve(context.store)
        var config = self.config
        config.judgments = input.ref
        config.template = template.versionTag
        config.model = model?.label ?? ""
        config.modelKey = model?.key ?? ""
        let (battles, skipped) = Self.battles(try StageRows.judgedSamples(context.store, input), maxCandidates: config.maxCandidates)
        let requests = battles.flatMap { battle in
            [template.request(judgePrompt: battle.judgePrompt, first: battle.a.output, second: battle.b.output, sampling: config.sampling,
                              order: 0, structured: config.structured),
             template.request(judgePrompt: battle.judgePrompt, first: battle.b.output, second: battle.a.output, sampling: config.sampling,
                              order: 1, structured: config.structured)]
        }
        return StagePlan(config: config, inputs: [input],
                         destination: .init(dataset: Self.dataset, kind: .labeledPairs, round: config.round, role: .metaJudgments),
                         seed: config.sampling.seed, work: Work(battles: battles, requests: requests, template: template, skipped: skipped))
    }

    public func prepare(_ plan: inout StagePlan<Config, Work>, _ context: StageContext) throws {
        _ = try plan.work.template.register(context.store)
    }

    /// Every two parsed, differing samples of each candidate, in sample order; what cannot be compared, counted.
    static func battles(_ samples: [StageRows.JudgedSample], maxCandidates: Int) -> ([Battle], [String: Int]) {
        var order: [[BlobID]] = []
        var groups: [[BlobID]: [StageRows.JudgedSample]] = [:]
        for sample in samples {
            let key = [sample.prompt, sample.response]
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(sample)
        }
        var battles: [Battle] = []
        var skipped: [String: Int] = [:]
        var compared = 0
        for key in order {
            if maxCandidates > 0 && compared >= maxCandidates { skipped["over --max-candidates", default: 0] += 1; continue }
            var seen = Set<String>()
            let usable = groups[key]!.filter { $0.score != nil && seen.insert($0.output).inserted }
            guard let judgePrompt = usable.first?.judgePrompt else {
                skipped[usable.isEmpty ? "no parsed judgment" : "judge prompt not in the journal", default: 0] += 1
                continue
            }
            guard usable.count >= 2 else { skipped["fewer than 2 differing parsed judgments", default: 0] += 1; continue }
            compared += 1
            for i in 0..<usable.count { for j in (i + 1)..<usable.count { battles.append(Battle(judgePrompt: judgePrompt, a: usable[i], b: usable[j])) } }
        }
        return (battles, skipped)
    }

    public func execute(_ plan: StagePlan<Config, Work>, _ run: StageRun) async throws -> StageOutput {
        let work = plan.work
        guard !work.battles.isEmpty else {
            throw SRLMError.invalid("\(plan.config.judgments) has no candidate with two differing parsed judgments to compare (\(work.skipped))")
        }
        let answers = try await run.answers(work.requests, what: "meta-judgment")
        let (shown, pairs) = BothOrders.verdicts(answers)
        var labels: [String: Int] = [:]
        var unparsed = 0
        for pair in pairs { if let v = pair.combined { labels[v.rawValue, default: 0] += 1 } else { unparsed += 1 } }
        let consistent = pairs.filter { $0.inOrder != nil && $0.inOrder == $0.swapped }.count
        let stats: [String: Any] = ["battles": work.battles.count, "calls": answers.count, "unparsed": unparsed, "labels": labels,
                                    "position_consistency": pairs.isEmpty ? NSNull() : Double(consistent) / Double(pairs.count),
                                    "skipped": work.skipped, "meta_judge": plan.config.model]
        return StageOutput(stats: stats) { writer in
            for (index, battle) in work.battles.enumerated() {
                guard let verdict = pairs[index].combined else { continue }
                let votes = [shown[2 * index].map(\.rawValue), shown[2 * index + 1].map { $0.swapped.rawValue }]
                try writer.append([
                    "prompt": .text(Blobs.text(battle.judgePrompt)),
                    "response_a": .text(Blobs.text([.assistant(battle.a.output)])),
                    "response_b": .text(Blobs.text([.assistant(battle.b.output)])),
                    "label": .text(verdict.rawValue),
                    "votes": .text("[" + votes.map { $0.map { "\"\($0)\"" } ?? "null" }.joined(separator: ",") + "]"),
                    "question_id": .text(""), "model_a": .text("sample \(battle.a.sampleIndex)"), "model_b": .text("sample \(battle.b.sampleIndex)"),
                ])
            }
        }
    }
}
