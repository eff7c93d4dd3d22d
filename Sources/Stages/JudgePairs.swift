import Foundation
import SRLMEngines
import SRLMMetrics
import SRLMStore

/// `srlm meta-judge --round N`, step 2 (no model): the meta-judge's battles become a rating per judgment
/// (Bradley–Terry on the Elo scale, among the judgments of one candidate) and judge-training pairs: what the judge was
/// asked, its highest-rated judgment as chosen and its lowest as rejected (their ratings as the scores), largest
/// rating gap first, so that a cap on judge pairs in training keeps the clearest ones. A candidate whose judgments
/// all rate the same gives no pair.
public struct JudgePairs: Stage {
    public static let name = "judge-pairs"
    public static let dataset = "judge-pairs"

    public struct Config: Codable, Hashable, Sendable {
        public var round: Int
        /// The meta-judge's battles ("": the round's); recorded resolved, as NAME@N.
        public var metaJudgments = ""

        public init(round: Int) { self.round = round }
    }

    public var config: Config

    public init(config: Config) { self.config = config }

    public func plan(_ context: StageContext, model: ModelIdentity?) throws -> StagePlan<Config, [StageRows.LabeledPair]> {
        let input = try Rounds.input(context.store, experiment: context.experiment, iteration: config.round, role: .metaJudgments,
                                     explicit: config.metaJudgments.isEmpty ? nil : config.metaJudgments, producedBy: "meta-judge")
        var config = self.config
        config.metaJudgments = input.ref
        return StagePlan(config: config, inputs: [input],
                         destination: .init(dataset: Self.dataset, kind: .pairs, round: config.round, role: .judgePairs),
                         seed: nil, work: try StageRows.labeledPairs(context.store, input))
    }

    /// One candidate's judgments with their ratings, in first-seen order.
    public struct Rated: Sendable, Equatable {
        public let prompt: BlobID
        public let judgments: [BlobID]
        public let elo: [Double]
    }

    public static func ratings(_ battles: [StageRows.LabeledPair]) -> [Rated] {
        var order: [BlobID] = []
        var players: [BlobID: [BlobID]] = [:]
        var fights: [BlobID: [StageRows.LabeledPair]] = [:]
        for battle in battles {
            if players[battle.prompt] == nil { order.append(battle.prompt); players[battle.prompt] = [] }
            for side in [battle.responseA, battle.responseB] where !players[battle.prompt]!.contains(side) { players[battle.prompt]!.append(side) }
            fights[battle.prompt, default: []].append(battle)
        }
        return order.map { prompt in
            let ids = players[prompt]!
            let index = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
            let results = fights[prompt]!.map { battle in
                BradleyTerry.Battle(a: index[battle.responseA]!, b: index[battle.responseB]!,
                                    outcomeForA: battle.label == "a" ? 1 : battle.label == "b" ? 0 : 0.5)
            }
            return Rated(prompt: prompt, judgments: ids, elo: BradleyTerry.elo(count: ids.count, results))
        }
    }

    public func execute(_ plan: StagePlan<Config, [StageRows.LabeledPair]>, _ run: StageRun) async throws -> StageOutput {
        let rated = Self.ratings(plan.work)
        var pairs: [(prompt: BlobID, chosen: BlobID, rejected: BlobID, high: Double, low: Double)] = []
        var level = 0
        for candidate in rated {
            let high = candidate.elo.indices.max { candidate.elo[$0] < candidate.elo[$1] }!
            let low = candidate.elo.indices.min { candidate.elo[$0] < candidate.elo[$1] }!
            // Equal within rounding: the meta-judge could not tell them apart.
            if candidate.elo[high] - candidate.elo[low] < 1e-6 { level += 1; continue }
            pairs.append((candidate.prompt, candidate.judgments[high], candidate.judgments[low], candidate.elo[high], candidate.elo[low]))
        }
        let ordered = pairs.enumerated().sorted { ($0.element.high - $0.element.low, -$0.offset) > ($1.element.high - $1.element.low, -$1.offset) }.map(\.element)
        let stats: [String: Any] = ["candidates": rated.count, "pairs": ordered.count, "all_rated_equal": level,
                                    "judgments_rated": rated.reduce(0) { $0 + $1.judgments.count },
                                    // Every judgment's rating, per candidate in the battles' order (a tenth of a point).
                                    "elo": rated.map { $0.elo.map { ($0 * 10).rounded() / 10 } }]
        return StageOutput(stats: stats) { writer in
            for pair in ordered {
                try writer.append([.blob(pair.prompt), .blob(pair.chosen), .blob(pair.rejected), .real(pair.high), .real(pair.low), .null, .null])
            }
        }
    }
}
