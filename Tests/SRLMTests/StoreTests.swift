import Foundation
import GRDB
import Testing
@testable import SRLMStore

@Suite struct StoreTests {
    /// ContentHash keeps its bytes as four words: the bytes, hex, key, byte order and the 8-byte key check must be
    /// those of the SHA-256 itself (content hashes in every store depend on them).
    @Test func contentHashIsTheSHA256InByteOrder() throws {
        let hash = ContentHash(of: Data("abc".utf8))
        let hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        #expect(hash.hex == hex && hash.bytes == Data(hexString: hex) && ContentHash(hex: hex) == hash)
        #expect(ContentHash(bytes: hash.bytes) == hash && ContentHash(of: Array("abc".utf8)) == hash)
        #expect(hash.key == Int64(bitPattern: 0xba7816bf8f01cfea))
        #expect(hash.hasKey(Data(hexString: "ba7816bf8f01cfea")!) && !hash.hasKey(Data(hexString: "ba7816bf8f01cfeb")!))
        #expect(!hash.hasKey(Data(hexString: "ba7816bf8f01cf")!))
        let many = (0..<200).map { ContentHash(of: Data("text \($0)".utf8)) }
        #expect(many.sorted().map(\.bytes) == many.map(\.bytes).sorted { $0.lexicographicallyPrecedes($1) })
        for v: Int64 in [0, 7, -7, 1_000_000, .max, .min] {
            var bytes: [UInt8] = []
            DecimalDigits.append(v, to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == String(v))
        }
    }

    @Test func blobsRoundTripThroughPacksAndSQL() throws {
        let store = try TestSupport.makeStore()
        let texts = (0..<3000).map { "message number \($0): the quick brown fox jumps over the lazy dog \($0 % 17)" }
        let ids = try store.write { db -> [BlobID] in
            let writer = try BlobWriter.in(db)
            let ids = try texts.map { try writer.put($0) }
            #expect(try writer.put(texts[0]) == ids[0])  // deduplicated within the transaction
            try writer.flush()
            #expect(writer.newBlobs == texts.count)
            return ids
        }
        // A later transaction finds stored blobs by key (confirmed by their bytes) and writes nothing new.
        let again = try store.write { db -> [BlobID] in
            let writer = try BlobWriter.in(db)
            let found = try [texts[7], texts[2999]].map { try writer.put($0) }
            try writer.flush()
            #expect(writer.newBlobs == 0)
            return found
        }
        #expect(again == [ids[7], ids[2999]])
        let (readBack, viaSQL, packs, blobs) = try store.read { db in
            (try ids.map { try BlobReader.text(db, $0) },
             try String.fetchOne(db, sql: "SELECT srlm_text(?)", arguments: [ids[5]]),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM blob_pack"),
             try Int.fetchOne(db, sql: "SELECT sum(count) FROM blob_pack"))
        }
        #expect(readBack == texts)
        #expect(viaSQL == texts[5])
        #expect(ids == Array(1...3000))
        #expect((packs, blobs) == (1, texts.count))
    }

