import GRDB

/// One row of a query result read by column name, for library code that shows a named query's figures (the report)
/// without touching SQLite types.
public struct QueryRow: Sendable {
    let values: [String: DatabaseValue]

    public func double(_ column: String) -> Double? {
        switch values[column]?.storage {
        case .int64(let v): Double(v)
        case .double(let v): v
        case .string(let s): Double(s)
        default: nil
        }
    }

    public func int(_ column: String) -> Int? { double(column).map { Int($0) } }

    public func text(_ column: String) -> String? {
        guard let value = values[column], !value.isNull else { return nil }
        return QueryResult.display(value)
    }
}

extension QueryResult {
    /// The same columns with only the rows at `indices`.
    public func keeping(_ indices: [Int]) -> QueryResult {
        QueryResult(columns: columns, rows: indices.map { rows[$0] }, jsonColumns: jsonColumns)
    }

    public var records: [QueryRow] {
        rows.map { QueryRow(values: Dictionary(zip(columns, $0), uniquingKeysWith: { first, _ in first })) }
    }
}

public enum NamedQuery {
    /// Runs `queries/NAME.sql`, or the SQL file at a path (a name with a `/` or ending in `.sql`), for an
    /// experiment: a query that names `:experiment` gets it.
    public static func run(_ store: Store, _ name: String, experiment: String) throws -> QueryResult {
        let sql = isPath(name) ? try SQLQuery.file(name) : try Schema.query(named: name)
        return try SQLQuery.run(store, sql, arguments: sql.contains(":experiment") ? ["experiment": experiment] : [])
    }

    /// A query given as a file rather than a name of queries/.
    static func isPath(_ name: String) -> Bool { name.contains("/") || name.hasSuffix(".sql") }
}
