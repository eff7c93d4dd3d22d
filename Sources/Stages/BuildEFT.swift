import Foundation
import SRLMStore
import SRLMEngines

/// EFT data (paper, "Evaluation fine-tuning"): LLM-as-a-Judge prompts over human-ranked replies, with targets that
/// agree with the human ranking. Targets come from the judging model (free-form or `structured`), kept for a prompt
/// only when its scores strictly decrease with human rank (ties fail), or are written from the ranks (`human`:
/// rank 0 → 5, rank 1 → 4, …, rank 4 and below → 1, with a one-line rationale). Prompts in the IFT data are left
/// out, the most common score is down-sampled to the next most common count, and prompts are split train/eval.
public struct BuildEFT: Stage {
    public static let name = "build-eft"
    public static let dataset = "eft"

    public enum Targets: String, Codable, CaseIterable, Sendable {
        case judge, structured, human
    }

    public struct Config: Codable, Hashable, Sendable {
        public var targets = Targets.judge
        public var sampling = Sampling(temperature: 0.7, topP: 0.9, maxTokens: 256)
        /// Share of prompts held out for evaluation (paper: 541 of 2,171 examples).
        public var evalFraction = 0.25
        public var rebalance = true
        public var seed: Int64 = 0
        /// The human-ranked replies, and the IFT data whose prompts are left out ("": none); recorded resolved.
        public var ranked = "ranked"
        public var ift = "ift"
        /// Filled by `plan`: the template's version tag, the judging model's label and journal key.
        public var template = ""
        public var model = ""
        public var modelKey = ""

        public init() {}
    }

    public struct Work: Sendable {
        let groups: [[Reply]]
        let dropped: [String: Int]
        let template: JudgeTemplate
    }

    public var config: Config
    public var templateFile: String?

    public init(config: Config, templateFile: String? = nil) {
        self.config = config
        self.templateFile = templateFile
    }

    typealias Reply = StageRows.RankedReply

    struct Example {
        let reply: Reply
        let judgePrompt: Messages
        let output: String
        let score: Double
    }

    /// The score a human rank maps to, and the rationale written for it (`--targets human`).
    public static func humanTarget(rank: Int, of count: Int) -> (score: Double, text: String) {
        let score = max(1, 5 - rank)
        let place = rank == 0 ? "the best" : "number \(rank + 1)"
        return (Double(score), "People ranked this reply \(place) of the \(count) replies to this question, "
                + "so it earns \(score) of the 5 points.\nScore: \(score)")
    }

    public func plan(_ context: StageContext, model: ModelIdentity?) throws -> StagePlan<Config, Work> {
        guard config.evalFraction >= 0 && config.evalFraction < 1 else {
            throw SRLMError.outOfRange(setting: "eval fraction", value: "\(config.evalFraction)", expected: "in [0, 1)")
        }
        let ranked = try context.version(config.ranked)
        let ift = try config.ift.isEmpty ? nil : context.version(config.ift)
        guard ranked.kind == .ranked else { throw SRLMError.wrongKind(ref: ranked.ref, holds: ranked.kind.rawValue, expected: "ranked replies") }
        let template = try JudgeTemplate.resolve(context.store, file: templateFile)
        var config = self.config
        config.ranked = ranked.ref
        config.ift = ift?.ref ?? ""
        config.template = template.versionTag
        if config.targets != .human {
            guard let model else { throw SRLMError.setup("EFT targets by \(config.targets.rawValue) judging need a judging model") }
            config.model = model.label
            config.modelKey = model.key
        }
        var dropped: [String: Int] = [:]
        let groups = try replies(context, ranked: ranked, ift: ift, dropped: &dropped)
        return StagePlan(config: config, inputs: [ranked] + (ift.map { [$0] } ?? []),
                         destination: .init(dataset: Self.dataset, kind: .eft, round: 0, role: .eft),
                         seed: config.seed, work: Work(groups: groups, dropped: dropped, template: template))
    }

    /// The template goes on record with the version the config names.
    public func prepare(_ plan: inout StagePlan<Config, Work>, _ context: StageContext) throws {
        _ = try plan.work.template.register(context.store)
    }

