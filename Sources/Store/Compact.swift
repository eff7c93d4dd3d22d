import Foundation
import GRDB
import SQLiteExtension

/// What `srlm compact` does and did.
public struct CompactOptions: Codable, Sendable {
    public var level: Int32 = PackPolicy.compactLevel
    /// Raw bytes per rewritten frame (adjacent packs are merged up to this size).
    public var frameBytes: Int = PackPolicy.compactFrame
    /// Frames compressed at once.
    public var threads: Int = Parallelism.threads
    /// Plan only: report which packs would be rewritten, write nothing.
    public var dryRun = false
    /// Give the freed pages back to the file system afterwards (VACUUM), so the file shrinks.
    public var vacuum = true

    public init() {}
}

public struct CompactReport: Codable, Sendable {
    public var packsBefore = 0
    public var packsAfter = 0
    /// Compressed bytes of the rewritten packs before and after.
    public var bytesBefore = 0
    public var bytesAfter = 0
    public var rawBytes = 0
    public var blobs = 0
    public var seconds = 0.0
    public var dryRun = false
    /// The store file (with its write-ahead log folded in) before and after.
    public var fileBytesBefore = 0
    public var fileBytesAfter = 0
    /// Versions written before migration 016 given their diff segments (would be, on a dry run).
    public var segmentedVersions = 0

    public func summary() -> String {
        func mb(_ n: Int) -> String { String(format: "%.2f MB", Double(n) / 1e6) }
        let segments = segmentedVersions == 0 ? ""
            : "; \(dryRun ? "would give" : "gave") \(segmentedVersions) older \(segmentedVersions == 1 ? "version its" : "versions their") diff segments"
        if packsBefore == 0 { return "nothing to compact: every pack is already compacted" + segments }
        let verb = dryRun ? "would rewrite" : "rewrote"
        let after = dryRun ? "" : " → \(packsAfter) \(packsAfter == 1 ? "pack" : "packs") of \(mb(bytesAfter))"
        let file = dryRun || fileBytesAfter == 0 ? "" : "; the store file \(mb(fileBytesBefore)) → \(mb(fileBytesAfter))"
        return "\(verb) \(packsBefore) \(packsBefore == 1 ? "pack" : "packs") (\(blobs) blobs, \(mb(rawBytes)) raw) of \(mb(bytesBefore))"
            + after + file + segments + String(format: " in %.1f s", seconds)
    }
}

/// Rewrites blob packs of data no longer being written into large frames at a high zstd level. Blob ids and bytes
/// do not change, so no row, row hash or version content hash changes; only `blob_pack` rows are replaced (and
/// versions written before migration 016 are given their diff segments, `VersionSegments.backfill`). The
/// frames are compressed from a read snapshot (writers are not held up meanwhile), then swapped in one write
/// transaction that first checks the packs are still the ones read, and reads every blob back before committing.
public enum Compactor {
    struct Pack { let id: BlobID; let count: Int64; let rawSize: Int; let stored: Int }
    struct Frame { var packs: [Pack] = []; var raw: Int { packs.reduce(0) { $0 + $1.rawSize } } }
    struct Written { let frame: Frame; let sizes: Data; let keys: Data; let compressed: Data; let raw: Data }

    static let changedMeanwhile = SRLMError.invalid("the store's packs changed while compacting (another compact?): run it again")

    public static func run(_ store: Store, _ options: CompactOptions = CompactOptions()) throws -> CompactReport {
        guard options.level >= 1 && options.level <= 22 else { throw SRLMError.invalid("--level must be 1…22, not \(options.level)") }
        guard options.frameBytes >= 1 << 20 && options.frameBytes <= 1 << 27 else {
            throw SRLMError.invalid("the frame size must be 1…128 MiB")
        }
        let start = DispatchTime.now().uptimeNanoseconds
        var report = CompactReport()
        report.dryRun = options.dryRun
        let frames = try store.read { try plan($0, options) }
        for frame in frames {
            report.packsBefore += frame.packs.count
            report.bytesBefore += frame.packs.reduce(0) { $0 + $1.stored }
            report.rawBytes += frame.raw
            report.blobs += Int(frame.packs.reduce(0) { $0 + $1.count })
        }
        // Finished data is what compact is for, and what older versions' diffs read in full without segments.
        report.segmentedVersions = try VersionSegments.backfill(store, dryRun: options.dryRun)
        if !options.dryRun && !frames.isEmpty {
            report.fileBytesBefore = try fileBytes(store)
            // A batch of frames at a time, one per thread: memory stays a few frames, not the whole store.
            let batch = max(1, options.threads)
            for offset in stride(from: 0, to: frames.count, by: batch) {
                let written = try compress(store, Array(frames[offset..<min(offset + batch, frames.count)]), level: options.level)
                try swap(store, written, level: options.level)
                report.packsAfter += written.count
                report.bytesAfter += written.reduce(0) { $0 + $1.compressed.count }
            }
            if options.vacuum { try store.pool.writeWithoutTransaction { try $0.execute(sql: "VACUUM") } }
            report.fileBytesAfter = try fileBytes(store)
        }
        report.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return report
    }

