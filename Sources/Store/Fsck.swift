import Foundation
import GRDB
import SQLiteExtension

/// `srlm fsck`: SQLite's integrity and foreign-key checks, every blob checked against its SHA-256 key, and every version's
/// row count and content hash recomputed from its rows' texts.
public struct FsckReport: Sendable, Codable {
    public var blobs = 0
    public var packs = 0
    public var versions = 0
    public var rows = 0
    public var problems: [String] = []
    public var ok: Bool { problems.isEmpty }

    public var summary: String {
        let head = "checked \(packs) packs, \(blobs) blobs, \(versions) versions, \(rows) rows"
        return ok ? head + ": ok" : head + ": \(problems.count) problem(s)\n" + problems.map { "  - " + $0 }.joined(separator: "\n")
    }
}

public enum Fsck {
    public static func run(_ store: Store) throws -> FsckReport {
        try store.pool.read { db in
            srlm_sqlite_forget(db.sqliteConnection)  // check what is on disk, not what this connection cached
            var report = FsckReport()
            for line in try String.fetchAll(db, sql: "PRAGMA integrity_check") where line != "ok" {
                report.problems.append("integrity: \(line)")
            }
            for row in try Row.fetchAll(db, sql: "PRAGMA foreign_key_check") {
                report.problems.append("foreign key: table \(row[0] as String? ?? "?") rowid \(row[1] as Int64? ?? -1) → \(row[2] as String? ?? "?")")
            }
            let hashes = try checkBlobs(db, &report)
            try checkVersions(db, hashes, &report)
            return report
        }
    }

    /// Reads every blob in id order (one decompression per pack) and checks it against its key; returns the full
    /// SHA-256 of each, for the row hashes.
    static func checkBlobs(_ db: Database, _ report: inout FsckReport) throws -> [BlobID: ContentHash] {
        var hashes: [BlobID: ContentHash] = [:]
        let packs = try Row.fetchAll(db, sql: "SELECT id, count FROM blob_pack ORDER BY id")
        report.packs = packs.count
        let read = try db.makeStatement(sql: "SELECT srlm_blob(?1), srlm_blob_key(?1)")
        for pack in packs {
            let first: BlobID = pack[0], count: Int64 = pack[1]
            do {
                for id in first..<(first + count) {
                    guard let row = try Row.fetchOne(read, arguments: [id]), let data = row[0] as Data?, let key = row[1] as Data? else {
                        report.problems.append("blob \(id): missing from pack \(first)")
                        continue
                    }
                    report.blobs += 1
                    let hash = ContentHash(of: data)
                    if hash.bytes.prefix(8) != key { report.problems.append("blob \(id): content does not match its key") }
                    hashes[id] = hash
                }
            } catch {
                report.problems.append("pack \(first): \(error)")
            }
        }
        return hashes
    }

    static func checkVersions(_ db: Database, _ blobs: [BlobID: ContentHash], _ report: inout FsckReport) throws {
        struct Missing: Error { let id: BlobID }
        for version in try DatasetVersion.all(db) {
            report.versions += 1
            let kind = version.kind
            let names = kind.columns.map(\.name).joined(separator: ", ")
            var hashes: [ContentHash] = []
            let cursor = try Row.fetchCursor(db, sql: "SELECT \(names) FROM \(kind.table) WHERE version_id = ? ORDER BY ord",
                                             arguments: [version.id])
            while let row = try cursor.next() {
                do {
                    hashes.append(try kind.rowHash(Derive.values(row, kind.columns)) { id in
                        guard let hash = blobs[id] else { throw Missing(id: id) }
                        return hash
                    })
                } catch let missing as Missing {
                    report.problems.append("\(version.experiment)/\(version.ref): row \(hashes.count) names blob \(missing.id), which is not stored")
                    hashes.append(ContentHash(of: Data()))
                }
            }
            report.rows += hashes.count
            if hashes.count != version.rowCount {
                report.problems.append("\(version.experiment)/\(version.ref): \(hashes.count) rows, version says \(version.rowCount)")
            }
            if VersionWriter.contentHash(hashes) != version.contentHash {
                report.problems.append("\(version.experiment)/\(version.ref): content hash does not match its rows")
            }
        }
    }
}
