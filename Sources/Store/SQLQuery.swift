import Foundation
import GRDB

/// The result of a user's SQL: column names and rows of display values, rendered as a table, CSV or JSON.
public struct QueryResult: Sendable {
    public let columns: [String]
    public let rows: [[DatabaseValue]]
    /// Columns whose text is JSON, printed by `--format json` as nested JSON rather than as a string holding it;
    /// text that does not parse stays a string.
    public var jsonColumns: Set<String>

    public init(columns: [String], rows: [[DatabaseValue]], jsonColumns: Set<String>? = nil) {
        self.columns = columns
        self.rows = rows
        self.jsonColumns = jsonColumns ?? Set(columns.filter(Self.holdsJSON))
    }

    /// The views' JSON columns by name: a run's config, stats and provenance, a checkpoint's metrics, a labelled
    /// pair's annotator votes, v_prompt_candidates' per-sample scores, rationales and judges, and every `*_json`
    /// column (message lists, requests).
    public static func holdsJSON(_ column: String) -> Bool {
        ["config", "stats", "provenance", "metrics", "votes", "scores", "rationales", "judges"].contains(column)
            || column.hasSuffix("_json")
    }

    public enum Format: String, CaseIterable, Sendable { case table, csv, json }

    /// `forTerminal` escapes control characters of the values (in JSON as \u escapes, so it stays valid), so
    /// dataset text cannot drive the terminal it is shown on.
    public func render(_ format: Format, maxWidth: Int = 60, forTerminal: Bool = false) -> String {
        switch format {
        case .table: return renderTable(maxWidth: maxWidth, escape: forTerminal)
        case .csv: return renderCSV(escape: forTerminal)
        case .json: return forTerminal ? TerminalText.escapedJSON(renderJSON()) : renderJSON()
        }
    }

    static func display(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .null: return ""
        case .int64(let v): return String(v)
        case .double(let v): return String(v)
        case .string(let s): return s
        case .blob(let d): return "x'" + d.hexString + "'"
        }
    }

    func renderTable(maxWidth: Int, escape: Bool = false) -> String {
        func clip(_ s: String) -> String {
            let flat = escape ? TerminalText.escaped(s.replacingOccurrences(of: "\n", with: "⏎"))
                              : s.replacingOccurrences(of: "\n", with: "⏎")
            return flat.count > maxWidth ? String(flat.prefix(maxWidth - 1)) + "…" : flat
        }
        let cells = rows.map { $0.map { clip(Self.display($0)) } }
        let columns = escape ? columns.map { TerminalText.escaped($0) } : columns
        var widths = columns.map(\.count)
        for row in cells { for (i, c) in row.enumerated() { widths[i] = max(widths[i], c.count) } }
        func line(_ values: [String]) -> String {
            zip(values, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: " │ ")
        }
        var out = [line(columns), widths.map { String(repeating: "─", count: $0) }.joined(separator: "─┼─")]
        out += cells.map(line)
        out.append("(\(rows.count) row\(rows.count == 1 ? "" : "s"))")
        return out.joined(separator: "\n") + "\n"
    }

    func renderCSV(escape: Bool = false) -> String {
        func quote(_ raw: String) -> String {
            let s = escape ? TerminalText.escaped(raw, keepingNewlinesAndTabs: true) : raw
            return s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        var out = columns.map(quote).joined(separator: ",") + "\n"
        for row in rows { out += row.map { quote(Self.display($0)) }.joined(separator: ",") + "\n" }
        return out
    }

    /// A JSON column's text as the value it holds (an object or array), else the text itself.
    static func nested(_ text: String) -> Any {
        guard text.first == "{" || text.first == "[",
              let value = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else { return text }
        return value
    }

    func renderJSON() -> String {
        let objects: [[String: Any]] = rows.map { row in
            var o: [String: Any] = [:]
            for (name, value) in zip(columns, row) {
                switch value.storage {
                case .null: o[name] = NSNull()
                case .int64(let v): o[name] = v
                // JSON has no infinities (SQLite has no NaN): written as strings rather than failing the document.
                case .double(let v): o[name] = v.isFinite ? v as Any : (v > 0 ? "Infinity" : "-Infinity") as Any
                case .string(let s): o[name] = jsonColumns.contains(name) ? Self.nested(s) : s as Any
                case .blob(let d): o[name] = d.hexString
                }
            }
            return o
        }
        do {
            return try CanonicalJSON.canonicalize(objects) + "\n"
        } catch {
            // Every value above is JSON-representable; say so loudly rather than print an empty result.
            preconditionFailure("query result is not representable as JSON: \(error)")
        }
    }
}

public enum SQLQuery {
    /// Runs one statement on a read-only connection: a write fails with a message that says so; SQLite's other
    /// refusals come back rewritten for people (`SQLErrorText`).
    public static func run(_ store: Store, _ sql: String, arguments: StatementArguments = []) throws -> QueryResult {
        do {
            return try store.pool.read { db in
                do {
                    let statement = try db.makeStatement(sql: sql)
                    if !statement.isReadonly {
                        throw SRLMError.invalid("srlm sql is read-only: write statements are refused (use `srlm derive` to make a new version)")
                    }
                    statement.arguments = arguments
                    let columns = statement.columnNames
                    var rows: [[DatabaseValue]] = []
                    let cursor = try Row.fetchCursor(statement)
                    while let row = try cursor.next() { rows.append(Array(row.databaseValues)) }
                    return QueryResult(columns: columns, rows: rows)
                } catch let error as DatabaseError where error.resultCode != .SQLITE_READONLY {
                    throw SQLErrorText.rewrite(error, sql: sql, db)
                }
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_READONLY {
            throw SRLMError.invalid("srlm sql is read-only: write statements are refused (\(error.message ?? ""))")
        }
    }

    /// The text of a SQL file named on the command line (`srlm sql --file`, `srlm query PATH.sql`).
    public static func file(_ path: String) throws -> String {
        guard FileManager.default.fileExists(atPath: path) else { throw SRLMError.notFound("no SQL file at \(path)") }
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw SRLMError.invalid("\(path): cannot read it as UTF-8 text (\(error.localizedDescription))")
        }
    }
}
