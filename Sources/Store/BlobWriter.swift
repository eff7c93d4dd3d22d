import Foundation
import GRDB
import SQLiteExtension

/// A blob's id in this store: blobs are numbered consecutively, many to a pack (schema/001_store.sql).
public typealias BlobID = Int64

/// Writes blobs inside the caller's write transaction, deduplicated by SHA-256. New blobs are buffered and packed
/// many to one zstd frame (packs compress far better than short texts one by one); `flush()` must run before
/// commit, and a commit with unflushed blobs fails. One writer serves a whole transaction (`BlobWriter.in(db)`), so
/// everything written in it draws ids from one counter.
public final class BlobWriter: TransactionObserver, @unchecked Sendable {
    /// Blobs needed (pending plus stored) before a dictionary is trained.
    static let dictionarySamples = 1000

    private let db: Database
    private let index: BlobKeyIndex
    private var nextID: BlobID
    /// New blobs not yet packed, laid out as their pack will hold them.
    private var pending = PendingPack()
    /// Blobs put in this transaction (pending or already packed): key → id. Their ids run from `firstNewID`, so
    /// their full hashes are an array, not a second map: a stage's version of millions of rows holds one entry each.
    private var local: [Int64: BlobID] = [:]
    private let firstNewID: BlobID
    private var newHashes: [Hash32] = []
    /// Full SHA-256 of older blobs this writer has read, for row hashes.
    private var hashes: [BlobID: ContentHash] = [:]
    private var wrotePacks = false
    public private(set) var newBlobs = 0

    private static let lock = NSLock()
    nonisolated(unsafe) private static var current: [ObjectIdentifier: BlobWriter] = [:]
    /// Per store file: the blob count at the last dictionary training that found nothing to train.
    nonisolated(unsafe) private static var dictionaryTriedAt: [String: BlobID] = [:]
    private let file: String

    /// The transaction's blob writer, made on first use. Must be called inside a write transaction.
    public static func `in`(_ db: Database) throws -> BlobWriter {
        guard db.isInsideTransaction else { throw SRLMError.invalid("blobs are written inside a write transaction") }
        let key = ObjectIdentifier(db)
        if let writer = lock.withLock({ current[key] }) { return writer }
        let writer = try BlobWriter(db)
        lock.withLock { current[key] = writer }
        db.add(transactionObserver: writer, extent: .nextTransaction)
        return writer
    }

    private init(_ db: Database) throws {
        self.db = db
        let file = try String.fetchOne(db, sql: "SELECT file FROM pragma_database_list WHERE name = 'main'") ?? ""
        self.file = file
        self.index = file.isEmpty ? BlobKeyIndex() : BlobKeyIndex.forStore(at: file)
        try index.refresh(db)
        nextID = try BlobID.fetchOne(db, sql: "SELECT id + count FROM blob_pack ORDER BY id DESC LIMIT 1") ?? 1
        firstNewID = nextID
    }

    /// Stores `data` unless the store holds the same bytes; returns the blob's id.
    @discardableResult
    public func put(_ data: Data) throws -> BlobID { try put(data, hash: ContentHash(of: data)) }

    /// `put` with the bytes' SHA-256 already taken (on another core: `PreparedRow`).
    public func put(_ data: Data, hash: ContentHash) throws -> BlobID {
        let key = hash.key
        let mine = local[key]
        if let mine, newHashes[Int(mine - firstNewID)] == hash.words { return mine }
        if mine == nil, let stored = index.id(for: key), try sameBytes(stored, data) { return stored }
        let id = nextID
        nextID += 1
        if mine == nil { local[key] = id }
        newHashes.append(hash.words)
        pending.add(key: key, data)
        newBlobs += 1
        if pending.raw.count >= PackPolicy.packTarget { try flush(wait: false) }
        return id
    }

    @discardableResult
    public func put(_ text: String) throws -> BlobID { try put(Data(text.utf8)) }

    /// The key matches 64 bits of SHA-256; equal bytes make it the same blob. (A missing blob is not the same: the
    /// index may outlive a store file replaced at the same path, or a gc in another process that made it a hole.)
    private func sameBytes(_ id: BlobID, _ data: Data) throws -> Bool {
        guard let row = try? Row.fetchOne(db.cachedStatement(sql: "SELECT srlm_blob(?1), srlm_blob_key(?1)"), arguments: [id]),
              let stored = row[0] as Data?, let key = row[1] as Data? else { return false }
        return stored == data && !BlobReader.isHole(key)
    }

