import Foundation
import GRDB

/// Writes content-addressed blobs inside the caller's write transaction. New blobs are buffered and packed many to
/// one zstd frame (packs compress far better than short texts one by one); `flush()` must run before commit.
public final class BlobWriter {
    /// Raw bytes buffered before a pack is written.
    public static let packTarget = 256 * 1024
    /// Blobs sampled to train the store's first dictionary.
    static let dictionarySamples = 2000

    private let db: Database
    private var pending: [(hash: ContentHash, data: Data)] = []
    private var pendingBytes = 0
    private var seen: Set<ContentHash> = []
    private var dictionary: (id: Int64, data: Data)?
    private var dictionaryLoaded = false
    public private(set) var newBlobs = 0

    public init(_ db: Database) {
        self.db = db
    }

    /// Stores `data` unless a blob with the same SHA-256 exists; returns its hash.
    @discardableResult
    public func put(_ data: Data) throws -> ContentHash {
        let hash = ContentHash(of: data)
        if seen.contains(hash) { return hash }
        seen.insert(hash)
        if try Self.exists(db, hash) { return hash }
        pending.append((hash, data))
        pendingBytes += data.count
        newBlobs += 1
        // Before the first pack, wait for enough samples to train a dictionary (bounded by bytes).
        if pendingBytes >= Self.packTarget
            && (dictionaryLoaded || pending.count >= Self.dictionarySamples || pendingBytes >= 32 * Self.packTarget) {
            try flush()
        }
        return hash
    }

    @discardableResult
    public func put(_ text: String) throws -> ContentHash { try put(Data(text.utf8)) }

    static func exists(_ db: Database, _ hash: ContentHash) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM blob WHERE hash = ?", arguments: [hash.bytes]) ?? false
    }

    /// Writes the buffered blobs as one pack.
    public func flush() throws {
        guard !pending.isEmpty else { return }
        let dict = try currentDictionary()
        var raw = Data(capacity: pendingBytes)
        var offsets: [(ContentHash, Int, Int)] = []
        offsets.reserveCapacity(pending.count)
        for (hash, data) in pending {
            offsets.append((hash, raw.count, data.count))
            raw.append(data)
        }
        let compressed = try Zstd.compress(raw, dictionary: dict?.data)
        try db.execute(sql: "INSERT INTO blob_pack(dict_id, raw_size, data) VALUES (?, ?, ?)",
                       arguments: [dict?.id, raw.count, compressed])
        let packID = db.lastInsertedRowID
        let insert = try db.cachedStatement(sql: "INSERT INTO blob(hash, pack_id, offset, size) VALUES (?, ?, ?, ?)")
        for (hash, offset, size) in offsets {
            try insert.execute(arguments: [hash.bytes, packID, offset, size])
        }
        pending.removeAll(keepingCapacity: true)
        pendingBytes = 0
    }

    /// The newest dictionary; trains the store's first one from the pending blobs when there are enough.
    private func currentDictionary() throws -> (id: Int64, data: Data)? {
        if !dictionaryLoaded {
            if let row = try Row.fetchOne(db, sql: "SELECT id, data FROM zstd_dict ORDER BY id DESC LIMIT 1") {
                dictionary = (row["id"], row["data"])
                dictionaryLoaded = true
            } else if pending.count >= Self.dictionarySamples,
                      let trained = Zstd.trainDictionary(samples: pending.prefix(Self.dictionarySamples * 4).map(\.data)) {
                try db.execute(sql: "INSERT INTO zstd_dict(data) VALUES (?)", arguments: [trained])
                dictionary = (db.lastInsertedRowID, trained)
                dictionaryLoaded = true
            }
        }
        return dictionary
    }
}

/// Reads blobs back through the SQL function and checks each one's SHA-256.
public enum BlobReader {
    public static func data(_ db: Database, _ hash: ContentHash) throws -> Data {
        guard let data = try Data.fetchOne(db, sql: "SELECT srlm_blob(?)", arguments: [hash.bytes]) else {
            throw StoreError.notFound("blob \(hash.short) is missing")
        }
        try verify(data, hash)
        return data
    }

    public static func text(_ db: Database, _ hash: ContentHash) throws -> String {
        String(decoding: try data(db, hash), as: UTF8.self)
    }

    public static func verify(_ data: Data, _ hash: ContentHash) throws {
        guard ContentHash(of: data) == hash else {
            throw StoreError.invalid("blob \(hash.short) is corrupt: its bytes hash to \(ContentHash(of: data).short)")
        }
    }
}
