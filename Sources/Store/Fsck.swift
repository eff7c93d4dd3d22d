import Foundation
import GRDB

/// `srlm fsck`: SQLite's integrity and foreign-key checks, every blob's SHA-256, every row's hash and every version's
/// row count and content hash recomputed from the rows.
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
            var report = FsckReport()
            for line in try String.fetchAll(db, sql: "PRAGMA integrity_check") where line != "ok" {
                report.problems.append("integrity: \(line)")
            }
            for row in try Row.fetchAll(db, sql: "PRAGMA foreign_key_check") {
                report.problems.append("foreign key: table \(row[0] as String? ?? "?") rowid \(row[1] as Int64? ?? -1) → \(row[2] as String? ?? "?")")
            }
            try checkBlobs(db, &report)
            try checkVersions(db, &report)
            return report
        }
    }

    static func checkBlobs(_ db: Database, _ report: inout FsckReport) throws {
        report.packs = try Int.fetchOne(db, sql: "SELECT count(*) FROM blob_pack") ?? 0
        // Pack order keeps the SQL function's pack cache hot.
        let cursor = try Row.fetchCursor(db, sql: "SELECT hash, srlm_blob(hash) FROM blob ORDER BY pack_id, offset")
        while true {
            do {
                guard let row = try cursor.next() else { break }
                report.blobs += 1
                let hash = ContentHash(bytes: row[0])
                let data: Data = row[1]
                if ContentHash(of: data) != hash { report.problems.append("blob \(hash.short): content does not match its hash") }
            } catch {
                report.problems.append("blob read failed: \(error)")
                break
            }
        }
    }

    static func checkVersions(_ db: Database, _ report: inout FsckReport) throws {
        for version in try DatasetVersion.all(db) {
            report.versions += 1
            let kind = version.kind
            let names = kind.columns.map(\.name).joined(separator: ", ")
            var hashes: [ContentHash] = []
            let cursor = try Row.fetchCursor(db, sql: "SELECT \(names), row_hash FROM \(kind.table) WHERE version_id = ? ORDER BY ord",
                                             arguments: [version.id])
            while let row = try cursor.next() {
                let stored = ContentHash(bytes: row[kind.columns.count])
                if kind.rowHash(Derive.values(row, kind.columns)) != stored {
                    report.problems.append("\(version.experiment)/\(version.ref): row hash mismatch at ord \(hashes.count)")
                }
                hashes.append(stored)
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
