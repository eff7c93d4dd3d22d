import Foundation
import GRDB
import SQLiteExtension

/// Every column that names a blob: the rows of every artifact kind, then the tables outside versions.
public enum BlobReferences {
    public static let outsideRows = [("model_call", "request"), ("model_call", "response"), ("template", "body"),
                                     ("prompt_rejection", "prompt"), ("import_rejection", "row")]
    public static var all: [(table: String, column: String)] {
        ArtifactKind.allCases.flatMap { kind in kind.columns.filter { $0.kind == .blob }.map { (kind.table, $0.name) } }
            + outsideRows.map { (table: $0.0, column: $0.1) }
    }
}

public struct GCOptions: Codable, Sendable {
    /// Say what would go and how many bytes, change nothing (the default of `srlm gc`).
    public var dryRun = true
    /// Give the freed pages back to the file system afterwards (VACUUM).
    public var vacuum = true
    public var threads = Parallelism.threads
    public init() {}
}

public struct GCReport: Codable, Sendable {
    public struct File: Codable, Sendable { public var path: String; public var bytes: Int64; public var skipped: String? }
    public var dryRun = true
    /// Blobs no kept row, journal entry or template names.
    public var blobs = 0
    public var blobBytes = 0
    public var packsRewritten = 0
    public var packsDeleted = 0
    /// Compressed bytes of the affected packs before and after.
    public var packBytesBefore = 0
    public var packBytesAfter = 0
    public var fileBytesBefore = 0
    public var fileBytesAfter = 0
    public var files: [File] = []
    public var seconds = 0.0

    public func summary() -> String {
        func mb<T: BinaryInteger>(_ n: T) -> String { String(format: "%.2f MB", Double(n) / 1e6) }
        var lines: [String] = []
        if blobs == 0 {
            lines.append("no unreferenced blobs")
        } else {
            let verb = dryRun ? "would remove" : "removed"
            lines.append("\(verb) \(blobs) unreferenced blob(s), \(mb(blobBytes)) of text, from \(packsRewritten + packsDeleted) pack(s) of \(mb(packBytesBefore))"
                + (dryRun ? "" : " (now \(mb(packBytesAfter)); \(packsDeleted) deleted whole)"))
        }
        let freed = files.filter { $0.skipped == nil }
        if !freed.isEmpty {
            lines.append("\(dryRun ? "would delete" : "deleted") \(freed.count) model file(s) of removed checkpoints, \(mb(freed.reduce(0) { $0 + $1.bytes })):")
            for file in freed { lines.append("  \(file.path) (\(mb(file.bytes)))") }
        }
        for file in files { if let why = file.skipped { lines.append("kept \(file.path): \(why)") } }
        if !dryRun && fileBytesBefore > 0 { lines.append("the store file \(mb(fileBytesBefore)) → \(mb(fileBytesAfter))") }
        if dryRun && (blobs > 0 || !freed.isEmpty) { lines.append("(a dry run: `srlm gc --apply` does it)") }
        return lines.joined(separator: "\n") + String(format: " [%.1f s]", seconds)
    }
}

/// `srlm gc`: blobs that nothing names any more (after `srlm rm`) become holes in their packs — the pack is
/// recompressed without their bytes, every other blob keeps its id and bytes — and a pack left with holes only is
/// deleted (except the last, which keeps the id sequence where it was). Which blobs are live is decided inside the
/// write transaction that rewrites the packs, so a writer can never point a new row at a blob being removed; every
/// kept blob is read back before the transaction commits. Then the files of removed checkpoints are deleted.
public enum GarbageCollector {
    /// A pack with blobs to remove: `gone` marks them and the holes it already had; `dead` counts the new ones.
    struct Pack { let id: BlobID; let count: Int; let stored: Int; let level: Int32?; let keys: Data; let gone: [Bool]; let dead: Int; let deadBytes: Int }
    struct Rewritten { let pack: Pack; let raw: Data; let sizes: Data; let keys: Data; let compressed: Data }

    public static func run(_ store: Store, _ options: GCOptions = GCOptions()) throws -> GCReport {
        let start = DispatchTime.now().uptimeNanoseconds
        var report = GCReport()
        report.dryRun = options.dryRun
        if options.dryRun {
            try store.read { db in try collect(db, &report, options, apply: false) }
        } else {
            report.fileBytesBefore = try Compactor.fileBytes(store)
            try store.write { db in try collect(db, &report, options, apply: true) }
            if options.vacuum && report.blobs > 0 { try store.pool.writeWithoutTransaction { try $0.execute(sql: "VACUUM") } }
        }
        report.files = try deleteFiles(store, apply: !options.dryRun)
        if !options.dryRun { report.fileBytesAfter = try Compactor.fileBytes(store) }
        report.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return report
    }

