import Foundation
import SRLMEval
import SRLMStages
import SRLMStore

/// The orchestration of a loop, as data: ordered steps, each a stage with its round, its model and its own typed
/// `Config`. `srlm loop` and `srlm round` build a plan, store it in the `plan` table (each step's config as JSON),
/// then run it step by step; a step whose run already finished with the same config and inputs is reused, so an
/// interrupted loop resumes where it stopped, and a stage run by hand with the same settings is reused too.
public struct LoopPlan: Codable, Hashable, Sendable {
    public var steps: [Step]

    public init(steps: [Step]) { self.steps = steps }

    /// What a step does: a stage and its config, exactly as the stage command would build it.
    public enum Action: Hashable, Sendable {
        case judgeProbe(JudgeProbe.Config)
        case buildEFT(BuildEFT.Config)
        case trainSFT(TrainSFT.Config)
        case genPrompts(GenPrompts.Config)
        /// Evol-Instruct's rewrites in place of self-instruct (`--prompt-strategy evol`).
        case evolPrompts(EvolPrompts.Config)
        case genCandidates(GenCandidates.Config)
        case judge(Judge.Config)
        case pairs(Pairs.Config)
        /// DPO, unless the round made fewer than `minPairs` pairs.
        case trainDPO(TrainDPO.Config, minPairs: Int)

        public var stage: String {
            switch self {
            case .judgeProbe: JudgeProbe.name
            case .buildEFT: BuildEFT.name
            case .trainSFT: TrainSFT.stage
            case .genPrompts: GenPrompts.name
            case .evolPrompts: EvolPrompts.name
            case .genCandidates: GenCandidates.name
            case .judge: Judge.name
            case .pairs: Pairs.name
            case .trainDPO: TrainDPO.stage
            }
        }
    }

    public struct Step: Codable, Hashable, Sendable {
        public var round: Int
        /// Inference steps: the checkpoint name (or .gguf path) that answers. Training steps: the output name.
        public var model: String?
        public var action: Action
        /// Judging steps (judge-probe, build-eft, judge): a judge template file in place of the built-in rubric.
        public var template: String?

        public init(round: Int, model: String? = nil, _ action: Action, template: String? = nil) {
            self.round = round
            self.model = model
            self.action = action
            self.template = template
        }

        public var stage: String { action.stage }
        public var summary: String { "\(stage) round \(round)" + (model.map { " (\($0))" } ?? "") }

