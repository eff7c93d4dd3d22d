import Foundation
import SRLMEngines
import SRLMStore

/// `srlm difficulty --round N` (no model): each prompt's difficulty as the round measured it — the mean of its
/// candidates' mean judge scores (lower: harder for the model) and their standard deviation — written on a new
/// version of the round's prompts, which becomes the round's. `derive --where "difficulty < 2"` then keeps the hard
/// ones, and SQL compares rounds by it. A prompt none of whose candidates got a parsed score keeps NULL.
public struct Difficulty: Stage {
    public static let name = "difficulty"

    public struct Config: Codable, Hashable, Sendable {
        public var round: Int
        /// Recorded resolved, as NAME@N ("": the round's).
        public var prompts = ""
        public var judgments = ""

        public init(round: Int) { self.round = round }
    }

    public struct Work: Sendable {
        let rows: [StageRows.PromptRow]
        let judgments: [StageRows.Judgment]
    }

    public var config: Config

    public init(config: Config) { self.config = config }

    public func plan(_ context: StageContext, model: ModelIdentity?) throws -> StagePlan<Config, Work> {
        let prompts = try Rounds.input(context.store, experiment: context.experiment, iteration: config.round, role: .prompts,
                                       explicit: config.prompts.isEmpty ? nil : config.prompts, producedBy: "gen-prompts")
        let judgments = try Rounds.input(context.store, experiment: context.experiment, iteration: config.round, role: .judgments,
                                         explicit: config.judgments.isEmpty ? nil : config.judgments, producedBy: "judge")
        var config = self.config
        config.prompts = prompts.ref
        config.judgments = judgments.ref
        return StagePlan(config: config, inputs: [prompts, judgments],
                         destination: .init(dataset: prompts.name, kind: .prompts, round: config.round, role: .prompts), seed: nil,
                         work: Work(rows: try StageRows.promptRows(context.store, prompts), judgments: try StageRows.judgments(context.store, judgments)))
    }

    /// Per prompt: the mean and population standard deviation of its candidates' mean scores.
    static func measure(_ judgments: [StageRows.Judgment]) -> [BlobID: (mean: Double, sd: Double)] {
        var samples: [BlobID: [BlobID: [Double]]] = [:]
        for j in judgments { if let score = j.score { samples[j.prompt, default: [:]][j.response, default: []].append(score) } }
        return samples.mapValues { candidates in of(candidates.values.map { $0.reduce(0, +) / Double($0.count) }) }
    }

    /// A prompt's difficulty from its candidates' mean scores (not empty): their mean and population spread. What
    /// this stage stores and what `pairs --difficulty-range` filters on.
    static func of(_ means: [Double]) -> (mean: Double, sd: Double) {
        let mean = means.reduce(0, +) / Double(means.count)
        return (mean, (means.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(means.count)).squareRoot())
    }

    public func execute(_ plan: StagePlan<Config, Work>, _ run: StageRun) async throws -> StageOutput {
        let measured = Self.measure(plan.work.judgments)
        let scored = plan.work.rows.filter { measured[$0.prompt] != nil }.count
        return StageOutput(stats: ["prompts": plan.work.rows.count, "measured": scored]) { writer in
            for row in plan.work.rows {
                let m = measured[row.prompt]
                try writer.append(row.values(["difficulty": m.map { .real($0.mean) } ?? .null, "difficulty_sd": m.map { .real($0.sd) } ?? .null]))
            }
        }
    }
}
