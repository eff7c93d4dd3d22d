import Foundation
import GRDB

/// Curation: a new version made of the rows of an existing one that pass a SQL filter, recorded as a run.
public enum Derive {
    /// `whereSQL` is evaluated on a read-only connection against the kind's readable view (e.g. v_pairs: margin,
    /// chosen_score, prompt_text ...), so it can read but never write.
    public static func run(_ store: Store, name: String, from ref: String, where whereSQL: String,
                           experiment: String = Experiment.defaultName) throws -> (version: DatasetVersion?, unchanged: String?) {
        let source = try store.read { try DatasetVersion.resolve($0, ref, experiment: experiment) }
        let keep: [Int64]
        do {
            keep = try store.pool.read { db in
                try Int64.fetchAll(db, sql: "SELECT ord FROM \(source.kind.view) WHERE version_id = ? AND (\(whereSQL)) ORDER BY ord",
                                   arguments: [source.id])
            }
        } catch let error as DatabaseError {
            throw SRLMError.invalid("--where: \(error.message ?? "\(error)") (columns of \(source.kind.view) are available)")
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

    /// Copies rows (blob ids and typed values as stored) into a new version, in `ord` order.
    public static func copyRows(_ db: Database, from source: DatasetVersion, ords: [Int64], into writer: VersionWriter) throws {
        let columns = source.kind.columns
        let statement = try db.cachedStatement(sql: "SELECT \(columns.map(\.name).joined(separator: ", ")) FROM \(source.kind.table) WHERE version_id = ? AND ord = ?")
        for ord in ords {
            guard let row = try Row.fetchOne(statement, arguments: [source.id, ord]) else { continue }
            try writer.append(values(row, columns))
        }
    }

    static func values(_ row: Row, _ columns: [Column]) -> [Value] {
        columns.enumerated().map { i, column in
            let dbValue: DatabaseValue = row[i]
            switch dbValue.storage {
            case .null: return .null
            case .int64(let v):
                switch column.kind {
                case .blob: return .blob(v)
                case .real: return .real(Double(v))
                default: return .int(v)
                }
            case .double(let v): return .real(v)
            case .string(let s): return .text(s)
            case .blob(let d): return .bytes(d)
            }
        }
    }
}
