import GRDB
import SRLMStore

/// Rounds tie an iteration to the versions and checkpoints it used and made (roles: prompts, candidates,
/// judgments, pairs, policy, result).
public enum Rounds {
    public static func id(_ db: Database, experiment: String, iteration: Int) throws -> Int64 {
        let experimentID = try Experiment.id(db, experiment)
        if let id = try Int64.fetchOne(db, sql: "SELECT id FROM round WHERE experiment_id = ? AND iteration = ?",
                                       arguments: [experimentID, iteration]) { return id }
        try db.execute(sql: "INSERT INTO round(experiment_id, iteration) VALUES (?, ?)", arguments: [experimentID, iteration])
        return db.lastInsertedRowID
    }

    public static func setVersion(_ db: Database, experiment: String, iteration: Int, role: String, version: Int64) throws {
        let round = try id(db, experiment: experiment, iteration: iteration)
        try db.execute(sql: "INSERT OR REPLACE INTO round_member(round_id, role, version_id, checkpoint_id) VALUES (?, ?, ?, NULL)",
                       arguments: [round, role, version])
    }

    public static func setCheckpoint(_ db: Database, experiment: String, iteration: Int, role: String, checkpoint: Int64) throws {
        let round = try id(db, experiment: experiment, iteration: iteration)
        try db.execute(sql: "INSERT OR REPLACE INTO round_member(round_id, role, version_id, checkpoint_id) VALUES (?, ?, NULL, ?)",
                       arguments: [round, role, checkpoint])
    }

    /// The version a round holds in a role, if any.
    public static func version(_ db: Database, experiment: String, iteration: Int, role: String) throws -> DatasetVersion? {
        guard let id = try Int64.fetchOne(db, sql: """
            SELECT m.version_id FROM round_member m JOIN round r ON r.id = m.round_id
            JOIN experiment e ON e.id = r.experiment_id
            WHERE e.name = ? AND r.iteration = ? AND m.role = ?
            """, arguments: [experiment, iteration, role]) else { return nil }
        return try DatasetVersion.byID(db, id)
    }

    /// The round's input for `role`: an explicit ref, else what the round recorded, else an error naming the stage to run.
    public static func input(_ store: Store, experiment: String, iteration: Int, role: String, explicit: String?,
                             producedBy stage: String) throws -> DatasetVersion {
        try store.read { db in
            if let explicit { return try DatasetVersion.resolve(db, explicit, experiment: experiment) }
            guard let version = try version(db, experiment: experiment, iteration: iteration, role: role) else {
                throw StoreError.notFound("round \(iteration) has no \(role) yet: run `srlm \(stage) --round \(iteration)` first")
            }
            return version
        }
    }
}