    static func collect(_ db: Database, _ report: inout GCReport, _ options: GCOptions, apply: Bool) throws {
        let affected = try unreferenced(db)
        for pack in affected {
            report.blobs += pack.dead
            report.blobBytes += pack.deadBytes
            report.packBytesBefore += pack.stored
        }
        guard apply, !affected.isEmpty else {
            report.packsRewritten = affected.count
            return
        }
        let last = try BlobID.fetchOne(db, sql: "SELECT max(id) FROM blob_pack") ?? 0
        try Guards.lifted(db, Guards.packs) {
            let batch = max(1, options.threads)
            for offset in stride(from: 0, to: affected.count, by: batch) {
                let rewritten = try rewrite(db, Array(affected[offset..<min(offset + batch, affected.count)]))
                for item in rewritten {
                    try db.execute(sql: "DELETE FROM blob_pack WHERE id = ?", arguments: [item.pack.id])
                    if !item.pack.gone.contains(false) && item.pack.id != last {
                        report.packsDeleted += 1
                        continue
                    }
                    try db.execute(sql: """
                        INSERT INTO blob_pack(id, count, dict_id, raw_size, sizes, keys, data, level) VALUES (?, ?, NULL, ?, ?, ?, ?, ?)
                        """, arguments: [item.pack.id, item.pack.count, item.raw.count, item.sizes, item.keys, item.compressed,
                                         item.pack.level ?? PackPolicy.hotLevel])
                    report.packsRewritten += 1
                    report.packBytesAfter += item.compressed.count
                }
                srlm_sqlite_forget(db.sqliteConnection)
                try verify(db, rewritten, deleted: { $0.pack.id != last && !$0.pack.gone.contains(false) })
            }
            try db.execute(sql: """
                INSERT INTO store_state(key, value) VALUES ('blob_epoch', 1) ON CONFLICT(key) DO UPDATE SET value = value + 1
                """)
        }
    }

    /// The packs holding blobs that no column of `BlobReferences` names and that are not holes yet.
    static func unreferenced(_ db: Database) throws -> [Pack] {
        let end = try BlobID.fetchOne(db, sql: "SELECT id + count FROM blob_pack ORDER BY id DESC LIMIT 1") ?? 1
        var live = [UInt64](repeating: 0, count: Int(end / 64) + 1)
        for (table, column) in BlobReferences.all {
            let ids = try BlobID.fetchCursor(db, sql: "SELECT \(column) FROM \(table) WHERE \(column) IS NOT NULL")
            while let id = try ids.next() { if id >= 0 && id < end { live[Int(id >> 6)] |= 1 << UInt64(id & 63) } }
        }
        var affected: [Pack] = []
        let packs = try Row.fetchCursor(db, sql: "SELECT id, count, keys, sizes, length(data), level FROM blob_pack ORDER BY id")
        while let row = try packs.next() {
            let first: BlobID = row[0], count: Int = row[1], keys: Data = row[2], sizeBytes: Data = row[3]
            var reader = LEB128.Reader(sizeBytes)
            var gone = [Bool](repeating: false, count: count)
            var dead = 0, deadBytes = 0
            for i in 0..<count {
                let id = first + BlobID(i), size = Int(reader.next() ?? 0)
                let at = keys.startIndex + 8 * i
                if BlobReader.isHole(keys[at..<(at + 8)]) {
                    gone[i] = true
                } else if live[Int(id >> 6)] & (1 << UInt64(id & 63)) == 0 {
                    gone[i] = true
                    dead += 1
                    deadBytes += size
                }
            }
            if dead > 0 {
                affected.append(Pack(id: first, count: count, stored: row[4], level: row[5], keys: keys, gone: gone, dead: dead, deadBytes: deadBytes))
            }
        }
        return affected
    }

    /// Each pack's kept blobs, read and checked, then compressed again at the pack's level on every core.
    static func rewrite(_ db: Database, _ packs: [Pack]) throws -> [Rewritten] {
        let inputs: [(raw: Data, sizes: Data, keys: Data)] = try packs.map { pack in
            var raw = Data(), sizes = Data(), keys = Data()
            for i in 0..<pack.count {
                if pack.gone[i] {
                    LEB128.append(0, to: &sizes)
                    keys.append(BlobReader.holeKey)
                } else {
                    // Read back and checked against its stored key, which it keeps.
                    let data = try BlobReader.data(db, pack.id + BlobID(i))
                    raw.append(data)
                    LEB128.append(UInt64(data.count), to: &sizes)
                    let at = pack.keys.startIndex + 8 * i
                    keys.append(pack.keys[at..<(at + 8)])
                }
            }
            return (raw, sizes, keys)
        }
        let results = ResultSlots<Data>(count: inputs.count)
        DispatchQueue.concurrentPerform(iterations: inputs.count) { i in
            let level = packs[i].level ?? PackPolicy.hotLevel
            results.set(i, Result { try Zstd.compress(inputs[i].raw, level: level, longRange: inputs[i].raw.count > PackPolicy.packTarget) })
        }
        return try packs.indices.map { i in
            Rewritten(pack: packs[i], raw: inputs[i].raw, sizes: inputs[i].sizes, keys: inputs[i].keys, compressed: try results.get(i))
        }
    }