    /// Small packs (one journal answer, a few rows) compress with a dictionary trained from the store's own blobs.
    @Test func smallPacksUseATrainedDictionary() throws {
        let store = try TestSupport.makeStore()
        _ = try writeSamplePairs(store, count: 1500)
        for i in 0..<3 {
            try store.write { db in
                let writer = try BlobWriter.in(db)
                try writer.put("[{\"content\":\"Because of Rayleigh scattering, small answer \(i).\",\"role\":\"assistant\"}]")
                try writer.flush()
            }
        }
        let (dicts, dictPacks) = try store.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM zstd_dict"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM blob_pack WHERE dict_id IS NOT NULL"))
        }
        #expect(dicts == 1)
        #expect(dictPacks == 3)
        #expect(try Fsck.run(store).ok)
    }

    /// A rolled-back transaction frees its blob ids; a later pack reuses them, and nothing cached from the rolled-back
    /// pack may answer for them.
    @Test func rolledBackPacksLeaveNoStaleBlobs() throws {
        let store = try TestSupport.makeStore()
        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try store.write { db in
                let writer = try BlobWriter.in(db)
                let id = try writer.put("rolled back")
                try writer.flush()
                #expect(try String.fetchOne(db, sql: "SELECT srlm_text(?)", arguments: [id]) == "rolled back")
                throw Abort()
            }
        }
        let id = try store.write { db -> BlobID in
            let writer = try BlobWriter.in(db)
            let id = try writer.put("kept")
            try writer.flush()
            #expect(try String.fetchOne(db, sql: "SELECT srlm_text(?)", arguments: [id]) == "kept")
            return id
        }
        #expect(id == 1)
        #expect(try store.read { try BlobReader.text($0, id) } == "kept")
        // The rolled-back text is not in the index either: storing it again makes a new blob.
        let second = try store.write { db -> BlobID in
            let writer = try BlobWriter.in(db)
            let id = try writer.put("rolled back")
            try writer.flush()
            return id
        }
        #expect(second == 2)
    }

    @Test func aCommitWithUnflushedBlobsFails() throws {
        let store = try TestSupport.makeStore()
        #expect(throws: (any Error).self) {
            try store.write { db in _ = try BlobWriter.in(db).put("never flushed") }
        }
        #expect(try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM blob_pack") } == 0)
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
        #expect(throws: SRLMError.unchanged("pairs@1")) { try write([b, a, b]) }
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
        #expect(throws: SRLMError.self) { try store.read { try DatasetVersion.resolve($0, "pairs@9", experiment: "default") } }
    }

    /// The version writer binds each value to its INSERT itself (not through GRDB's arguments): every kind of value
    /// must land as the column's type with its exact bytes (an empty text is '' and empty bytes a zero-length blob,
    /// never NULL; a NUL inside a text is kept), and a row the table refuses fails the write with SQLite's error.
    @Test func everyKindOfValueIsStoredAsItIs() throws {
        let store = try TestSupport.makeStore()
        func candidate(model: Value, sampleIndex: Value, finish: Value, callHash: Value) -> [Value] {
            [.text("[{\"content\":\"q\",\"role\":\"user\"}]"), .text("[{\"content\":\"a\",\"role\":\"assistant\"}]"),
             model, sampleIndex, .real(0.7), .null, .int(-5), .int(.max), .int(0), finish, callHash]
        }
        let rows = [candidate(model: .text("m é\u{0}tail"), sampleIndex: .int(1), finish: .text(""), callHash: .bytes(Data([0, 1, 0xFF, 0]))),
                    candidate(model: .text("m"), sampleIndex: .int(2), finish: .null, callHash: .bytes(Data()))]
        try store.write { db in
            let w = try VersionWriter(db, experiment: "default", name: "c", kind: .candidates, runID: nil)
            for r in rows { try w.append(r) }
            try w.finish()
        }
        let stored = try store.read { db in
            try Row.fetchAll(db, sql: """
                SELECT ord, typeof(prompt) AS p, typeof(model) AS tm, hex(CAST(model AS BLOB)) AS model, sample_index,
                       temperature, typeof(top_p) AS tp, max_tokens, seed, completion_tokens,
                       typeof(finish_reason) AS tf, finish_reason, typeof(call_hash) AS th, hex(call_hash) AS call_hash
                FROM candidate ORDER BY ord
                """)
        }
        #expect(stored.count == 2)
        #expect(stored.map { $0["p"] as String } == ["integer", "integer"] && stored.map { $0["tm"] as String } == ["text", "text"])
        #expect(stored[0]["model"] as String == Data("m é\u{0}tail".utf8).map { String(format: "%02X", $0) }.joined())
        #expect(stored.map { $0["sample_index"] as Int64 } == [1, 2] && stored[0]["temperature"] as Double == 0.7)
        #expect(stored[0]["tp"] as String == "null" && stored[0]["max_tokens"] as Int64 == -5)
        #expect(stored[0]["seed"] as Int64 == .max && stored[0]["completion_tokens"] as Int64 == 0)
        #expect(stored.map { $0["tf"] as String } == ["text", "null"] && stored[0]["finish_reason"] as String == "")
        #expect(stored.map { $0["th"] as String } == ["blob", "blob"] && stored.map { $0["call_hash"] as String } == ["0001FF00", ""])
        // What the table refuses (NOT NULL, a STRICT column's type) is SQLite's error, and nothing is written.
        for bad in [candidate(model: .null, sampleIndex: .int(1), finish: .null, callHash: .null),
                    candidate(model: .text("m"), sampleIndex: .text("one"), finish: .null, callHash: .null)] {
            let error = #expect(throws: DatabaseError.self) {
                try store.write { db in
                    let w = try VersionWriter(db, experiment: "default", name: "c", kind: .candidates, runID: nil)
                    try w.append(rows[1])
                    try w.append(bad)
                    try w.finish()
                }
            }
            #expect(error?.resultCode == .SQLITE_CONSTRAINT)
            #expect(error?.message?.contains("candidate.") == true, "\(String(describing: error?.message))")
        }
        #expect(try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM dataset_version") } == 1)
    }
}

@Suite struct ConfigRedactionTests {
    /// Secrets never reach the store; fields that only look like them (the weights' journal key, token limits) are
    /// part of what a run means and stay in its config hash.
    @Test func secretsByWordNotBySubstring() throws {
        for secret in ["apiKey", "api_key", "OPENAI_API_KEY", "accessToken", "hf_token", "password", "Authorization",
                       "client_secret", "private-key"] {
            #expect(Runs.isSecret(secret), "\(secret)")
        }
        for kept in ["modelKey", "maxTokens", "max_tokens", "completion_tokens", "apiKeyEnv", "api_key_env", "keywords",
                     "tokens", "keyColumns"] {
            #expect(!Runs.isSecret(kept), "\(kept)")
        }
        let canonical = try Runs.canonicalConfig(["modelKey": "sha256:ab", "sampling": ["maxTokens": 64],
                                                  "endpoint": ["apiKey": "sk-live-123", "apiKeyEnv": "OPENAI_API_KEY"]])
        #expect(canonical.contains("sha256:ab") && canonical.contains("64") && canonical.contains("OPENAI_API_KEY"))
        #expect(!canonical.contains("sk-live-123"))
        let other = try Runs.canonicalConfig(["modelKey": "sha256:cd", "sampling": ["maxTokens": 64],
                                              "endpoint": ["apiKey": "sk-live-123", "apiKeyEnv": "OPENAI_API_KEY"]])
        #expect(Runs.configHash(canonical) != Runs.configHash(other))
    }
}
