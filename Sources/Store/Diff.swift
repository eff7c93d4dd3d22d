import Foundation
import GRDB
import GRDBSQLite

/// What changed between two versions of the same kind, row by row.
public struct DatasetDiff: Codable, Sendable {
    public struct RowChange: Codable, Sendable, Equatable {
        /// The row key: the blob id when the key is one text column (`srlm_text(key)` shows it), else the hex
        /// SHA-256 of the key columns' values.
        public let key: String
        /// added | removed | modified
        public let change: String
        /// The meaning columns whose values differ (modified rows only).
        public let columns: [String]
        public let fromOrd: Int?
        public let toOrd: Int?
    }

    public let from: String
    public let to: String
    public let kind: String
    public let added: Int
    public let removed: Int
    public let modified: Int
    public let unchanged: Int
    /// Sorted by change, then key, then ord; at most `rowLimit` of them.
    public let rows: [RowChange]

    /// A one-line summary, e.g. "hh@1 → hh@2: 3 rows added, 1 removed, 2 modified (12 unchanged)".
    public func statLine() -> String {
        "\(from) → \(to): \(added) \(added == 1 ? "row" : "rows") added, \(removed) removed, \(modified) modified (\(unchanged) unchanged)"
    }
}

public enum Differ {
    /// Compares two versions by row key (`kind.keyColumns`). Within one key, rows with equal meaning are matched
    /// first, so reordering never counts as a change; the rest pair up by occurrence in `ord` order (the n-th left
    /// over in `from` with the n-th in `to`) as modified, and any surplus is added or removed. Rows in segments both
    /// versions share (`version_segment`) are unchanged without being read, so the cost grows with the changes when
    /// one version derives from the other; among identical rows of one key, which ords a change names may then differ
    /// from a full read's (the counts never do).
    public static func diff(_ db: Database, from: DatasetVersion, to: DatasetVersion, rowLimit: Int? = nil) throws -> DatasetDiff {
        try check(from, to, rowLimit)
        let plan = try ReadPlan(db, from, to)
        return try diff(db, from: from, to: to, rowLimit: rowLimit, old: try entries(db, from, ords: plan.old),
                        new: try entries(db, to, ords: plan.new), sharedRows: plan.sharedRows)
    }

    /// The rows each side must read: those outside the segments both versions share, or all of them (nil) when
    /// either has no segments or they share none.
    struct ReadPlan: Sendable {
        let old: [Range<Int>]?
        let new: [Range<Int>]?
        let sharedRows: Int

        init(_ db: Database, _ from: DatasetVersion, _ to: DatasetVersion) throws {
            guard let a = try VersionSegments.read(db, from), let b = try VersionSegments.read(db, to) else {
                (old, new, sharedRows) = (nil, nil, 0)
                return
            }
            let unshared = VersionSegments.unshared(a, b)
            sharedRows = unshared.sharedRows
            (old, new) = sharedRows == 0 ? (nil, nil) : (unshared.old, unshared.new)
        }
    }

    static func check(_ from: DatasetVersion, _ to: DatasetVersion, _ rowLimit: Int?) throws {
        guard from.kind == to.kind else {
            throw SRLMError.invalid("cannot diff \(from.ref) (\(from.kind.rawValue)) with \(to.ref) (\(to.kind.rawValue)): "
                                     + "versions of different kinds")
        }
        if let rowLimit, rowLimit < 0 { throw SRLMError.invalid("the row limit must be 0 or more, not \(rowLimit)") }
    }

    static func diff(_ db: Database, from: DatasetVersion, to: DatasetVersion, rowLimit: Int?,
                     old: [Entry], new: [Entry], sharedRows: Int) throws -> DatasetDiff {
        let kind = from.kind
        let blobKey = isBlobKey(kind)
        var added: [Change] = [], removed: [Change] = [], modified: [Change] = []
        var unchanged = sharedRows
        // Both sides are sorted by (key, ord): walk them one key group at a time.
        var i = 0, j = 0
        while i < old.count || j < new.count {
            let key = j == new.count || (i < old.count && old[i].key < new[j].key) ? old[i].key : new[j].key
            let i0 = i, j0 = j
            while i < old.count && old[i].key == key { i += 1 }
            while j < new.count && new[j].key == key { j += 1 }
            let (a, b) = (old[i0..<i], new[j0..<j])
            if a.count == 1 && b.count == 1 {
                if a.first!.row == b.first!.row { unchanged += 1 } else { modified.append(Change(key, a.first!.ord, b.first!.ord)) }
                continue
            }
            let (left, right, same) = unmatched(a, b)
            unchanged += same
            for n in 0..<max(left.count, right.count) {
                switch (n < left.count ? left[n] : nil, n < right.count ? right[n] : nil) {
                case let (l?, r?): modified.append(Change(key, l, r))
                case let (l?, nil): removed.append(Change(key, l, nil))
                case let (nil, r?): added.append(Change(key, nil, r))
                case (nil, nil): break
                }
            }
        }
        // Each list was filled in (key, ord) order by the walk, so this is already change, then key, then ord.
        let listed = Array((added.map { ($0, "added") } + modified.map { ($0, "modified") } + removed.map { ($0, "removed") })
            .prefix(rowLimit ?? Int.max))
        let columns = try differingColumns(db, kind, from: from.id, to: to.id,
                                           pairs: listed.filter { $0.1 == "modified" }.map(\.0))
        let rows = listed.map { change, name in
            DatasetDiff.RowChange(key: blobKey ? String(Int64(bitPattern: change.key.d)) : change.key.hex, change: name,
                                  columns: name == "modified" ? columns[change.fromOrd!] ?? [] : [],
                                  fromOrd: change.fromOrd, toOrd: change.toOrd)
        }
        return DatasetDiff(from: from.ref, to: to.ref, kind: kind.rawValue, added: added.count, removed: removed.count,
                           modified: modified.count, unchanged: unchanged, rows: rows)
    }