    /// Reads the rewritten packs back before the transaction commits: kept blobs byte for byte, removed ones as holes
    /// (or, for a deleted pack, not there at all).
    static func verify(_ db: Database, _ rewritten: [Rewritten], deleted: (Rewritten) -> Bool) throws {
        let key = try db.cachedStatement(sql: "SELECT srlm_blob_key(?)")
        for item in rewritten {
            var offset = item.raw.startIndex
            for i in 0..<item.pack.count {
                let id = item.pack.id + BlobID(i)
                if deleted(item) || item.pack.gone[i] {
                    let stored = try? Data.fetchOne(key, arguments: [id])
                    guard deleted(item) ? stored == nil : stored.map(BlobReader.isHole) == true else {
                        throw SRLMError.invalid("internal error: removed blob \(id) is still readable after gc")
                    }
                } else {
                    let data = try BlobReader.data(db, id)
                    guard item.raw[offset..<(offset + data.count)] == data else {
                        throw SRLMError.invalid("internal error: blob \(id) reads back different after gc")
                    }
                    offset += data.count
                }
            }
        }
    }

    /// Deletes the files `srlm rm` recorded (or, as a dry run, sizes them): each only if it is inside this store's run
    /// folder (a file another store or the user owns is never touched, whatever the record says), unchanged since
    /// its removal (its SHA-256) and listed by no kept checkpoint; a run folder only when no kept checkpoint's file
    /// is inside it.
    static func deleteFiles(_ store: Store, apply: Bool) throws -> [GCReport.File] {
        let (pending, root) = try store.read { db in
            (try Row.fetchAll(db, sql: """
                SELECT r.path, r.sha256, r.size, EXISTS (SELECT 1 FROM checkpoint_file f
                    WHERE f.path = r.path OR (r.sha256 IS NULL AND f.path LIKE r.path || '/%')) AS kept
                FROM removed_file r WHERE r.deleted IS NULL ORDER BY r.path
                """), try RunFolder.root(db))
        }
        var files: [GCReport.File] = []
        var done: [String] = []
        // Folders deleted in this pass (paths sort before what is inside them): their files go with them, and are
        // neither listed nor counted a second time.
        var folders: [String] = []
        let fm = FileManager.default
        for row in pending {
            let recorded: String = row[0], sha: String? = row[1], kept: Bool = row[3]
            let path = RunFolder.resolve(recorded, root: root)
            if folders.contains(where: { path.hasPrefix($0 + "/") }) {
                done.append(recorded)
                continue
            }
            guard let root, RunFolder.owns(path, root: root) else {
                files.append(.init(path: path, bytes: 0, skipped: "outside this store's run folder \(root ?? "(none)"): not this store's to delete"))
                continue
            }
            var isFolder: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isFolder) else { done.append(recorded); continue }
            if kept {
                files.append(.init(path: path, bytes: 0, skipped: "a kept checkpoint lists it"))
                continue
            }
            var bytes: Int64 = 0
            if let sha {
                let digest = try FileDigest.sha256(path)
                guard digest.sha256 == sha else {
                    files.append(.init(path: path, bytes: digest.size, skipped: "changed since it was removed (SHA-256 differs)"))
                    continue
                }
                bytes = digest.size
            } else {
                bytes = folderBytes(path)
            }
            if apply {
                try fm.removeItem(atPath: path)
                done.append(recorded)
            }
            if isFolder.boolValue { folders.append(path) }
            files.append(.init(path: path, bytes: bytes, skipped: nil))
        }
        if apply && !done.isEmpty {
            try store.write { db in
                try db.execute(sql: """
                    UPDATE removed_file SET deleted = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE path IN (SELECT value FROM json_each(?))
                    """, arguments: [String(decoding: try JSONEncoder().encode(done), as: UTF8.self)])
            }
        }
        return files
    }

    /// A folder's bytes: its files only (a folder's own entry, a 4 KiB block, is not model bytes).
    static func folderBytes(_ path: String) -> Int64 {
        FileDigest.regularFiles(under: path).reduce(0) { $0 + $1.size }
    }
}
