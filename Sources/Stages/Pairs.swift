import Foundation
import SRLMEngines
import SRLMStore

/// Step 4: per prompt, chosen = the candidate with the highest mean judge score, rejected = the lowest; ties and
/// pairs under `minMargin` are dropped; candidates without a parsed score are left out. No model.
public struct Pairs: Stage {
    public static let name = "pairs"
    public static let dataset = "pairs"

    public struct Config: Codable, Hashable, Sendable {
        public var round: Int
        public var minMargin = 0.0
        /// The judgments to pair ("": the round's judge output); recorded resolved, as NAME@N.
        public var judgments = ""

        public init(round: Int) { self.round = round }
    }

    public var config: Config

    public init(config: Config) { self.config = config }

    struct Scored {
        let response: BlobID
        var scores: [Double] = []
        var mean: Double { scores.reduce(0, +) / Double(scores.count) }
    }

    public func plan(_ context: StageContext, model: ModelIdentity?) throws -> StagePlan<Config, [StageRows.Judgment]> {
        let input = try Rounds.input(context.store, experiment: context.experiment, iteration: config.round, role: .judgments,
                                     explicit: config.judgments.isEmpty ? nil : config.judgments, producedBy: "judge")
        var config = self.config
        config.judgments = input.ref
        return StagePlan(config: config, inputs: [input],
                         destination: .init(dataset: Self.dataset, kind: .pairs, round: config.round, role: .pairs),
                         seed: nil, work: try StageRows.judgments(context.store, input))
    }

    public func execute(_ plan: StagePlan<Config, [StageRows.Judgment]>, _ run: StageRun) async throws -> StageOutput {
        // Candidates in first-seen order per prompt, prompts in first-seen order: deterministic output.
        var order: [BlobID] = []
        var byPrompt: [BlobID: [Scored]] = [:]
        var unscored: [BlobID: Set<BlobID>] = [:]
        for judgment in plan.work {
            if byPrompt[judgment.prompt] == nil { order.append(judgment.prompt); byPrompt[judgment.prompt] = [] }
            var list = byPrompt[judgment.prompt]!
            let index = list.firstIndex { $0.response == judgment.response }
                ?? { list.append(Scored(response: judgment.response)); return list.count - 1 }()
            if let score = judgment.score { list[index].scores.append(score) } else { unscored[judgment.prompt, default: []].insert(judgment.response) }
            byPrompt[judgment.prompt] = list
        }
        var dropped: [String: Int] = [:]
        var pairs: [(prompt: BlobID, chosen: Scored, rejected: Scored)] = []
        for prompt in order {
            let scored = byPrompt[prompt]!.filter { !$0.scores.isEmpty }
            guard scored.count >= 2 else { dropped["fewer than 2 scored candidates", default: 0] += 1; continue }
            // max/min by mean; the first candidate wins equal means, so ties are seen as margin 0.
            let chosen = scored.max { $0.mean < $1.mean }!
            let rejected = scored.min { $0.mean < $1.mean }!
            let margin = chosen.mean - rejected.mean
            if margin == 0 { dropped["tie", default: 0] += 1; continue }
            if margin < plan.config.minMargin { dropped["margin below \(plan.config.minMargin)", default: 0] += 1; continue }
            pairs.append((prompt, chosen, rejected))
        }
        let stats: [String: Any] = ["prompts": order.count, "kept": pairs.count, "dropped": dropped,
                                    "candidates_without_score": unscored.values.map(\.count).reduce(0, +)]
        return StageOutput(stats: stats) { writer in
            for pair in pairs {
                try writer.append([.blob(pair.prompt), .blob(pair.chosen.response), .blob(pair.rejected.response),
                                   .real(pair.chosen.mean), .real(pair.rejected.mean)])
            }
        }
    }
}
