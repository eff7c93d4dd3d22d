import Foundation
import GRDB

/// A run of consecutive rows of one version with the hash of their meaning (migration 016). Two versions that share
/// a segment hash hold the same rows there, so a diff need not read them.
struct VersionSegment: Equatable {
    /// The first 16 bytes of the SHA-256 over the rows' hashes in ord order, as two big-endian words.
    struct Hash: Hashable {
        let high: UInt64, low: UInt64

        init(high: UInt64, low: UInt64) { (self.high, self.low) = (high, low) }

        /// As `version_segment.hash` stores it: 16 bytes; nil for any other length.
        init?(stored bytes: UnsafeRawBufferPointer) {
            guard bytes.count == 16 else { return nil }
            high = UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self))
            low = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        }

        var stored: Data {
            var data = Data(capacity: 16)
            for word in [high.bigEndian, low.bigEndian] { withUnsafeBytes(of: word) { data.append(contentsOf: $0) } }
            return data
        }
    }

    let firstOrd: Int
    let rowCount: Int
    let hash: Hash

    var ords: Range<Int> { firstOrd..<(firstOrd + rowCount) }
}

enum VersionSegments {
    /// A segment ends after a row whose hash's low bits are zero (once it has `minimumRows`), or at `maximumRows`:
    /// cuts depend on the rows alone, so an edit moves only the cuts next to it. About 80 rows a segment (16, then 64
    /// on average): a diff of 100k rows reads ~1,200 segments per side (40 KB stored), plus a segment or two for
    /// every changed row.
    static let minimumRows = 16
    static let maximumRows = 1024
    static let cutMask: UInt64 = 63

    static func cut(_ rowHashes: [ContentHash]) -> [VersionSegment] {
        var segments: [VersionSegment] = []
        segments.reserveCapacity(rowHashes.count / 48 + 1)
        var bytes: [UInt8] = []
        var first = 0
        for (ord, hash) in rowHashes.enumerated() {
            hash.words.append(to: &bytes)
            let rows = ord + 1 - first
            if ord == rowHashes.count - 1 || rows == maximumRows || (rows >= minimumRows && hash.words.d & cutMask == 0) {
                let words = ContentHash(of: bytes).words
                segments.append(VersionSegment(firstOrd: first, rowCount: rows, hash: .init(high: words.a, low: words.b)))
                bytes.removeAll(keepingCapacity: true)
                first = ord + 1
            }
        }
        return segments
    }

    /// Written with the rows, before the version row that seals them.
    static func write(_ db: Database, versionID: Int64, rowHashes: [ContentHash]) throws {
        let insert = try db.makeStatement(sql: "INSERT INTO version_segment(version_id, first_ord, row_count, hash) VALUES (?, ?, ?, ?)")
        for segment in cut(rowHashes) {
            try insert.execute(arguments: [versionID, segment.firstOrd, segment.rowCount, segment.hash.stored])
        }
    }

    /// The version's segments in ord order; nil when it has rows but no segments (written before migration 016).
    static func read(_ db: Database, _ version: DatasetVersion) throws -> [VersionSegment]? {
        var segments: [VersionSegment] = []
        let rows = try Row.fetchCursor(db, sql: "SELECT first_ord, row_count, hash FROM version_segment WHERE version_id = ? ORDER BY first_ord",
                                       arguments: [version.id])
        while let row = try rows.next() {
            // The hash is read in place: a diff reads ~1,200 segments per 100k rows, one Data each would cost more.
            let hash = try row.withUnsafeData(atIndex: 2) { data -> VersionSegment.Hash in
                guard let hash = data?.withUnsafeBytes(VersionSegment.Hash.init(stored:)) else {
                    throw SRLMError.corrupt("\(version.ref): a segment hash is not 16 bytes; run srlm fsck")
                }
                return hash
            }
            segments.append(VersionSegment(firstOrd: row[0], rowCount: row[1], hash: hash))
        }
        return segments.isEmpty && version.rowCount > 0 ? nil : segments
    }

    /// Gives the versions written before migration 016 their segments, so their diffs too read only what changed:
    /// each version's row hashes recomputed from its texts and checked against its content hash, then its segments
    /// inserted under a lifted seal, one short write per version. Returns how many versions got segments.
    static func backfill(_ store: Store, dryRun: Bool = false) throws -> Int {
        let missingSQL = "SELECT 1 FROM version_segment s WHERE s.version_id = v.id"
        let missing = try store.read { db in
            try Int64.fetchAll(db, sql: "SELECT id FROM dataset_version v WHERE row_count > 0 AND NOT EXISTS (\(missingSQL)) ORDER BY id")
        }
        if dryRun { return missing.count }
        var given = 0
        for id in missing {
            given += try store.write { db in
                // Another process may have given them meanwhile.
                guard try Bool.fetchOne(db, sql: "SELECT NOT EXISTS (\(missingSQL)) FROM dataset_version v WHERE id = ?", arguments: [id]) == true else { return 0 }
                let version = try DatasetVersion.byID(db, id)
                let hashes = try rowHashes(db, version)
                guard VersionWriter.contentHash(hashes) == version.contentHash else {
                    throw SRLMError.corrupt("\(version.experiment)/\(version.ref): its rows do not match its content hash; run srlm fsck")
                }
                try Guards.lifted(db, ["segment_sealed_insert"]) { try write(db, versionID: id, rowHashes: hashes) }
                return 1
            }
        }
        return given
    }

    /// A stored version's row hashes in ord order, each text hashed once as it is read (checked against its key).
    private static func rowHashes(_ db: Database, _ version: DatasetVersion) throws -> [ContentHash] {
        let kind = version.kind
        var textHashes: [BlobID: ContentHash] = [:]
        var hashes: [ContentHash] = []
        hashes.reserveCapacity(version.rowCount)
        try Derive.forEachRow(db, of: version) { values in
            hashes.append(try kind.rowHash(values) { id in
                if let known = textHashes[id] { return known }
                let hash = ContentHash(of: try BlobReader.data(db, id))
                textHashes[id] = hash
                return hash
            })
        }
        return hashes
    }

    /// The rows each side does not share with the other, as ord ranges (adjacent ones merged), and how many rows are
    /// shared. Segments match by hash as multisets, each side in ord order.
    static func unshared(_ old: [VersionSegment], _ new: [VersionSegment]) -> (old: [Range<Int>], new: [Range<Int>], sharedRows: Int) {
        var waiting: [VersionSegment.Hash: [Int]] = [:]
        for (i, segment) in old.enumerated().reversed() { waiting[segment.hash, default: []].append(i) }
        var oldShared = [Bool](repeating: false, count: old.count)
        var newRanges: [Range<Int>] = []
        var sharedRows = 0
        for segment in new {
            if let i = waiting[segment.hash]?.popLast() {
                oldShared[i] = true
                sharedRows += segment.rowCount
            } else {
                append(segment.ords, to: &newRanges)
            }
        }
        var oldRanges: [Range<Int>] = []
        for (i, segment) in old.enumerated() where !oldShared[i] { append(segment.ords, to: &oldRanges) }
        return (oldRanges, newRanges, sharedRows)
    }

    private static func append(_ range: Range<Int>, to ranges: inout [Range<Int>]) {
        if let last = ranges.last, last.upperBound == range.lowerBound {
            ranges[ranges.count - 1] = last.lowerBound..<range.upperBound
        } else {
            ranges.append(range)
        }
    }
}