    /// The store file's size once what the write-ahead log holds is folded into it (passive: never waits on readers).
    static func fileBytes(_ store: Store) throws -> Int {
        _ = try store.pool.writeWithoutTransaction { try $0.checkpoint(.passive) }
        let attributes = try FileManager.default.attributesOfItem(atPath: store.path)
        return (attributes[.size] as? Int) ?? 0
    }

    /// Runs of adjacent packs not yet compacted, cut into frames of at most `frameBytes` raw bytes. Compacted packs
    /// (at the target level or above, without a dictionary) are left alone; small dictionary packs are merged too.
    static func plan(_ db: Database, _ options: CompactOptions) throws -> [Frame] {
        var frames: [Frame] = []
        var current = Frame()
        let rows = try Row.fetchCursor(db, sql: """
            SELECT id, count, raw_size, length(data), coalesce(level, 0) >= ? AND dict_id IS NULL AS done FROM blob_pack ORDER BY id
            """, arguments: [options.level])
        func close() { if !current.packs.isEmpty { frames.append(current); current = Frame() } }
        while let row = try rows.next() {
            if row["done"] as Bool { close(); continue }
            let pack = Pack(id: row[0], count: row[1], rawSize: row[2], stored: row[3])
            if current.raw + pack.rawSize > options.frameBytes { close() }
            current.packs.append(pack)
        }
        close()
        return frames
    }

    /// Each frame's blobs read back (and checked against their keys) in id order, concatenated and compressed.
    static func compress(_ store: Store, _ frames: [Frame], level: Int32) throws -> [Written] {
        let inputs: [(Frame, Data, Data, Data)] = try store.read { db in
            try frames.map { frame in
                var raw = Data(capacity: frame.raw), sizes = Data(), keys = Data()
                for pack in frame.packs {
                    guard let row = try Row.fetchOne(db, sql: "SELECT sizes, keys FROM blob_pack WHERE id = ?", arguments: [pack.id]) else {
                        throw changedMeanwhile
                    }
                    sizes.append(row[0] as Data)
                    keys.append(row[1] as Data)
                    for id in pack.id..<(pack.id + pack.count) { raw.append(try BlobReader.data(db, id, holes: true)) }
                }
                return (frame, raw, sizes, keys)
            }
        }
        let results = ResultSlots<Data>(count: inputs.count)
        DispatchQueue.concurrentPerform(iterations: inputs.count) { i in
            results.set(i, Result { try Zstd.compress(inputs[i].1, level: level, longRange: true) })
        }
        return try inputs.indices.map { i in
            Written(frame: inputs[i].0, sizes: inputs[i].2, keys: inputs[i].3, compressed: try results.get(i), raw: inputs[i].1)
        }
    }

    /// Replaces each frame's packs by one, if they are still there as planned; every blob is read back from the new
    /// pack and compared with the bytes compressed before the transaction commits.
    static func swap(_ store: Store, _ written: [Written], level: Int32) throws {
        try store.write { db in try Guards.lifted(db, Guards.packs) {
            for item in written {
                let ids = item.frame.packs.map(\.id)
                let found = try Int.fetchOne(db, sql: """
                    SELECT count(*) FROM blob_pack WHERE id IN (SELECT value FROM json_each(?)) AND coalesce(level, 0) < ?
                    """, arguments: [Guards.json(ids), level]) ?? 0
                guard found == ids.count else {
                    throw changedMeanwhile
                }
                let first = ids[0], count = item.frame.packs.reduce(0) { $0 + $1.count }
                try db.execute(sql: "DELETE FROM blob_pack WHERE id IN (SELECT value FROM json_each(?))",
                               arguments: [Guards.json(ids)])
                try db.execute(sql: """
                    INSERT INTO blob_pack(id, count, dict_id, raw_size, sizes, keys, data, level) VALUES (?, ?, NULL, ?, ?, ?, ?, ?)
                    """, arguments: [first, count, item.raw.count, item.sizes, item.keys, item.compressed, level])
                srlm_sqlite_forget(db.sqliteConnection)
                var offset = item.raw.startIndex
                for id in first..<(first + count) {
                    let data = try BlobReader.data(db, id, holes: true)
                    guard item.raw[offset..<(offset + data.count)] == data else {
                        throw SRLMError.invalid("internal error: blob \(id) reads back different after compaction")
                    }
                    offset += data.count
                }
            }
        } }
    }
}
