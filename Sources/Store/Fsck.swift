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
    /// Blobs removed by `srlm gc`: no row may name one.
    public var holes = 0
    /// Checkpoints' model files present with their registered size.
    public var modelFiles = 0
    /// Model files not there ("experiment/checkpoint: path"): a bundle made without weights, a run folder not
    /// copied. The store's data does not depend on them, so they are not problems; serving or training that
    /// checkpoint needs them back.
    public var missingModelFiles: [String] = []
    public var problems: [String] = []
    public var ok: Bool { problems.isEmpty }

    public var summary: String {
        let head = "checked \(packs) packs, \(blobs) blobs\(holes > 0 ? " (and \(holes) removed)" : ""), \(versions) versions, \(rows) rows, "
            + "\(modelFiles) model file(s)"
        let missing = missingModelFiles.isEmpty ? "" : "\n\(missingModelFiles.count) model file(s) missing (not a problem of the data; "
            + "the checkpoint cannot be served or trained until they are back):\n" + missingModelFiles.map { "  - " + $0 }.joined(separator: "\n")
        return (ok ? head + ": ok" : head + ": \(problems.count) problem(s)\n" + problems.map { "  - " + $0 }.joined(separator: "\n")) + missing
    }
}

public enum Fsck {
    /// Checks the store at `path` on read-only connections. Every problem found is reported, not only the first;
    /// a store too damaged to open still gets SQLite's integrity check.
    public static func run(path: String) throws -> FsckReport {
        guard FileManager.default.fileExists(atPath: path) else { throw SRLMError.notFound("no store at \(path)") }
        let store: Store
        do {
            store = try Store(path: path, readOnly: true)
        } catch {
            var report = FsckReport()
            report.problems.append("store: cannot be opened: \(error)")
            var config = Configuration()
            config.readonly = true
            do {
                try DatabaseQueue(path: path, configuration: config).read { try checkIntegrity($0, &report) }
            } catch {
                report.problems.append("integrity: \(error)")
            }
            return report
        }
        return try run(store)
    }

    public static func run(_ store: Store) throws -> FsckReport {
        var report = FsckReport()
        do {
            try store.pool.unsafeRead { db in
                // One snapshot for every check, rolled back rather than committed: after reading damaged pages a
                // COMMIT can fail and would hide what the checks found.
                try db.execute(sql: "BEGIN DEFERRED")
                defer { try? db.execute(sql: "ROLLBACK") }
                srlm_sqlite_forget(db.sqliteConnection)  // check what is on disk, not what this connection cached
                do { try checkIntegrity(db, &report) } catch { report.problems.append("integrity: \(error)") }
                do {
                    for row in try Row.fetchAll(db, sql: "PRAGMA foreign_key_check") {
                        report.problems.append("foreign key: table \(row[0] as String? ?? "?") rowid \(row[1] as Int64? ?? -1) → \(row[2] as String? ?? "?")")
                    }
                } catch {
                    report.problems.append("foreign keys: \(error)")
                }
                let blobs = checkBlobs(db, &report)
                checkVersions(db, blobs, &report)
                checkOtherReferences(db, blobs, &report)
                checkModelFiles(db, &report)
            }
        } catch {
            report.problems.append("store: \(error)")
        }
        return report
    }

    /// SQLite lists what it found, then can still end the statement with an error: both are kept.
    static func checkIntegrity(_ db: Database, _ report: inout FsckReport) throws {
        let cursor = try String.fetchCursor(db, sql: "PRAGMA integrity_check")
        do {
            while let line = try cursor.next() {
                if line != "ok" { report.problems.append("integrity: " + line.replacingOccurrences(of: "\n", with: "; ")) }
            }
        } catch {
            report.problems.append("integrity: the check stopped: \(error)")
        }
    }

    /// The full SHA-256 of every readable blob, and the ids of blobs that are unreadable or do not match their key.
    struct BlobCheck {
        var hashes: [BlobID: ContentHash] = [:]
        var bad: Set<BlobID> = []
        var holes: Set<BlobID> = []
    }

    /// Reads every blob in id order (one decompression per pack) and checks it against its key.
    static func checkBlobs(_ db: Database, _ report: inout FsckReport) -> BlobCheck {
        var check = BlobCheck()
        let packs: [Row]
        do {
            packs = try Row.fetchAll(db, sql: "SELECT id, count FROM blob_pack ORDER BY id")
        } catch {
            report.problems.append("blob packs: cannot be listed: \(error)")
            return check
        }
        report.packs = packs.count
        for pack in packs {
            let first: BlobID = pack[0], count: Int64 = pack[1]
            var id = first
            do {
                let read = try db.cachedStatement(sql: "SELECT srlm_blob(?1), srlm_blob_key(?1)")
                while id < first + count {
                    guard let row = try Row.fetchOne(read, arguments: [id]), let data = row[0] as Data?, let key = row[1] as Data? else {
                        report.problems.append("blob \(id): missing from pack \(first)")
                        check.bad.insert(id)
                        id += 1
                        continue
                    }
                    if BlobReader.isHole(key) {
                        report.holes += 1
                        if !data.isEmpty { report.problems.append("blob \(id): a hole left by gc, but it holds bytes") }
                        check.holes.insert(id)
                        id += 1
                        continue
                    }
                    report.blobs += 1
                    let hash = ContentHash(of: data)
                    if !hash.hasKey(key) {
                        report.problems.append("blob \(id): content does not match its key")
                        check.bad.insert(id)
                    }
                    check.hashes[id] = hash
                    id += 1
                }
            } catch {
                report.problems.append("pack \(first): blobs \(id)...\(first + count - 1) unreadable: \(error)")
                check.bad.formUnion(id..<(first + count))
            }
        }
        return check
    }

