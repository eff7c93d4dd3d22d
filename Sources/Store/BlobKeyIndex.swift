import Foundation
import GRDB

/// Key (first 8 bytes of SHA-256) → blob id for one store file, kept in memory while this process writes: the
/// store keeps keys inside packs, not in a SQL index, because an index row per short text would outweigh the text.
/// Holds committed blobs only: each transaction's own blobs join it when it commits.
final class BlobKeyIndex: @unchecked Sendable {
    private let lock = NSLock()
    private var ids: [Int64: BlobID] = [:]
    /// The largest pack id read so far; packs are append-only and committed ids only grow.
    private var loadedThrough: BlobID = 0

    private static let registryLock = NSLock()
    nonisolated(unsafe) private static var registry: [String: BlobKeyIndex] = [:]

    static func forStore(at path: String) -> BlobKeyIndex {
        registryLock.withLock {
            if let index = registry[path] { return index }
            let index = BlobKeyIndex()
            registry[path] = index
            return index
        }
    }

    /// Reads the keys of packs committed since the last refresh (called at the start of a write transaction).
    func refresh(_ db: Database) throws {
        // A store file replaced at the same path: start again.
        let newest = try BlobID.fetchOne(db, sql: "SELECT max(id) FROM blob_pack") ?? 0
        lock.withLock { if newest < loadedThrough { ids = [:]; loadedThrough = 0 } }
        let after = lock.withLock { loadedThrough }
        let rows = try Row.fetchCursor(db, sql: "SELECT id, keys FROM blob_pack WHERE id > ? ORDER BY id", arguments: [after])
        var found: [(Int64, BlobID)] = []
        var last = after
        while let row = try rows.next() {
            let first: BlobID = row[0]
            let keys: Data = row[1]
            keys.withUnsafeBytes { p in
                for i in 0..<(keys.count / 8) {
                    let key = Int64(bitPattern: UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))
                    if key != 0 { found.append((key, first + BlobID(i))) }  // 0: a hole left by gc
                }
            }
            last = first
        }
        lock.withLock {
            for (key, id) in found where ids[key] == nil { ids[key] = id }
            loadedThrough = max(loadedThrough, last)
        }
    }

    func id(for key: Int64) -> BlobID? { lock.withLock { ids[key] } }

    func add(_ entries: [Int64: BlobID]) {
        lock.withLock { for (key, id) in entries where ids[key] == nil { ids[key] = id } }
    }
}
