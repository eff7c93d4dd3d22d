import Foundation
import GRDB
import GRDBSQLite

/// Writes one new immutable version of a dataset inside the caller's write transaction: append rows, then
/// `finish()`. Identical content to the latest version throws `SRLMError.unchanged` so the caller's transaction
/// rolls back and nothing is written.
public final class VersionWriter {
    public let kind: ArtifactKind
    public let name: String
    public let blobs: BlobWriter
    /// The write transaction the version goes into (internal: rows that go with it, e.g. prompt rejections).
    let db: Database
    private let datasetID: Int64
    private let versionID: Int64
    private let runID: Int64?
    private let parentID: Int64?
    private let insert: Statement
    private var rowHashes: [ContentHash] = []
    private var blobColumns: [Bool]

    /// - Parameter parent: the version this one derives from; default: the dataset's latest version.
    public init(_ db: Database, experiment: String, name: String, kind: ArtifactKind, runID: Int64?,
                parent: Int64? = nil, blobs: BlobWriter? = nil) throws {
        try DatasetRef.validate(name: name)
        self.db = db
        self.kind = kind
        self.name = name
        self.runID = runID
        self.blobs = try blobs ?? BlobWriter.in(db)
        let experimentID = try Experiment.id(db, experiment)
        if let row = try Row.fetchOne(db, sql: "SELECT id, kind FROM dataset WHERE experiment_id = ? AND name = ?",
                                      arguments: [experimentID, name]) {
            let existing: String = row["kind"]
            guard existing == kind.rawValue else {
                throw SRLMError.invalid("dataset '\(name)' holds \(existing) rows, not \(kind.rawValue)")
            }
            datasetID = row["id"]
        } else {
            try db.execute(sql: "INSERT INTO dataset(experiment_id, name, kind) VALUES (?, ?, ?)",
                           arguments: [experimentID, name, kind.rawValue])
            datasetID = db.lastInsertedRowID
        }
        let latest = try Int64.fetchOne(db, sql: "SELECT id FROM dataset_version WHERE dataset_id = ? ORDER BY version DESC LIMIT 1",
                                        arguments: [datasetID])
        parentID = parent ?? latest
        // Rows go in before their version row exists (its hash is known only at the end): check FKs at commit.
        try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
        versionID = (try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) + 1 FROM dataset_version") ?? 1)
        let names = kind.columns.map(\.name)
        let placeholders = Array(repeating: "?", count: names.count + 2).joined(separator: ", ")
        insert = try db.makeStatement(sql: "INSERT INTO \(kind.table)(version_id, ord, \(names.joined(separator: ", "))) VALUES (\(placeholders))")
        blobColumns = kind.columns.map { $0.kind == .blob }
    }

    public var count: Int { rowHashes.count }

    /// Appends a row given by column name; missing columns are NULL.
    public func append(_ values: [String: Value]) throws {
        let unknown = Set(values.keys).subtracting(kind.columns.map(\.name))
        guard unknown.isEmpty else { throw SRLMError.invalid("\(kind.rawValue) rows have no column(s) \(unknown.sorted())") }
        try append(kind.columns.map { values[$0.name] ?? .null })
    }

    /// Appends a row given in `kind.columns` order. Text for blob columns becomes a blob. Trailing columns counted
    /// in the hash only when set (added by later migrations, e.g. a pair's weight) may be left off: NULL.
    public func append(_ values: [Value]) throws {
        try write(values.count == blobColumns.count ? values : kind.completed(values))
    }

    /// Appends a row whose blob texts were encoded and hashed beforehand, off this thread.
    public func append(_ row: PreparedRow) throws {
        precondition(row.values.count == blobColumns.count, "row has \(row.values.count) values, \(kind.rawValue) has \(blobColumns.count) columns")
        try write(row.values, prepared: row.texts)
    }

    private func write(_ values: [Value], prepared: [PreparedRow.Text?] = []) throws {
        var stored = values
        // The texts' hashes as they are put, so the row hash needs no lookup (the blob writer keeps no map of them).
        var putHashes: [(BlobID, ContentHash)] = []
        for (i, value) in values.enumerated() {
            guard case .text(let s) = value, blobColumns[i] else { continue }
            let text = i < prepared.count ? prepared[i] : nil
            let data = text?.data ?? Data(s.utf8)
            let hash = text?.hash ?? ContentHash(of: data)
            let id = try blobs.put(data, hash: hash)
            putHashes.append((id, hash))
            stored[i] = .blob(id)
        }
        let hash = try kind.rowHash(stored) { id in try putHashes.first { $0.0 == id }?.1 ?? blobs.contentHash(id) }
        try insertRow(stored)
        rowHashes.append(hash)
    }