    struct Entry {
        let key: Hash32
        let row: Hash32
        let ord: Int
    }

    struct Change {
        let key: Hash32
        let fromOrd: Int?
        let toOrd: Int?
        init(_ key: Hash32, _ fromOrd: Int?, _ toOrd: Int?) { (self.key, self.fromOrd, self.toOrd) = (key, fromOrd, toOrd) }
    }

    static func isBlobKey(_ kind: ArtifactKind) -> Bool {
        kind.keyColumns.count == 1 && kind.columns.first { $0.name == kind.keyColumns[0] }?.kind == .blob
    }

    /// The (key, meaning, ord) of every row, or of the rows in `ords`, sorted by key then ord: no blob reads. Within
    /// one store equal texts have one blob id, so the stored values stand for the row's meaning. Columns are read
    /// straight off the SQLite statement and each row is hashed from one reused buffer: a diff that reads whole
    /// versions is bound by this loop.
    static func entries(_ db: Database, _ version: DatasetVersion, ords: [Range<Int>]? = nil) throws -> [Entry] {
        let kind = version.kind
        let keys = kind.keyColumns
        let meaning = kind.columns.filter(\.meaning).map(\.name)
        let blobKey = isBlobKey(kind)
        let statement = try db.makeStatement(sql: "SELECT ord, \((meaning + keys).joined(separator: ", ")) FROM \(kind.table) "
                                             + "WHERE version_id = ?" + (ords == nil ? "" : " AND ord >= ? AND ord < ?"))
        let sqlite = statement.sqliteStatement
        let labels = (meaning + keys).map { Array(("\u{0}" + $0 + "=").utf8) }
        var out: [Entry] = []
        out.reserveCapacity(ords?.reduce(0) { $0 + $1.count } ?? version.rowCount)
        var buffer: [UInt8] = []
        func digest(_ columns: Range<Int>) -> Hash32 {
            buffer.removeAll(keepingCapacity: true)
            for c in columns {
                buffer.append(contentsOf: labels[c - 1])
                append(&buffer, sqlite, Int32(c))
            }
            return buffer.withUnsafeBytes(ContentHash.digest)
        }
        for range in ords ?? [0..<Int.max] {
            try statement.setArguments(ords == nil ? [version.id] : [version.id, range.lowerBound, range.upperBound])
            while true {
                let rc = sqlite3_step(sqlite)
                if rc == SQLITE_DONE { break }
                guard rc == SQLITE_ROW else { throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: db.lastErrorMessage) }
                let ord = Int(sqlite3_column_int64(sqlite, 0))
                let keyStart = 1 + meaning.count
                let key: Hash32
                if blobKey, sqlite3_column_type(sqlite, Int32(keyStart)) == SQLITE_INTEGER {
                    key = Hash32(a: 0, b: 0, c: 0, d: UInt64(bitPattern: sqlite3_column_int64(sqlite, Int32(keyStart))))
                } else {
                    key = digest(keyStart..<(keyStart + keys.count))
                }
                out.append(Entry(key: key, row: digest(1..<keyStart), ord: ord))
            }
        }
        out.sort { ($0.key, $0.ord) < ($1.key, $1.ord) }
        return out
    }

    /// One column of the current row in the same typed encoding as `ArtifactKind.rowHash` (N, I<int>, R<canonical
    /// real>, T<bytes>:<text>, B<bytes>), so equal values give equal keys whatever their storage.
    static func append(_ buffer: inout [UInt8], _ statement: SQLiteStatement, _ column: Int32) {
        switch sqlite3_column_type(statement, column) {
        case SQLITE_NULL: buffer.append(UInt8(ascii: "N"))
        case SQLITE_INTEGER:
            buffer.append(UInt8(ascii: "I"))
            DecimalDigits.append(sqlite3_column_int64(statement, column), to: &buffer)
        case SQLITE_FLOAT: buffer.append(contentsOf: ("R" + ArtifactKind.canonical(sqlite3_column_double(statement, column))).utf8)
        case SQLITE_TEXT:
            let count = Int(sqlite3_column_bytes(statement, column))
            buffer.append(contentsOf: "T\(count):".utf8)
            if let text = sqlite3_column_text(statement, column) { buffer.append(contentsOf: UnsafeBufferPointer(start: text, count: count)) }
        default:
            let count = Int(sqlite3_column_bytes(statement, column))
            buffer.append(UInt8(ascii: "B"))
            if let bytes = sqlite3_column_blob(statement, column) {
                buffer.append(contentsOf: UnsafeRawBufferPointer(start: bytes, count: count))
            }
        }
    }

    /// Within one key group: the ords left over on each side (in ord order) after matching equal row hashes, and
    /// how many matched.
    static func unmatched(_ a: ArraySlice<Entry>, _ b: ArraySlice<Entry>) -> (left: [Int], right: [Int], same: Int) {
        let sa = a.sorted { ($0.row, $0.ord) < ($1.row, $1.ord) }
        let sb = b.sorted { ($0.row, $0.ord) < ($1.row, $1.ord) }
        var left: [Int] = [], right: [Int] = []
        var i = 0, j = 0, same = 0
        while i < sa.count || j < sb.count {
            if j == sb.count || (i < sa.count && sa[i].row < sb[j].row) { left.append(sa[i].ord); i += 1 }
            else if i == sa.count || sb[j].row < sa[i].row { right.append(sb[j].ord); j += 1 }
            else { same += 1; i += 1; j += 1 }
        }
        return (left.sorted(), right.sorted(), same)
    }

    /// For each listed modified pair (by from-ord), the meaning columns whose stored values differ: one query per
    /// side, restricted to the listed ords.
    static func differingColumns(_ db: Database, _ kind: ArtifactKind, from: Int64, to: Int64,
                                 pairs: [Change]) throws -> [Int: [String]] {
        guard !pairs.isEmpty else { return [:] }
        let meaning = kind.columns.filter(\.meaning).map(\.name)
        func values(_ version: Int64, _ ords: [Int]) throws -> [Int: [DatabaseValue]] {
            let list = "[" + ords.map(String.init).joined(separator: ",") + "]"
            let sql = "SELECT ord, \(meaning.joined(separator: ", ")) FROM \(kind.table) "
                + "WHERE version_id = ? AND ord IN (SELECT value FROM json_each(?))"
            var out: [Int: [DatabaseValue]] = [:]
            for row in try Row.fetchAll(db, sql: sql, arguments: [version, list]) {
                out[row[0]] = (1...meaning.count).map { row[$0] as DatabaseValue }
            }
            return out
        }
        let old = try values(from, pairs.map { $0.fromOrd! }), new = try values(to, pairs.map { $0.toOrd! })
        var result: [Int: [String]] = [:]
        for pair in pairs {
            guard let a = old[pair.fromOrd!], let b = new[pair.toOrd!] else { continue }
            result[pair.fromOrd!] = zip(meaning, zip(a, b)).filter { !same($1.0, $1.1) }.map(\.0)
        }
        return result
    }

    /// Equality as the row hash sees it: reals by their canonical text (so -0 equals 0).
    static func same(_ a: DatabaseValue, _ b: DatabaseValue) -> Bool {
        if case .double(let x) = a.storage, case .double(let y) = b.storage {
            return ArtifactKind.canonical(x) == ArtifactKind.canonical(y)
        }
        return a == b
    }
}

