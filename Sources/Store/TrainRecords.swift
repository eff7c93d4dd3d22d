import Foundation
import GRDB

/// What a training run writes: its logged metrics as they stream, and at the end its checkpoint, the round's
/// policy → result link, provenance and stats, with the run's finish, in one transaction.
public enum TrainRecords {
    /// Every value of every trainer log as train_metric(run, step, name, value); the final summary shares the last
    /// step with the last log, so a repeated name (epoch) keeps its latest value.
    public static func storeMetrics(_ store: Store, run: Int64, _ metrics: [(step: Int, values: [String: Double?])]) throws {
        try store.write { db in
            for metric in metrics {
                for (name, value) in metric.values {
                    try db.execute(sql: "INSERT OR REPLACE INTO train_metric(run_id, step, name, value) VALUES (?, ?, ?, ?)",
                                   arguments: [run, metric.step, name, value])
                }
            }
        }
    }

    /// Round stages record their input model as `policy` and their output as `result`.
    public static func linkRound(_ store: Store, experiment: String, round: Int?, policy: Int64, result: Int64) throws {
        try store.write { try link($0, experiment: experiment, round: round, policy: policy, result: result) }
    }

    static func link(_ db: Database, experiment: String, round: Int?, policy: Int64?, result: Int64) throws {
        guard let round, let policy else { return }
        try Rounds.setCheckpoint(db, experiment: experiment, iteration: round, role: .policy, checkpoint: policy)
        try Rounds.setCheckpoint(db, experiment: experiment, iteration: round, role: .result, checkpoint: result)
    }

    /// Registers the trained checkpoint and finishes the run with its provenance and stats.
    public static func finish(_ store: Store, experiment: String, run: Int64, checkpoint: NewCheckpoint, round: Int?,
                              provenance: [String: Any], stats: [String: Any]) throws -> Checkpoint {
        try store.write { db in
            let made = try Checkpoints.register(db, experiment: experiment, checkpoint)
            try link(db, experiment: experiment, round: round, policy: checkpoint.baseID, result: made.id)
            try Runs.setProvenance(db, run, provenance)
            try Runs.setStats(db, run, stats)
            try Runs.finish(db, run)
            return made
        }
    }

}

extension Checkpoints {
    /// The checkpoint a finished run made, if any (its own read).
    public static func made(byRun run: Int64, _ store: Store) throws -> Checkpoint? {
        try store.read { try made(byRun: run, $0) }
    }

    public static func byID(_ store: Store, _ id: Int64) throws -> Checkpoint {
        try store.read { try byID($0, id) }
    }

    public static func find(_ store: Store, experiment: String, name: String) throws -> Checkpoint? {
        try store.read { try find($0, experiment: experiment, name: name) }
    }
}
