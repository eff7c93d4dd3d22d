import Foundation
import SRLMEngines
import SRLMStore

/// Several judges' judgments of the same candidates as the round's one judgments version (`srlm judge --judges
/// self,M1,URL`): every judge's rows, each under its own `judge_model`, so pairs can combine them (`srlm pairs
/// --aggregate mean|median|vote|veto`) and `srlm query judge-agreement` can set each two judges side by side.
public struct JudgePanel: Stage {
    public static let name = "judge-panel"

    public struct Config: Codable, Hashable, Sendable {
        public var round: Int
        /// Each judge's judgments; recorded resolved, as NAME@N.
        public var judgments: [String]

        public init(round: Int, judgments: [String]) {
            self.round = round
            self.judgments = judgments
        }
    }

    public var config: Config

    public init(config: Config) { self.config = config }

    public func plan(_ context: StageContext, model: ModelIdentity?) throws -> StagePlan<Config, [DatasetVersion]> {
        let inputs = try config.judgments.map { try context.version($0) }
        for input in inputs where input.kind != .judgments {
            throw SRLMError.wrongKind(ref: input.ref, holds: input.kind.rawValue, expected: "judgments")
        }
        guard inputs.count >= 2 else { throw SRLMError.invalid("a judge panel needs two or more judges' judgments, got \(inputs.count)") }
        var config = self.config
        config.judgments = inputs.map(\.ref)
        return StagePlan(config: config, inputs: inputs,
                         destination: .init(dataset: Judge.dataset, kind: .judgments, round: config.round, role: .judgments),
                         seed: nil, work: inputs)
    }

    public func execute(_ plan: StagePlan<Config, [DatasetVersion]>, _ run: StageRun) async throws -> StageOutput {
        let perVersion = try run.context.store.read { db in
            try plan.work.map { try String.fetchAll(db, sql: "SELECT DISTINCT judge_model FROM judgment WHERE version_id = ?", arguments: [$0.id]) }
        }
        var owner: [String: String] = [:]
        for (version, labels) in zip(plan.work, perVersion) {
            guard labels.count == 1 else {
                throw SRLMError.invalid("\(version.ref) holds \(labels.count) judges (\(labels.joined(separator: ", "))), not one")
            }
            if let other = owner[labels[0]] {
                // Two GGUF files with one file name (model.q8_0.gguf) get one label: their scores could not be told apart.
                throw SRLMError.invalid("\(other) and \(version.ref) are both judged by '\(labels[0])': name each judge's model "
                                          + "apart (a checkpoint name, `srlm checkpoint add NAME --gguf FILE`, or distinct file names)")
            }
            owner[labels[0]] = version.ref
        }
        let judges = owner.keys
        return StageOutput(stats: ["judges": judges.count, "rows": plan.work.reduce(0) { $0 + $1.rowCount }]) { writer in
            for input in plan.work { try Derive.copyAll(from: input, into: writer) }
        }
    }
}
