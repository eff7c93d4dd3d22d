import Foundation
import GRDB

/// Curation: a new version made of the rows of an existing one that pass a SQL filter, recorded as a run.
public enum Derive {
    /// `whereSQL` is one SQL expression over the kind's readable view (e.g. v_pairs: margin, chosen_score,
    /// prompt_text ...), evaluated on a read-only connection over a subquery of the source version's rows only:
    /// it can read but never write, and never select rows of another version.
    /// A condition that keeps no row is refused unless `allowEmpty`: a 0-row version is more often a mistyped
    /// condition than a wanted result.
    public static func run(_ store: Store, name: String, from ref: String, where whereSQL: String,
                           experiment: String = Experiment.defaultName, allowEmpty: Bool = false) throws -> (version: DatasetVersion?, unchanged: String?) {
        let source = try store.read { try DatasetVersion.resolve($0, ref, experiment: experiment) }
        let keep = try selectOrds(store, source, whereSQL)
        if keep.isEmpty && !allowEmpty {
            throw SRLMError.emptyVersion("the condition keeps none of \(source.ref)'s \(source.rowCount) rows: nothing written")
        }
        do {
            let version = try store.write { db -> DatasetVersion in
                let run = try Runs.begin(db, experiment: experiment, stage: "derive",
                                         config: ["from": source.ref, "where": whereSQL, "name": name],
                                         inputs: [source.id])
                let sameDataset = name == source.name
                let writer = try VersionWriter(db, experiment: experiment, name: name, kind: source.kind, runID: run.id,
                                               parent: sameDataset ? nil : source.id)
                try copyRows(db, from: source, ords: keep, into: writer)
                let version = try writer.finish(note: "derived from \(source.ref) where \(whereSQL)")
                try Runs.finish(db, run.id)
                return version
            }
            return (version, nil)
        } catch SRLMError.unchanged(let ref) {
            return (nil, ref)
        }
    }

    /// The `ord`s of the source's rows that pass the condition.
    static func selectOrds(_ store: Store, _ source: DatasetVersion, _ whereSQL: String) throws -> [Int64] {
        try SQLCondition.checkSingleExpression(whereSQL)
        // The newline keeps the closing parenthesis ours; the check above refused comments anyway.
        let sql = "SELECT ord FROM (SELECT * FROM \(source.kind.view) WHERE version_id = ?) WHERE (\(whereSQL)\n) ORDER BY ord"
        return try store.pool.read { db in
            do {
                let statement = try db.makeStatement(sql: sql)
                guard statement.isReadonly else { throw SRLMError.invalid("the condition must only read") }
                return try Int64.fetchAll(statement, arguments: [source.id])
            } catch let error as DatabaseError {
                // Rewritten against the view the condition reads: an unknown column lists its columns.
                throw SRLMError.sql("the condition: \(SQLErrorText.rewrite(error, sql: sql, db))")
            }
        }
    }

    /// Copies every row of `source` into the version `writer` is writing, in `ord` order.
    public static func copyAll(from source: DatasetVersion, into writer: VersionWriter) throws {
        let ords = try Int64.fetchAll(writer.db, sql: "SELECT ord FROM \(source.kind.table) WHERE version_id = ? ORDER BY ord", arguments: [source.id])
        try copyRows(writer.db, from: source, ords: ords, into: writer)
    }

    /// Copies rows (blob ids and typed values as stored) into a new version, in `ord` order.
    public static func copyRows(_ db: Database, from source: DatasetVersion, ords: [Int64], into writer: VersionWriter) throws {
        let columns = source.kind.columns
        let statement = try db.cachedStatement(sql: "SELECT \(columns.map(\.name).joined(separator: ", ")) FROM \(source.kind.table) WHERE version_id = ? AND ord = ?")
        for ord in ords {
            guard let row = try Row.fetchOne(statement, arguments: [source.id, ord]) else { continue }
            try writer.append(values(row, columns))
        }
    }

    /// Every row of `version` as its values (blob ids and typed values as stored), in `ord` order, one at a time.
    static func forEachRow(_ db: Database, of version: DatasetVersion, _ body: ([Value]) throws -> Void) throws {
        let columns = version.kind.columns
        let rows = try Row.fetchCursor(db, sql: "SELECT \(columns.map(\.name).joined(separator: ", ")) FROM \(version.kind.table) WHERE version_id = ? ORDER BY ord",
                                       arguments: [version.id])
        while let row = try rows.next() { try body(values(row, columns)) }
    }

    static func values(_ row: Row, _ columns: [Column]) -> [Value] {
        columns.enumerated().map { i, column in Value(stored: row[i], in: column) }
    }
}