    /// Blobs named outside versions' rows (the journal, templates, rejected prompts) must exist and not be holes.
    static func checkOtherReferences(_ db: Database, _ blobs: BlobCheck, _ report: inout FsckReport) {
        do {
            for (table, column) in BlobReferences.outsideRows {
                let ids = try BlobID.fetchAll(db, sql: "SELECT DISTINCT \(column) FROM \(table) WHERE \(column) IS NOT NULL")
                let missing = ids.filter { blobs.hashes[$0] == nil }
                if !missing.isEmpty {
                    let listed = missing.sorted().prefix(10).map(String.init).joined(separator: ", ")
                    report.problems.append("\(table).\(column): \(missing.count) reference(s) to missing or removed blob(s) \(listed)\(missing.count > 10 ? ", …" : "")")
                }
            }
        } catch {
            report.problems.append("blob references: \(error)")
        }
    }

    /// Each checkpoint file is there with its registered size (hashing every weight file would take minutes).
    static func checkModelFiles(_ db: Database, _ report: inout FsckReport) {
        do {
            let root = try RunFolder.root(db)
            let files = try Row.fetchAll(db, sql: """
                SELECT e.name || '/' || c.name, f.path, f.size FROM checkpoint_file f JOIN checkpoint c ON c.id = f.checkpoint_id
                JOIN experiment e ON e.id = c.experiment_id ORDER BY e.name, c.id, f.path
                """)
            for file in files {
                let checkpoint: String = file[0], path = RunFolder.resolve(file[1], root: root), size: Int64 = file[2]
                guard let found = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber else {
                    report.missingModelFiles.append("\(checkpoint): \(path)")
                    continue
                }
                if found.int64Value == size {
                    report.modelFiles += 1
                } else {
                    report.problems.append("checkpoint \(checkpoint): \(path) is \(found.int64Value) bytes, registered as \(size)")
                }
            }
        } catch {
            report.problems.append("model files: \(error)")
        }
    }

    /// Recomputes each version's rows and content hash; names the versions whose rows use bad or missing blobs.
    static func checkVersions(_ db: Database, _ blobs: BlobCheck, _ report: inout FsckReport) {
        struct Missing: Error { let id: BlobID }
        let versions: [DatasetVersion]
        do {
            versions = try DatasetVersion.all(db)
        } catch {
            report.problems.append("versions: cannot be listed: \(error)")
            return
        }
        for version in versions {
            report.versions += 1
            let kind = version.kind
            var hashes: [ContentHash] = []
            var badRows = 0
            var badBlobs: Set<BlobID> = []
            let label = "\(version.experiment)/\(version.ref)"
            do {
                try Derive.forEachRow(db, of: version) { values in
                    let used = values.compactMap(\.blobID).filter { blobs.bad.contains($0) || blobs.hashes[$0] == nil }
                    if !used.isEmpty { badRows += 1; badBlobs.formUnion(used) }
                    hashes.append((try? kind.rowHash(values) { id in
                        guard let hash = blobs.hashes[id] else { throw Missing(id: id) }
                        return hash
                    }) ?? ContentHash(of: Data()))
                }
            } catch {
                report.problems.append("\(label): rows unreadable after row \(hashes.count): \(error)")
            }
            report.rows += hashes.count
            if badRows > 0 {
                let listed = badBlobs.sorted().prefix(10).map(String.init).joined(separator: ", ")
                report.problems.append("\(label): \(badRows) row(s) use corrupt or missing blob(s) \(listed)\(badBlobs.count > 10 ? ", …" : "")")
            }
            if hashes.count != version.rowCount {
                report.problems.append("\(label): \(hashes.count) rows, version says \(version.rowCount)")
            }
            if VersionWriter.contentHash(hashes) != version.contentHash {
                report.problems.append("\(label): content hash does not match its rows")
            }
            // A wrong segment would make `srlm diff` call changed rows unchanged.
            if hashes.count == version.rowCount, let stored = try? VersionSegments.read(db, version),
               stored != VersionSegments.cut(hashes) {
                report.problems.append("\(label): its segments (version_segment) do not match its rows")
            }
        }
    }
}
