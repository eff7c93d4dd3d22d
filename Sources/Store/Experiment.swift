import GRDB

/// Every dataset, run, round and checkpoint belongs to an experiment, so several loops share a store.
public enum Experiment {
    public static let defaultName = "default"

    /// The experiment's id, creating it on first use.
    public static func id(_ db: Database, _ name: String) throws -> Int64 {
        try validate(name: name)
        if let id = try Int64.fetchOne(db, sql: "SELECT id FROM experiment WHERE name = ?", arguments: [name]) {
            return id
        }
        try db.execute(sql: "INSERT INTO experiment(name) VALUES (?)", arguments: [name])
        return db.lastInsertedRowID
    }

    /// Experiment names appear in refs, logs and paths: the same alphabet as dataset names.
    public static func validate(name: String) throws {
        do { try DatasetRef.validate(name: name) } catch {
            throw SRLMError.invalid("experiment name '\(TerminalText.escaped(name, keepingNewlinesAndTabs: false))' must be 1-128 ASCII letters, digits, '-', '_', '.', ':'")
        }
    }

    /// The id of an existing experiment (reads never create one).
    public static func existingID(_ db: Database, _ name: String) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT id FROM experiment WHERE name = ?", arguments: [name])
    }

    /// The id of an experiment a read names: a mistyped name fails naming the experiments there are, rather than
    /// reading as an empty one.
    public static func requireID(_ db: Database, _ name: String) throws -> Int64 {
        if let id = try existingID(db, name) { return id }
        let names = try String.fetchAll(db, sql: "SELECT name FROM experiment ORDER BY name")
        throw SRLMError.notFound("no experiment '\(TerminalText.escaped(name, keepingNewlinesAndTabs: false))' in this store; "
                                 + (names.isEmpty ? "it has none yet" : "experiments: " + names.joined(separator: ", ")))
    }
}