    public func execute(_ plan: StagePlan<Config, Work>, _ run: StageRun) async throws -> StageOutput {
        let (config, work) = (plan.config, plan.work)
        var dropped = work.dropped
        var kept: [[Example]]
        if config.targets == .human {
            kept = work.groups.map { group in
                group.map { r in
                    let target = Self.humanTarget(rank: r.rank, of: group.count)
                    return Example(reply: r, judgePrompt: work.template.render(question: r.question, response: r.answer),
                                   output: target.text, score: target.score)
                }
            }
        } else {
            kept = try await judged(run, work.groups, template: work.template, config: config, dropped: &dropped)
        }
        var examples = kept.flatMap { $0 }
        if config.rebalance { examples = Self.rebalanced(examples, seed: config.seed, dropped: &dropped) }
        let evalPrompts = Self.evalPrompts(Set(examples.map(\.reply.prompt)), fraction: config.evalFraction, seed: config.seed)
        let stats: [String: Any] = ["examples": examples.count, "prompts": Set(examples.map(\.reply.prompt)).count,
                                    "eval": examples.filter { evalPrompts.contains($0.reply.prompt) }.count,
                                    "dropped": dropped, "targets": config.targets.rawValue,
                                    "score_counts": Dictionary(grouping: examples, by: { String(Int($0.score)) }).mapValues(\.count)]
        return StageOutput(stats: stats) { writer in
            for e in examples {
                try writer.append(["prompt": .text(Blobs.text(e.judgePrompt)), "response": .text(Blobs.text([.assistant(e.output)])),
                                   "score": .real(e.score), "target_origin": .text(config.targets.rawValue),
                                   "split": .text(evalPrompts.contains(e.reply.prompt) ? "eval" : "train"),
                                   "question": .blob(e.reply.prompt), "reply": .blob(e.reply.reply),
                                   "human_rank": .int(Int64(e.reply.rank))])
            }
        }
    }

    /// Ranked replies grouped by prompt (first-seen order, each group by rank), without IFT prompts and prompts
    /// with fewer than two replies.
    func replies(_ context: StageContext, ranked: DatasetVersion, ift: DatasetVersion?, dropped: inout [String: Int]) throws -> [[Reply]] {
        let iftPrompts = try ift.map { try StageRows.promptIDs(context.store, $0) } ?? []
        var order: [BlobID] = []
        var byPrompt: [BlobID: [Reply]] = [:]
        for reply in try StageRows.rankedReplies(context.store, ranked) {
            if byPrompt[reply.prompt] == nil { order.append(reply.prompt) }
            byPrompt[reply.prompt, default: []].append(reply)
        }
        var groups: [[Reply]] = []
        for prompt in order {
            let group = byPrompt[prompt]!.sorted { $0.rank < $1.rank }
            if iftPrompts.contains(prompt) { dropped["prompt_in_ift", default: 0] += group.count; continue }
            if group.count < 2 { dropped["fewer_than_2_replies", default: 0] += group.count; continue }
            groups.append(group)
        }
        return groups
    }

    /// The model judges every reply once; a prompt's outputs are kept when all parse and strictly decrease with rank.
    func judged(_ run: StageRun, _ groups: [[Reply]], template: JudgeTemplate, config: Config,
                dropped: inout [String: Int]) async throws -> [[Example]] {
        let flat = groups.flatMap { $0 }
        let requests = flat.map { r in
            template.request(question: r.question, answer: r.answer, sampling: config.sampling,
                             structured: config.targets == .structured)
        }
        let results = try await run.answers(requests, what: "EFT judge")
        var kept: [[Example]] = []
        var index = 0
        for group in groups {
            var examples: [Example] = []
            for r in group {
                if let score = ScoreParser.parse(results[index].text).score {
                    examples.append(Example(reply: r, judgePrompt: requests[index].messages, output: results[index].text, score: score))
                }
                index += 1
            }
            if examples.count < group.count {
                dropped["judge_output_unparsed", default: 0] += group.count
            } else if zip(examples, examples.dropFirst()).allSatisfy({ $0.score > $1.score }) {
                kept.append(examples)
            } else {
                dropped["disagrees_with_human_ranking", default: 0] += group.count
            }
        }
        return kept
    }

    /// Down-samples the most common (rounded) score to the count of the next most common one.
    static func rebalanced(_ examples: [Example], seed: Int64, dropped: inout [String: Int]) -> [Example] {
        let counts = Dictionary(grouping: examples.indices, by: { Int(examples[$0].score.rounded()) })
        let ranked = counts.sorted { ($0.value.count, $1.key) > ($1.value.count, $0.key) }
        guard ranked.count >= 2 else { return examples }
        let (top, target) = (ranked[0], ranked[1].value.count)
        var rng = SeededGenerator(seed: UInt64(bitPattern: seed) ^ 0x5EED_EF7)
        let drop = Set(top.value.shuffled(using: &rng).prefix(top.value.count - target))
        if !drop.isEmpty { dropped["rebalanced_score_\(top.key)", default: 0] += drop.count }
        return examples.indices.filter { !drop.contains($0) }.map { examples[$0] }
    }

    /// Prompts held out for evaluation: a seeded share, so train and eval never share a prompt.
    static func evalPrompts(_ prompts: Set<BlobID>, fraction: Double, seed: Int64) -> Set<BlobID> {
        var rng = SeededGenerator(seed: UInt64(bitPattern: seed))
        let shuffled = prompts.sorted().shuffled(using: &rng)
        return Set(shuffled.prefix(Int((Double(shuffled.count) * fraction).rounded())))
    }
}
