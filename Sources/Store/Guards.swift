import GRDB

/// The triggers that keep versions, their rows and blob packs immutable (migrations 001, 005, 009). srlm's own
/// maintenance (compact, rm, gc) lifts the ones it needs inside its write transaction and puts them back, from the
/// text SQLite stored, before that transaction commits: no other client ever sees the store unguarded.
enum Guards {
    static let packs = ["blob_pack_undeletable", "blob_pack_appended_only"]

    /// `dataset_version_undeletable` and every table's `*_sealed_delete`.
    static func versions(_ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: """
            SELECT name FROM sqlite_master WHERE type = 'trigger'
            AND (name = 'dataset_version_undeletable' OR name LIKE '%\\_sealed\\_delete' ESCAPE '\\') ORDER BY name
            """)
    }

    static func lifted<T>(_ db: Database, _ names: [String], _ body: () throws -> T) throws -> T {
        let saved = try names.map { name in
            guard let sql = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?",
                                                arguments: [name]) else {
                throw SRLMError.invalid("the store has no trigger \(name): is it an srlm store?")
            }
            return sql
        }
        for name in names { try db.execute(sql: "DROP TRIGGER \(name)") }
        let result = try body()
        for sql in saved { try db.execute(sql: sql) }
        return result
    }

    /// A JSON array of ids, for `IN (SELECT value FROM json_each(?))`: one statement for a set of any size.
    static func json<S: Sequence>(_ ids: S) -> String where S.Element == Int64 {
        "[" + ids.map(String.init).joined(separator: ",") + "]"
    }
}
