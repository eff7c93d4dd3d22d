import Foundation
import GRDB

/// SQLite's and GRDB's refusals of a user's SQL, rewritten for people: no library API advice, and for a name SQLite
/// does not know, the names it does know in that place and the nearest one.
public enum SQLErrorText {
    /// The typed error for `error`, raised while preparing or running `sql` on `db`.
    static func rewrite(_ error: DatabaseError, sql: String, _ db: Database) -> SRLMError {
        let message = error.message ?? "\(error)"
        if message.hasPrefix("Multiple statements found") {
            return .sql("srlm sql runs one statement at a time, and this text holds more than one (SQL after a `;`): "
                        + "run them one by one, or join them into one with WITH … or UNION ALL")
        }
        if message == "empty statement" { return .sql("there is no SQL statement to run (only spaces or comments)") }
        if let name = unknownName(message, prefix: "no such column: ") {
            let tables = referencedTables(sql, db)
            let columns = tables.flatMap { table in (try? columnNames(db, table)).map { [(table, $0)] } ?? [] }
            var text = "no such column: \(name)"
            let bare = String(name.split(separator: ".").last ?? Substring(name))
            if let guess = nearest(bare, among: columns.flatMap(\.1)) { text += " (did you mean \(guess)?)" }
            for (table, names) in columns { text += "\n  \(table): \(names.joined(separator: ", "))" }
            if columns.isEmpty { text += "\n  (no table or view in the statement was found to list its columns)" }
            return .sql(text)
        }
        if let name = unknownName(message, prefix: "no such table: ") {
            let known = (try? String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'view' AND name LIKE 'v\\_%' ESCAPE '\\' ORDER BY name")) ?? []
            let all = (try? String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name")) ?? []
            var text = "no such table or view: \(name)"
            if let guess = nearest(name, among: all) { text += " (did you mean \(guess)?)" }
            return .sql(text + "\n  the views: \(known.joined(separator: ", "))")
        }
        return .sql(message)
    }

    /// The name in a message of the form PREFIX NAME.
    static func unknownName(_ message: String, prefix: String) -> String? {
        guard message.hasPrefix(prefix) else { return nil }
        return String(message.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
    }

    /// The tables and views the statement names after FROM or JOIN that exist in the store, in order of mention.
    static func referencedTables(_ sql: String, _ db: Database) -> [String] {
        let known = Set((try? String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")) ?? [])
        let words = sql.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "_") }).map(String.init)
        var found: [String] = []
        for (i, word) in words.enumerated() where i + 1 < words.count && ["from", "join"].contains(word.lowercased()) {
            let name = words[i + 1]
            if known.contains(name), !found.contains(name) { found.append(name) }
        }
        return found
    }

    /// A table's or view's column names, in order.
    public static func columnNames(_ db: Database, _ table: String) throws -> [String] {
        try Row.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?)", arguments: [table]).map { $0[0] }
    }

    /// The candidate closest to `name` by edit distance (case-insensitive), if close enough to be a likely typo:
    /// at most a third of the name's letters, and at least one, differ; or one contains the other.
    static func nearest(_ name: String, among candidates: [String]) -> String? {
        let target = name.lowercased()
        let scored = candidates.map { ($0, editDistance(target, $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        if best.1 <= max(1, target.count / 3) { return best.0 }
        return candidates.first { $0.lowercased().contains(target) || (target.count > 3 && target.contains($0.lowercased())) }
    }

    /// Levenshtein distance over characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
