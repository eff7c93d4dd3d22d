import Foundation
import GRDB
import Testing
@testable import SRLMStore

@Suite struct StoreTests {
    @Test func blobsRoundTripThroughPacksAndSQL() throws {
        let store = try TestSupport.makeStore()
        let texts = (0..<3000).map { "message number \($0): the quick brown fox jumps over the lazy dog \($0 % 17)" }
        let hashes = try store.write { db -> [ContentHash] in
            let writer = BlobWriter(db)
            let hashes = try texts.map { try writer.put($0) }
            try writer.put(texts[0])  // deduplicated
            try writer.flush()
            #expect(writer.newBlobs == texts.count)
            return hashes
        }
        let (readBack, viaHex, blobCount, dicts, dictPacks) = try store.read { db in
            (try hashes.map { try BlobReader.text(db, $0) },
             try String.fetchOne(db, sql: "SELECT srlm_text(?)", arguments: [hashes[5].hex]),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM blob"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM zstd_dict"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM blob_pack WHERE dict_id IS NOT NULL"))
        }
        #expect(readBack == texts)
        #expect(viaHex == texts[5])
        #expect(blobCount == texts.count)
        // A dictionary was trained from the first large batch and the packs use it.
        #expect(dicts == 1)
        #expect((dictPacks ?? 0) >= 1)
    }

    @Test func versionsAreImmutableAndOrderIndependent() throws {
        let store = try TestSupport.makeStore()
        func write(_ rows: [[Value]]) throws -> DatasetVersion {
            try store.write { db in
                let w = try VersionWriter(db, experiment: "default", name: "pairs", kind: .pairs, runID: nil)
                for r in rows { try w.append(r) }
                return try w.finish()
            }
        }
        let a: [Value] = [.text("[{\"content\":\"q1\",\"role\":\"user\"}]"), .text("c"), .text("r"), .real(4), .real(1)]
        let b: [Value] = [.text("[{\"content\":\"q2\",\"role\":\"user\"}]"), .text("c2"), .text("r2"), .null, .null]
        let v1 = try write([a, b, b])
        #expect(v1.version == 1 && v1.rowCount == 3)
        // Same rows in another order: identical content, nothing written.
        #expect(throws: StoreError.unchanged("pairs@1")) { try write([b, a, b]) }
        // One duplicate fewer is a different version.
        let v2 = try write([a, b])
        #expect(v2.version == 2 && v2.parentID == v1.id && v2.contentHash != v1.contentHash)
        #expect(throws: (any Error).self) {
            try store.write { db in try db.execute(sql: "UPDATE pair SET chosen_score = 5") }
        }
        #expect(throws: (any Error).self) {
            try store.write { db in try db.execute(sql: "DELETE FROM dataset_version") }
        }
        let latest = try store.read { try DatasetVersion.resolve($0, "pairs", experiment: "default") }
        #expect(latest.version == 2)
        #expect(throws: StoreError.self) { try store.read { try DatasetVersion.resolve($0, "pairs@9", experiment: "default") } }
    }
}