    /// The full SHA-256 of a blob (for row hashes): known for blobs put here, else read and checked.
    public func contentHash(_ id: BlobID) throws -> ContentHash {
        if id >= firstNewID && id < nextID { return ContentHash(newHashes[Int(id - firstNewID)]) }
        if let hash = hashes[id] { return hash }
        let hash = ContentHash(of: try BlobReader.data(db, id))
        hashes[id] = hash
        return hash
    }

    /// A full pack being compressed on another core while the next one fills; inserted by the next flush.
    private var compressing: (row: PackRow, done: DispatchSemaphore, result: Box)?

    struct PackRow { let first: BlobID, count: Int, rawSize: Int, sizes: Data, keys: Data }

    /// The next pack as it fills: the blobs' bytes end to end, their sizes (LEB128) and keys (8 bytes, big-endian).
    /// Appended per blob, so a flush hands the bytes over without a pass of its own.
    struct PendingPack {
        var raw = Data()
        var sizes: [UInt8] = []
        var keys: [UInt8] = []
        var count = 0

        mutating func add(key: Int64, _ data: Data) {
            // A whole pack's room once it outgrows a small one (most transactions write a few small blobs).
            if raw.count < PackPolicy.smallPack && raw.count + data.count >= PackPolicy.smallPack {
                raw.reserveCapacity(max(PackPolicy.packTarget, raw.count + data.count) + PackPolicy.smallPack)
            }
            raw.append(data)
            LEB128.append(UInt64(data.count), to: &sizes)
            withUnsafeBytes(of: UInt64(bitPattern: key).bigEndian) { keys.append(contentsOf: $0) }
            count += 1
        }
    }
    final class Box: @unchecked Sendable { var compressed: Result<Data, Error> = .failure(SRLMError.invalid("not compressed")) }

    /// Writes the buffered blobs as one pack, and waits for any pack still compressing.
    public func flush() throws { try flush(wait: true) }

    private func flush(wait: Bool) throws {
        try insertCompressed()
        guard pending.count > 0 else { return }
        let first = nextID - BlobID(pending.count)
        let raw = pending.raw
        let row = PackRow(first: first, count: pending.count, rawSize: raw.count, sizes: Data(pending.sizes), keys: Data(pending.keys))
        pending = PendingPack()
        if raw.count < PackPolicy.smallPack {
            let dict = try dictionary(samples: raw, row: row)
            let level = PackPolicy.smallPackLevel
            let compressed = try dict.map { try Self.compressor(file: file, id: $0.id, dictionary: $0.data).compress(raw) }
                ?? Zstd.compress(raw, level: level)
            try insert(row, compressed, dictID: dict?.id, level: level)
        } else {
            let box = Box(), done = DispatchSemaphore(value: 0)
            let compress: @Sendable () -> Void = { [raw] in
                box.compressed = Result { try Zstd.compress(raw, level: PackPolicy.hotLevel) }
                done.signal()
            }
            if Parallelism.threads > 1 { DispatchQueue.global(qos: .userInitiated).async(execute: compress) } else { compress() }
            compressing = (row, done, box)
            if wait { try insertCompressed() }
        }
    }

    /// Per store file and dictionary id: the dictionary and a context with it loaded. A rolled-back dictionary frees
    /// its id for other bytes, so a context is reused only for the same bytes.
    nonisolated(unsafe) private static var compressors: [String: (dictionary: Data, compressor: Zstd.DictionaryCompressor)] = [:]

    private static func compressor(file: String, id: Int64, dictionary: Data) throws -> Zstd.DictionaryCompressor {
        let key = "\(id):" + file
        if let made = lock.withLock({ compressors[key] }), made.dictionary == dictionary { return made.compressor }
        let made = try Zstd.DictionaryCompressor(dictionary: dictionary, level: PackPolicy.smallPackLevel)
        lock.withLock { compressors[key] = (dictionary, made) }
        return made
    }

    private func insertCompressed() throws {
        guard let (row, done, box) = compressing else { return }
        compressing = nil
        done.wait()
        try insert(row, try box.compressed.get(), dictID: nil, level: PackPolicy.hotLevel)
    }

