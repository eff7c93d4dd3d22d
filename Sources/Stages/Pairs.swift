import Foundation
import GRDB
import SRLMStore

/// Step 4: per prompt, chosen = the candidate with the highest mean judge score, rejected = the lowest; ties and
/// pairs under `minMargin` are dropped; candidates without a parsed score are left out.
public struct Pairs: Sendable {
    public static let stage = "pairs"
    public static let dataset = "pairs"

    public struct Config: Codable, Hashable, Sendable {
        public var round: Int
        public var minMargin = 0.0
        public var judgments = ""

        public init(round: Int) { self.round = round }
    }

    public var config: Config
    public var judgmentsRef: String?

    public init(config: Config, judgmentsRef: String? = nil) {
        self.config = config
        self.judgmentsRef = judgmentsRef
    }

    struct Scored {
        let response: BlobID
        var scores: [Double] = []
        var mean: Double { scores.reduce(0, +) / Double(scores.count) }
    }

    public func run(_ context: StageContext) throws -> StageResult {
        let input = try Rounds.input(context.store, experiment: context.experiment, iteration: config.round,
                                     role: "judgments", explicit: judgmentsRef, producedBy: "judge")
        var config = self.config
        config.judgments = input.ref
        if let reused = try context.reuse(stage: Self.stage, config: config, inputs: [input.id], round: config.round, role: "pairs") {
            return reused
        }
        let run = try context.beginRun(stage: Self.stage, config: config, inputs: [input.id], seed: nil)
        do {
            var dropped: [String: Int] = [:]
            var kept = 0
            var prompts = 0
            var withoutScore = 0
            let stats = { () -> [String: Any] in
                ["prompts": prompts, "kept": kept, "dropped": dropped, "candidates_without_score": withoutScore]
            }
            let version = try context.commit(run: run, round: config.round, role: "pairs", stats: stats) { db in
                // Candidates in first-seen order per prompt, prompts in first-seen order: deterministic output.
                var order: [BlobID] = []
                var byPrompt: [BlobID: [Scored]] = [:]
                var unscored: [BlobID: Set<BlobID>] = [:]
                let cursor = try Row.fetchCursor(db, sql: "SELECT prompt, response, score FROM judgment WHERE version_id = ? ORDER BY ord",
                                                 arguments: [input.id])
                while let row = try cursor.next() {
                    let prompt: BlobID = row["prompt"], response: BlobID = row["response"]
                    let score: Double? = row["score"]
                    if byPrompt[prompt] == nil { order.append(prompt); byPrompt[prompt] = [] }
                    var list = byPrompt[prompt]!
                    let index = list.firstIndex { $0.response == response } ?? { list.append(Scored(response: response)); return list.count - 1 }()
                    if let score { list[index].scores.append(score) } else { unscored[prompt, default: []].insert(response) }
                    byPrompt[prompt] = list
                }
                prompts = order.count
                let writer = try VersionWriter(db, experiment: context.experiment, name: Self.dataset, kind: .pairs, runID: run.id)
                for prompt in order {
                    let scored = byPrompt[prompt]!.filter { !$0.scores.isEmpty }
                    guard scored.count >= 2 else { dropped["fewer than 2 scored candidates", default: 0] += 1; continue }
                    // max/min by mean; the first candidate wins equal means, so ties are seen as margin 0.
                    let chosen = scored.max { $0.mean < $1.mean }!
                    let rejected = scored.min { $0.mean < $1.mean }!
                    let margin = chosen.mean - rejected.mean
                    if margin == 0 { dropped["tie", default: 0] += 1; continue }
                    if margin < config.minMargin { dropped["margin below \(config.minMargin)", default: 0] += 1; continue }
                    try writer.append([.blob(prompt), .blob(chosen.response),
                                       .blob(rejected.response), .real(chosen.mean), .real(rejected.mean)])
                    kept += 1
                }
                withoutScore = unscored.values.map(\.count).reduce(0, +)
                return try writer.finish()
            }
            var counts: [String: Double] = ["prompts": Double(prompts), "kept": Double(kept)]
            for (reason, count) in dropped { counts["dropped: " + reason] = Double(count) }
            return StageResult(version: version, runID: run.id, reused: false, stats: counts)
        } catch {
            throw context.failRun(run, error)
        }
    }
}
