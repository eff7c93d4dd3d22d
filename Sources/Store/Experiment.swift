import GRDB

/// Every dataset, run, round and checkpoint belongs to an experiment, so several loops share a store.
public enum Experiment {
    public static let defaultName = "default"

    /// The experiment's id, creating it on first use.
    public static func id(_ db: Database, _ name: String) throws -> Int64 {
        guard !name.isEmpty else { throw SRLMError.invalid("experiment name is empty") }
        if let id = try Int64.fetchOne(db, sql: "SELECT id FROM experiment WHERE name = ?", arguments: [name]) {
            return id
        }
        try db.execute(sql: "INSERT INTO experiment(name) VALUES (?)", arguments: [name])
        return db.lastInsertedRowID
    }

    /// The id of an existing experiment (reads never create one).
    public static func existingID(_ db: Database, _ name: String) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT id FROM experiment WHERE name = ?", arguments: [name])
    }
}