extension Differ {
    /// The diff in its own reads, each version's rows read and sorted on a core of its own when there are two
    /// (versions are immutable, so two snapshots see the same rows).
    public static func diff(_ store: Store, from: DatasetVersion, to: DatasetVersion, rowLimit: Int? = nil) throws -> DatasetDiff {
        try check(from, to, rowLimit)
        let plan = try store.read { try ReadPlan($0, from, to) }
        let sides = ResultSlots<[Entry]>(count: 2)
        let read: @Sendable (Int) -> Void = { i in
            sides.set(i, Result { try store.read { try entries($0, i == 0 ? from : to, ords: i == 0 ? plan.old : plan.new) } })
        }
        if Parallelism.threads > 1 {
            DispatchQueue.concurrentPerform(iterations: 2, execute: read)
        } else {
            read(0)
            read(1)
        }
        let (old, new) = (try sides.get(0), try sides.get(1))
        return try store.read { try diff($0, from: from, to: to, rowLimit: rowLimit, old: old, new: new, sharedRows: plan.sharedRows) }
    }
}

extension DatasetVersion {
    /// `NAME[@N]` in `experiment`, or `exp:EXPERIMENT/NAME[@N]` in another one (`/` never occurs in a name).
    public static func resolve(_ store: Store, qualified text: String, experiment: String) throws -> DatasetVersion {
        var (experiment, ref) = (experiment, text)
        if text.hasPrefix("exp:") {
            let rest = text.dropFirst(4)
            guard let slash = rest.firstIndex(of: "/"), slash != rest.startIndex else {
                throw SRLMError.invalid("'\(text)': a version of another experiment is exp:EXPERIMENT/NAME[@N]")
            }
            (experiment, ref) = (String(rest[..<slash]), String(rest[rest.index(after: slash)...]))
        }
        return try store.read { try resolve($0, ref, experiment: experiment) }
    }
}