    /// Binds the row straight to the prepared INSERT: going through `StatementArguments` boxed every value as an
    /// existential and cost about a tenth of a large import. Texts and bytes are copied by SQLite (transient).
    private func insertRow(_ stored: [Value]) throws {
        let statement = insert.sqliteStatement
        defer { sqlite3_reset(statement); sqlite3_clear_bindings(statement) }
        var rc = sqlite3_bind_int64(statement, 1, versionID)
        if rc == SQLITE_OK { rc = sqlite3_bind_int64(statement, 2, Int64(rowHashes.count)) }
        for (i, value) in stored.enumerated() where rc == SQLITE_OK {
            let index = Int32(i + 3)
            switch value {
            case .null: rc = sqlite3_bind_null(statement, index)
            case .int(let v), .blob(let v): rc = sqlite3_bind_int64(statement, index, v)
            case .real(let v): rc = sqlite3_bind_double(statement, index, v)
            case .text(let s) where s.isEmpty: rc = sqlite3_bind_text(statement, index, "", 0, Self.transient)
            case .text(let s):
                var text = s
                rc = text.withUTF8 { utf8 in
                    utf8.withMemoryRebound(to: CChar.self) {
                        sqlite3_bind_text64(statement, index, $0.baseAddress, sqlite3_uint64($0.count), Self.transient, UInt8(SQLITE_UTF8))
                    }
                }
            case .bytes(let d) where d.isEmpty: rc = sqlite3_bind_zeroblob(statement, index, 0)
            case .bytes(let d):
                rc = d.withUnsafeBytes { sqlite3_bind_blob64(statement, index, $0.baseAddress, sqlite3_uint64($0.count), Self.transient) }
            }
        }
        if rc == SQLITE_OK { rc = sqlite3_step(statement) }
        guard rc == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: db.lastErrorMessage, sql: insert.sql)
        }
    }

    /// SQLITE_TRANSIENT: SQLite copies the bound bytes before the bind returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Order-independent hash of a version's rows (duplicates count).
    public static func contentHash(_ rowHashes: [ContentHash]) -> String {
        // Sorted as four machine words each (byte order), then hashed in one call.
        var words = rowHashes.map(\.words)
        words.sort()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32 * words.count)
        for w in words { w.append(to: &bytes) }
        return ContentHash(of: bytes).hex
    }

    /// Writes the version row. Throws `.unchanged` when the content equals the latest version's.
    @discardableResult
    public func finish(note: String? = nil) throws -> DatasetVersion {
        try blobs.flush()
        let contentHash = Self.contentHash(rowHashes)
        if let latest = try Row.fetchOne(db, sql: "SELECT version, content_hash FROM dataset_version WHERE dataset_id = ? ORDER BY version DESC LIMIT 1",
                                         arguments: [datasetID]) {
            if (latest["content_hash"] as String) == contentHash {
                throw SRLMError.unchanged("\(name)@\(latest["version"] as Int)")
            }
        }
        try VersionSegments.write(db, versionID: versionID, rowHashes: rowHashes)
        let next = (try Int.fetchOne(db, sql: "SELECT coalesce(max(version), 0) + 1 FROM dataset_version WHERE dataset_id = ?",
                                     arguments: [datasetID]) ?? 1)
        try db.execute(sql: """
            INSERT INTO dataset_version(id, dataset_id, version, parent_id, run_id, row_count, content_hash, note)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [versionID, datasetID, next, parentID, runID, rowHashes.count, contentHash, note])
        return try DatasetVersion.byID(db, versionID)
    }
}

/// A row made ready for `VersionWriter.append` on a worker thread: each blob column's text as UTF-8 bytes with their
/// SHA-256, the two costs of storing a text that need no database, so the writer's thread only deduplicates and
/// inserts. Missing columns (added by later migrations) are NULL, as `append([Value])` takes them.
public struct PreparedRow: Sendable {
    public struct Text: Sendable {
        let data: Data
        let hash: ContentHash
    }

    public let values: [Value]
    let texts: [Text?]

    public init(_ values: [Value], kind: ArtifactKind) {
        self.values = kind.completed(values)
        texts = zip(self.values, kind.columns).map { value, column in
            guard column.kind == .blob, case .text(let s) = value else { return nil }
            let data = Data(s.utf8)
            return Text(data: data, hash: ContentHash(of: data))
        }
    }
}