    private func insert(_ row: PackRow, _ compressed: Data, dictID: Int64?, level: Int32) throws {
        try db.execute(sql: """
            INSERT INTO blob_pack(id, count, dict_id, raw_size, sizes, keys, data, level) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [row.first, row.count, dictID, row.rawSize, row.sizes, row.keys, compressed, level])
        wrotePacks = true
    }

    /// The store's dictionary for small packs; trained from recent blobs the first time enough exist.
    private func dictionary(samples raw: Data, row: PackRow) throws -> (id: Int64, data: Data)? {
        if let row = try Row.fetchOne(db, sql: "SELECT id, data FROM zstd_dict ORDER BY id DESC LIMIT 1") {
            return (row["id"], row["data"])
        }
        // Train once enough blobs exist, and after a failed try only when as many again have come: sampling reads
        // up to 2,000 blobs, too much to repeat for every small pack.
        let stored = row.first - 1 + BlobID(row.count)
        let tried = Self.lock.withLock { Self.dictionaryTriedAt[file] }
        let needed = BlobID(Self.dictionarySamples)
        guard stored >= needed, stored >= (tried ?? 0) + needed else { return nil }
        Self.lock.withLock { Self.dictionaryTriedAt[file] = stored }
        var samples: [Data] = []
        var offset = 0
        var reader = LEB128.Reader(row.sizes)
        while let size = reader.next() {
            samples.append(raw.subdata(in: (raw.startIndex + offset)..<(raw.startIndex + offset + Int(size))))
            offset += Int(size)
        }
        let read = try db.cachedStatement(sql: "SELECT srlm_blob(?)")
        var id = row.first - 1
        while id >= 1 && samples.count < 2 * Self.dictionarySamples {
            if let data = try Data.fetchOne(read, arguments: [id]) { samples.append(data) }
            id -= 1
        }
        guard samples.count >= Self.dictionarySamples, let trained = Zstd.trainDictionary(samples: samples) else { return nil }
        try db.execute(sql: "INSERT INTO zstd_dict(data) VALUES (?)", arguments: [trained])
        // A rollback takes the dictionary away again: let the next small pack try anew.
        Self.lock.withLock { Self.dictionaryTriedAt[file] = nil }
        return (db.lastInsertedRowID, trained)
    }

    // MARK: TransactionObserver: the writer lives for one transaction.

    public func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { false }
    public func databaseDidChange(with event: DatabaseEvent) {}

    public func databaseWillCommit() throws {
        if pending.count > 0 || compressing != nil {
            throw SRLMError.invalid("internal error: \(pending.count) blobs were not flushed before commit")
        }
    }

    public func databaseDidCommit(_ db: Database) {
        index.add(local)
        Self.lock.withLock { _ = Self.current.removeValue(forKey: ObjectIdentifier(db)) }
    }

    public func databaseDidRollback(_ db: Database) {
        // The rolled-back packs' ids are free again: cached copies of them must go.
        if wrotePacks { srlm_sqlite_forget(db.sqliteConnection) }
        Self.lock.withLock { _ = Self.current.removeValue(forKey: ObjectIdentifier(db)) }
    }
}

/// Reads blobs back through the SQL function and checks each one against its key (64 bits of its SHA-256).
public enum BlobReader {
    /// A blob's bytes, checked against its key. A hole left by `srlm gc` is an error unless `holes` allows it (then
    /// it reads as no bytes: maintenance that rewrites packs keeps holes where they are).
    public static func data(_ db: Database, _ id: BlobID, holes: Bool = false) throws -> Data {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT srlm_blob(?1), srlm_blob_key(?1)"), arguments: [id]),
              let data = row[0] as Data?, let key = row[1] as Data? else {
            throw SRLMError.notFound("blob \(id) is missing")
        }
        if isHole(key) {
            guard holes, data.isEmpty else { throw SRLMError.notFound("blob \(id) was removed by srlm gc") }
            return data
        }
        try verify(data, key: key, id: id)
        return data
    }

    /// The key gc leaves for a removed blob: eight zero bytes (no text's SHA-256 starts so, in practice).
    public static let holeKey = Data(count: 8)
    public static func isHole(_ key: Data) -> Bool { key.count == 8 && key.allSatisfy { $0 == 0 } }

    public static func text(_ db: Database, _ id: BlobID) throws -> String {
        String(decoding: try data(db, id), as: UTF8.self)
    }

    public static func verify(_ data: Data, key: Data, id: BlobID) throws {
        guard ContentHash(of: data).hasKey(key) else {
            throw SRLMError.invalid("blob \(id) is corrupt: its bytes do not match its SHA-256 key")
        }
    }
}

/// Unsigned LEB128, the encoding of a pack's blob sizes.
enum LEB128 {
    struct Reader {
        let data: Data
        var at: Int
        init(_ data: Data) { self.data = data; at = data.startIndex }
        mutating func next() -> UInt64? {
            var value: UInt64 = 0, shift: UInt64 = 0
            while at < data.endIndex {
                let byte = data[at]
                at += 1
                value |= UInt64(byte & 0x7f) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
            return nil
        }
    }

    static func append<Bytes: RangeReplaceableCollection>(_ value: UInt64, to data: inout Bytes) where Bytes.Element == UInt8 {
        var v = value
        repeat {
            let byte = UInt8(v & 0x7f)
            v >>= 7
            data.append(v == 0 ? byte : byte | 0x80)
        } while v != 0
    }
}
