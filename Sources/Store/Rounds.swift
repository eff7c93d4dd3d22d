import GRDB

/// Rounds tie an iteration to the versions and checkpoints it used and made (`round_member`, one row per role).
public enum Rounds {
    public static func id(_ db: Database, experiment: String, iteration: Int) throws -> Int64 {
        let experimentID = try Experiment.id(db, experiment)
        if let id = try Int64.fetchOne(db, sql: "SELECT id FROM round WHERE experiment_id = ? AND iteration = ?",
                                       arguments: [experimentID, iteration]) { return id }
        try db.execute(sql: "INSERT INTO round(experiment_id, iteration) VALUES (?, ?)", arguments: [experimentID, iteration])
        return db.lastInsertedRowID
    }

    public static func setVersion(_ db: Database, experiment: String, iteration: Int, role: RoundRole, version: Int64) throws {
        let round = try id(db, experiment: experiment, iteration: iteration)
        try db.execute(sql: "INSERT OR REPLACE INTO round_member(round_id, role, version_id, checkpoint_id) VALUES (?, ?, ?, NULL)",
                       arguments: [round, role.rawValue, version])
    }

    public static func setCheckpoint(_ db: Database, experiment: String, iteration: Int, role: RoundRole, checkpoint: Int64) throws {
        let round = try id(db, experiment: experiment, iteration: iteration)
        try db.execute(sql: "INSERT OR REPLACE INTO round_member(round_id, role, version_id, checkpoint_id) VALUES (?, ?, NULL, ?)",
                       arguments: [round, role.rawValue, checkpoint])
    }

    static let memberSQL = """
        SELECT m.version_id, m.checkpoint_id FROM round_member m JOIN round r ON r.id = m.round_id
        JOIN experiment e ON e.id = r.experiment_id
        WHERE e.name = ? AND r.iteration = ? AND m.role = ?
        """

    /// The version a round holds in a role, if any.
    public static func version(_ db: Database, experiment: String, iteration: Int, role: RoundRole) throws -> DatasetVersion? {
        guard let row = try Row.fetchOne(db, sql: memberSQL, arguments: [experiment, iteration, role.rawValue]),
              let id = row[0] as Int64? else { return nil }
        return try DatasetVersion.byID(db, id)
    }

    /// The checkpoint a round holds in a role (policy, result), if any.
    public static func checkpoint(_ db: Database, experiment: String, iteration: Int, role: RoundRole) throws -> Checkpoint? {
        guard let row = try Row.fetchOne(db, sql: memberSQL, arguments: [experiment, iteration, role.rawValue]),
              let id = row[1] as Int64? else { return nil }
        return try Checkpoints.byID(db, id)
    }

    /// The version a round holds in a role, if any (its own read).
    public static func version(_ store: Store, experiment: String, iteration: Int, role: RoundRole) throws -> DatasetVersion? {
        try store.read { try version($0, experiment: experiment, iteration: iteration, role: role) }
    }

    /// The checkpoint a round holds in a role, if any (its own read).
    public static func checkpoint(_ store: Store, experiment: String, iteration: Int, role: RoundRole) throws -> Checkpoint? {
        try store.read { try checkpoint($0, experiment: experiment, iteration: iteration, role: role) }
    }

    /// The experiment's rounds, in order.
    public static func iterations(_ store: Store, experiment: String) throws -> [Int] {
        try store.read { db in
            try Int.fetchAll(db, sql: """
                SELECT r.iteration FROM round r JOIN experiment e ON e.id = r.experiment_id WHERE e.name = ? ORDER BY r.iteration
                """, arguments: [experiment])
        }
    }

    /// Fails unless the experiment has round `iteration`, naming the rounds it has (a read of a round that is not
    /// there must not look like an empty one).
    public static func require(_ store: Store, experiment: String, iteration: Int) throws {
        _ = try store.read { try Experiment.requireID($0, experiment) }
        let known = try iterations(store, experiment: experiment)
        guard !known.contains(iteration) else { return }
        throw SRLMError.notFound("experiment '\(experiment)' has no round \(iteration); "
                                 + (known.isEmpty ? "it has no rounds yet" : "rounds: " + known.map(String.init).joined(separator: ", ")))
    }

    /// The round's input for `role`: an explicit ref, else what the round recorded, else an error naming the stage
    /// that makes it.
    public static func input(_ store: Store, experiment: String, iteration: Int, role: RoundRole, explicit: String?,
                             producedBy stage: String) throws -> DatasetVersion {
        try store.read { db in
            if let explicit { return try DatasetVersion.resolve(db, explicit, experiment: experiment) }
            guard let version = try version(db, experiment: experiment, iteration: iteration, role: role) else {
                throw SRLMError.missingRoundInput(round: iteration, role: role, producedBy: stage)
            }
            return version
        }
    }
}