        enum CodingKeys: String, CodingKey { case stage, round, model, config, template, minPairs = "min_pairs" }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(stage, forKey: .stage)
            try c.encode(round, forKey: .round)
            try c.encodeIfPresent(model, forKey: .model)
            try c.encodeIfPresent(template, forKey: .template)
            switch action {
            case .judgeProbe(let config): try c.encode(config, forKey: .config)
            case .buildEFT(let config): try c.encode(config, forKey: .config)
            case .trainSFT(let config): try c.encode(config, forKey: .config)
            case .genPrompts(let config): try c.encode(config, forKey: .config)
            case .evolPrompts(let config): try c.encode(config, forKey: .config)
            case .genCandidates(let config): try c.encode(config, forKey: .config)
            case .judge(let config): try c.encode(config, forKey: .config)
            case .pairs(let config): try c.encode(config, forKey: .config)
            case let .trainDPO(config, minPairs):
                try c.encode(config, forKey: .config)
                try c.encode(minPairs, forKey: .minPairs)
            }
        }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            round = try c.decode(Int.self, forKey: .round)
            model = try c.decodeIfPresent(String.self, forKey: .model)
            template = try c.decodeIfPresent(String.self, forKey: .template)
            let stage = try c.decode(String.self, forKey: .stage)
            guard c.contains(.config) else {
                throw SRLMError.badPlan("a \(stage) step stored by an older srlm (options, no config): run the loop command again to store its plan anew")
            }
            switch stage {
            case JudgeProbe.name: action = .judgeProbe(try c.decode(JudgeProbe.Config.self, forKey: .config))
            case BuildEFT.name: action = .buildEFT(try c.decode(BuildEFT.Config.self, forKey: .config))
            case TrainSFT.stage: action = .trainSFT(try c.decode(TrainSFT.Config.self, forKey: .config))
            case GenPrompts.name: action = .genPrompts(try c.decode(GenPrompts.Config.self, forKey: .config))
            case EvolPrompts.name: action = .evolPrompts(try c.decode(EvolPrompts.Config.self, forKey: .config))
            case GenCandidates.name: action = .genCandidates(try c.decode(GenCandidates.Config.self, forKey: .config))
            case Judge.name: action = .judge(try c.decode(Judge.Config.self, forKey: .config))
            case Pairs.name: action = .pairs(try c.decode(Pairs.Config.self, forKey: .config))
            case TrainDPO.stage:
                action = .trainDPO(try c.decode(TrainDPO.Config.self, forKey: .config),
                                   minPairs: try c.decodeIfPresent(Int.self, forKey: .minPairs) ?? 1)
            default: throw SRLMError.badPlan("unknown stage '\(stage)'")
            }
        }
    }

    /// A loop's recipe: one config per stage, whose defaults are the stage's own (the paper's), copied into every
    /// round's step. The CLI's loop flags set fields of these configs; nothing here restates a default.
    public struct Options: Codable, Hashable, Sendable {
        public var iterations = 2
        /// A round with fewer pairs stops instead of training.
        public var minPairs = 1
        /// A probe set (ift rows) on which the judge's free-form parse rate is measured for M0 and every trained
        /// checkpoint ("": none).
        public var probe = ""
        /// The paper's IFT-only SFT baseline, the control for M1's EFT data (trained anyway when it writes the EFT
        /// targets, i.e. unless they come from the human ranks).
        public var baseline = true
        /// A judge template file for every judging step (probe, EFT targets, the loop's judge); "": the built-in
        /// additive rubric. Stored in the store as a new version of the template.
        public var judgeTemplate = ""
        public var judgeProbe = JudgeProbe.Config()
        /// EFT data from human-ranked replies (`ranked` "": none; M1 then trains on IFT alone).
        public var buildEFT = BuildEFT.Config()
        /// The SFT runs (the IFT-only baseline and M1); `data` is filled per step.
        public var sft = TrainSFT.Config()
        public var genPrompts = GenPrompts.Config(round: 0)
        /// How a round makes its prompts: "self-instruct" (the paper) or "evol" (Evol-Instruct's rewrites, `evol`'s
        /// config; its count, seeds and decontamination sets are genPrompts').
        public var promptStrategy = "self-instruct"
        public var evol = EvolPrompts.Config(round: 0)
        public var genCandidates = GenCandidates.Config(round: 0)
        public var judge = Judge.Config(round: 0)
        public var pairs = Pairs.Config(round: 0)
        /// length-control's ρ per round: round r takes the r-th value, the last one repeating (empty: `pairs.rho`
        /// in every round). Meta-Rewarding raises ρ in later rounds as lengths grow.
        public var rhoPerRound: [Double] = []
        public var dpo = TrainDPO.Config()
        /// A warm start: human preference pairs (e.g. an HH-RLHF import) trained with DPO in round 0, after SFT (then
        /// named M1-sft) and before self-iteration, giving the M1 that round 1 starts from ("": none, the paper).
        public var warmStart = ""

        public init() {}

        /// `judgeTemplate` as the judging steps take it: nil for the built-in rubric.
        public var templateFile: String? { judgeTemplate.isEmpty ? nil : judgeTemplate }

        /// The IFT data: what SFT trains on and what build-eft leaves out.
        public var ift: String {
            get { buildEFT.ift }
            set { buildEFT.ift = newValue }
        }

        /// One seed for every stage's sampling, splits and training (unset: each stage keeps its own default).
        public mutating func setSeed(_ seed: Int64) {
            buildEFT.seed = seed
            buildEFT.sampling.seed = seed
            judgeProbe.sampling.seed = seed
            genPrompts.sampling.seed = seed
            evol.sampling.seed = seed
            genCandidates.sampling.seed = seed
            judge.sampling.seed = seed
            sft.hyper.seed = seed
            dpo.hyper.seed = seed
        }
    }

    /// SFT then `iterations` self-rewarding rounds: M0 → M1 on IFT + EFT, then round r uses M_r to make pairs that
    /// train M_(r+1) with DPO.
    public static func loop(_ o: Options) -> LoopPlan {
        var steps: [Step] = []
        steps += probe(o, model: "M0", round: 0)
        if !o.buildEFT.ranked.isEmpty {
            var eftModel: String?
            if o.baseline || o.buildEFT.targets != .human {
                // The paper's IFT-only baseline: the control for M1, and the writer of judge-made EFT targets.
                var baseline = o.sft
                baseline.round = nil
                baseline.name = "SFT"
                baseline.data = [o.ift]
                steps.append(Step(round: 0, model: "SFT", .trainSFT(baseline)))
                steps += probe(o, model: "SFT", round: 0)
                if o.buildEFT.targets != .human { eftModel = "SFT" }
            }
            steps.append(Step(round: 0, model: eftModel, .buildEFT(o.buildEFT), template: o.templateFile))
        }
        var m1 = o.sft
        m1.name = o.warmStart.isEmpty ? "M1" : "M1-sft"
        m1.round = o.buildEFT.ranked.isEmpty ? nil : 0
        m1.data = [o.ift]
        steps.append(Step(round: 0, model: m1.name, .trainSFT(m1)))
        if !o.warmStart.isEmpty {
            var warm = o.dpo
            warm.round = 0
            warm.data = [o.warmStart]
            warm.base = m1.name
            warm.name = "M1"
            steps.append(Step(round: 0, model: "M1", .trainDPO(warm, minPairs: o.minPairs)))
        }
        steps += probe(o, model: "M1", round: 0)
        for r in 1...max(1, o.iterations) { steps += round(r, o) }
        return LoopPlan(steps: steps)
    }

    /// The free-form parse-rate probe of one checkpoint, when the recipe names a probe set.
    static func probe(_ o: Options, model: String, round: Int) -> [Step] {
        guard !o.probe.isEmpty else { return [] }
        var probe = o.judgeProbe
        probe.probe = o.probe
        return [Step(round: round, model: model, .judgeProbe(probe), template: o.templateFile)]
    }

    /// One self-rewarding round: M_r makes prompts, candidates and judgments; pairs train M_(r+1).
    public static func round(_ r: Int, _ o: Options) -> [Step] {
        let model = "M\(r)"
        var (prompts, candidates, judge, pairs, dpo) = (o.genPrompts, o.genCandidates, o.judge, o.pairs, o.dpo)
        prompts.round = r
        candidates.round = r
        judge.round = r
        pairs.round = r
        if !o.rhoPerRound.isEmpty { pairs.rho = o.rhoPerRound[min(r, o.rhoPerRound.count) - 1] }
        dpo.round = r
        dpo.name = "M\(r + 1)"
        dpo.base = model
        var evol = o.evol
        evol.round = r
        evol.count = prompts.count
        evol.seeds = prompts.seeds
        evol.decontaminate = prompts.decontaminate
        return [
            o.promptStrategy == "evol" ? Step(round: r, model: model, .evolPrompts(evol)) : Step(round: r, model: model, .genPrompts(prompts)),
            Step(round: r, model: model, .genCandidates(candidates)),
            Step(round: r, model: model, .judge(judge), template: o.templateFile),
            Step(round: r, .pairs(pairs)),
            Step(round: r, model: "M\(r + 1)", .trainDPO(dpo, minPairs: o.minPairs)),
        ] + probe(o, model: "M\(r + 1)", round: r)
    }

    /// Stores the plan as the experiment's current plan (one row per step, its config as JSON), with the recipe it
    /// was built from, so `srlm plan show` prints the file back.
    public func save(_ store: Store, experiment: String, recipe: Options? = nil) throws {
        try PlanRows.save(store, experiment: experiment, steps: try steps.map {
            ($0.stage, String(decoding: try CanonicalJSON.encode($0), as: UTF8.self))
        }, recipe: try recipe.map { String(decoding: try CanonicalJSON.encode($0), as: UTF8.self) })
    }

    /// The recipe the experiment's stored plan was built from, if it was stored with one.
    public static func recipe(_ store: Store, experiment: String) throws -> Options? {
        // Over the defaults: a recipe stored before a field existed keeps that field's default.
        try PlanRows.recipe(store, experiment: experiment).map { stored in
            let defaults = try JSONSerialization.jsonObject(with: CanonicalJSON.encode(Options())) as? [String: Any] ?? [:]
            let given = try JSONSerialization.jsonObject(with: Data(stored.utf8)) as? [String: Any] ?? [:]
            let merged = try JSONSerialization.data(withJSONObject: Options.merge(defaults, given))
            return try JSONDecoder().decode(Options.self, from: merged)
        }
    }

    /// The experiment's stored plan, if any.
    public static func load(_ store: Store, experiment: String) throws -> LoopPlan? {
        let rows = try PlanRows.load(store, experiment: experiment)
        guard !rows.isEmpty else { return nil }
        return LoopPlan(steps: try rows.map { try JSONDecoder().decode(Step.self, from: Data($0.utf8)) })
    }
}
