import Foundation
import GRDB
import SRLMStages
import SRLMStore

/// The orchestration of a loop, as data: ordered steps, each a stage with its round, its model and its options.
/// `srlm loop` and `srlm round` build a plan, store it in the `plan` table, then run it step by step; a step whose
/// run already finished with the same config and inputs is reused, so an interrupted loop resumes where it stopped.
public struct LoopPlan: Codable, Hashable, Sendable {
    public struct Step: Codable, Hashable, Sendable {
        /// build-eft, train-sft, judge-probe, gen-prompts, gen-candidates, judge, pairs, train-dpo.
        public var stage: String
        public var round: Int
        /// Inference steps: the checkpoint name (or .gguf path) that answers. Training steps: the output name.
        public var model: String?
        public var options: [String: String]

        public init(_ stage: String, round: Int, model: String? = nil, options: [String: String] = [:]) {
            self.stage = stage
            self.round = round
            self.model = model
            self.options = options
        }

        public var summary: String {
            "\(stage) round \(round)" + (model.map { " (\($0))" } ?? "")
        }
    }

    public var steps: [Step]

    public init(steps: [Step]) { self.steps = steps }

    /// What a user sets for a loop; everything else follows the paper's defaults.
    public struct Options: Codable, Hashable, Sendable {
        public var iterations = 2
        public var promptsPerRound = 8
        public var candidates = 4
        public var judgeSamples = 3
        public var structured = false
        public var promptMaxTokens = 128
        public var candidateMaxTokens = 256
        public var judgeMaxTokens = 256
        public var minPairs = 1
        /// How EFT targets are made (build-eft --targets): judge (by the IFT-only SFT model), structured, human.
        public var eftTargets = BuildEFT.Targets.judge
        public var ift = "ift"
        /// Human-ranked replies for EFT ("" for none: M1 is then trained on IFT alone).
        public var ranked = "ranked"
        public var seeds = "ift"
        /// A probe set (ift rows) on which the judge's free-form parse rate is measured before and after EFT.
        public var probe = ""
        public var decontaminate: [String] = []
        /// Trainer steps per training run (-1: one epoch), and the longest sequence.
        public var sftMaxSteps = -1
        public var dpoMaxSteps = -1
        public var maxLength = 1024
        /// Examples per optimizer step (paper: 16).
        public var trainBatchSize = 16
        public var seed: Int64 = 0

        public init() {}
    }

    /// SFT then `iterations` self-rewarding rounds: M0 → M1 on IFT + EFT, then round r uses M_r to make pairs that
    /// train M_(r+1) with DPO.
    public static func loop(_ o: Options) -> LoopPlan {
        var steps: [Step] = []
        let train = ["max_steps": String(o.sftMaxSteps), "max_length": String(o.maxLength), "seed": String(o.seed),
                     "batch_size": String(o.trainBatchSize)]
        if !o.probe.isEmpty { steps.append(Step("judge-probe", round: 0, model: "M0", options: ["probe": o.probe])) }
        if !o.ranked.isEmpty {
            var eft = ["ranked": o.ranked, "ift": o.ift, "targets": o.eftTargets.rawValue, "seed": String(o.seed),
                       "max_tokens": String(o.judgeMaxTokens)]
            if o.eftTargets != .human {
                // The paper's IFT-only baseline writes the EFT targets.
                steps.append(Step("train-sft", round: 0, model: "SFT", options: train.merging(["data": o.ift]) { $1 }))
                eft["model"] = "SFT"
            }
            steps.append(Step("build-eft", round: 0, model: eft["model"], options: eft))
        }
        var m1 = train.merging(["data": o.ift]) { $1 }
        if !o.ranked.isEmpty { m1["eft"] = "round" }
        steps.append(Step("train-sft", round: 0, model: "M1", options: m1))
        if !o.probe.isEmpty { steps.append(Step("judge-probe", round: 0, model: "M1", options: ["probe": o.probe])) }
        for r in 1...max(1, o.iterations) { steps += round(r, o) }
        return LoopPlan(steps: steps)
    }

    /// One self-rewarding round: M_r makes prompts, candidates and judgments; pairs train M_(r+1).
    public static func round(_ r: Int, _ o: Options) -> [Step] {
        let model = "M\(r)"
        return [
            Step("gen-prompts", round: r, model: model,
                 options: ["count": String(o.promptsPerRound), "seeds": o.seeds, "max_tokens": String(o.promptMaxTokens),
                           "seed": String(o.seed), "decontaminate": o.decontaminate.joined(separator: ",")]),
            Step("gen-candidates", round: r, model: model,
                 options: ["n": String(o.candidates), "max_tokens": String(o.candidateMaxTokens), "seed": String(o.seed)]),
            Step("judge", round: r, model: model,
                 options: ["samples": String(o.judgeSamples), "max_tokens": String(o.judgeMaxTokens),
                           "structured": String(o.structured), "seed": String(o.seed)]),
            Step("pairs", round: r),
            Step("train-dpo", round: r, model: "M\(r + 1)",
                 options: ["min_pairs": String(o.minPairs), "max_steps": String(o.dpoMaxSteps),
                           "max_length": String(o.maxLength), "seed": String(o.seed), "base": model,
                           "batch_size": String(o.trainBatchSize)]),
        ]
    }

    /// Stores the plan as the experiment's current plan (one row per step, its config as JSON).
    public func save(_ store: Store, experiment: String) throws {
        try store.write { db in
            let id = try Experiment.id(db, experiment)
            try db.execute(sql: "DELETE FROM plan WHERE experiment_id = ?", arguments: [id])
            for (n, step) in steps.enumerated() {
                let config = String(decoding: try CanonicalJSON.encode(step), as: UTF8.self)
                try db.execute(sql: "INSERT INTO plan(experiment_id, step, stage, config) VALUES (?, ?, ?, ?)",
                               arguments: [id, n, step.stage, config])
            }
        }
    }

    /// The experiment's stored plan, if any.
    public static func load(_ store: Store, experiment: String) throws -> LoopPlan? {
        let configs = try store.read { db in
            try String.fetchAll(db, sql: """
                SELECT p.config FROM plan p JOIN experiment e ON e.id = p.experiment_id WHERE e.name = ? ORDER BY p.step
                """, arguments: [experiment])
        }
        guard !configs.isEmpty else { return nil }
        return LoopPlan(steps: try configs.map { try JSONDecoder().decode(Step.self, from: Data($0.utf8)) })
    }
}
