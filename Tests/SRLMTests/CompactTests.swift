import Foundation
import GRDB
import Testing
@testable import SRLMImport
import SRLMStages
@testable import SRLMStore

/// Issue 12: fast hot packs, `srlm compact`, the byte-bounded decode cache, and the import's fast paths.
@Suite struct CompactTests {
    /// Rows whose replies repeat sentences across the whole version, written `batches` transactions apart so the
    /// version's blobs lie in several hot packs.
    static func writeRepeatingPairs(_ store: Store, batches: Int, rows: Int) throws -> [DatasetVersion] {
        var rng = SeededGenerator(seed: 3)
        let sentences = (0..<400).map { "Sentence \($0) says something about topic \($0 % 23) with some detail attached to it." }
        func reply() -> String {
            (0..<Int.random(in: 20...60, using: &rng)).map { _ in sentences.randomElement(using: &rng)! }.joined(separator: " ")
        }
        return try (0..<batches).map { batch in
            try store.write { db in
                let w = try VersionWriter(db, experiment: "default", name: "pairs\(batch)", kind: .pairs, runID: nil)
                for i in 0..<rows {
                    func text(_ s: String, _ role: String) -> Value { .text(String(decoding: CanonicalJSON.messages([Message(role: role, content: s)]), as: UTF8.self)) }
                    try w.append([text("question \(batch)-\(i)", "user"), text(reply(), "assistant"), text(reply(), "assistant"), .real(5), .real(1)])
                }
                return try w.finish()
            }
        }
    }

    static func texts(_ store: Store) throws -> [String] {
        try store.read { db in
            try String.fetchAll(db, sql: "SELECT srlm_text(prompt) || srlm_text(chosen) || srlm_text(rejected) FROM pair ORDER BY version_id, ord")
        }
    }

    @Test func compactRewritesPacksWithoutChangingAnyContent() throws {
        let store = try TestSupport.makeStore()
        let versions = try Self.writeRepeatingPairs(store, batches: 3, rows: 300)
        let before = try Self.texts(store)
        let (packsBefore, bytesBefore) = try store.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM blob_pack")!, try Int.fetchOne(db, sql: "SELECT sum(length(data)) FROM blob_pack")!)
        }
        #expect(packsBefore >= 3)

        var dry = CompactOptions()
        dry.dryRun = true
        let plan = try Compactor.run(store, dry)
        #expect(plan.packsBefore == packsBefore && plan.packsAfter == 0)
        #expect(try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM blob_pack") } == packsBefore)

        let report = try Compactor.run(store)
        #expect(report.packsBefore == packsBefore)
        #expect(report.packsAfter == 1)
        #expect(report.bytesAfter < report.bytesBefore)
        let (packsAfter, bytesAfter, level) = try store.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM blob_pack")!, try Int.fetchOne(db, sql: "SELECT sum(length(data)) FROM blob_pack")!,
             try Int.fetchOne(db, sql: "SELECT min(level) FROM blob_pack"))
        }
        #expect(packsAfter == 1 && bytesAfter < bytesBefore && level == Int(PackPolicy.compactLevel))
        // Same texts, same version hashes (fsck recomputes every row hash and version hash from the blobs).
        #expect(try Self.texts(store) == before)
        let fsck = try Fsck.run(store)
        #expect(fsck.ok, "\(fsck.problems)")
        for version in versions {
            #expect(try store.read { try DatasetVersion.byID($0, version.id) }.contentHash == version.contentHash)
        }
        // Compacted packs are left alone; the append-only guards are back.
        #expect(try Compactor.run(store).packsBefore == 0)
        #expect(throws: DatabaseError.self) { try store.write { try $0.execute(sql: "DELETE FROM blob_pack") } }
        // New writes append after the compacted pack and deduplicate against it.
        let again = try Self.writeRepeatingPairs(try Store(path: store.path), batches: 1, rows: 10)
        #expect(again[0].rowCount == 10)
        #expect(try Fsck.run(store).ok)
    }

    /// Reads that hop between more packs than the old four-slot cache held decode each pack once, within the budget;
    /// a budget of 0 keeps only the pack in use.
    @Test func theDecodeCacheHoldsEveryPackWithinItsBudget() throws {
        let store = try TestSupport.makeStore()
        _ = try Self.writeRepeatingPairs(store, batches: 6, rows: 150)
        try store.read { db in
            let firsts = try BlobID.fetchAll(db, sql: "SELECT id FROM blob_pack ORDER BY id")
            #expect(firsts.count >= 6)
            func readAround() throws { for _ in 0..<3 { for id in firsts { _ = try String.fetchOne(db, sql: "SELECT srlm_text(?)", arguments: [id]) } } }
            func stats() throws -> [String: Int] {
                try JSONDecoder().decode([String: Int].self, from: Data(try String.fetchOne(db, sql: "SELECT srlm_cache_stats()")!.utf8))
            }
            let start = try stats()
            try readAround()
            let cached = try stats()
            #expect(cached["misses"]! - start["misses"]! <= firsts.count)
            #expect(cached["packs"]! == firsts.count && cached["bytes"]! <= cached["limit"]!)

            #expect(try Int.fetchOne(db, sql: "SELECT srlm_cache_limit(0)") == cached["limit"])
            try readAround()
            let tiny = try stats()
            #expect(tiny["packs"]! == 1)
            #expect(tiny["misses"]! - cached["misses"]! == 3 * firsts.count)
            #expect(throws: DatabaseError.self) { try Int.fetchOne(db, sql: "SELECT srlm_cache_limit(-1)") }
            _ = try Int.fetchOne(db, sql: "SELECT srlm_cache_limit(?)", arguments: [cached["limit"]!])
        }
    }

    /// The direct canonical writer gives JSONEncoder's bytes for every ASCII byte and a few non-ASCII classes.
    @Test func canonicalMessagesMatchJSONEncoder() throws {
        var samples = (0..<128).map { String(UnicodeScalar(UInt8($0))) }
        samples += ["", "plain", "a/b", "tab\there", "quote \" and \\ backslash", "é e\u{301} 日本 😀", "\u{2028}\u{2029}\u{FEFF}",
                    String(repeating: "x\u{1}y", count: 50)]
        // Plain bytes are skipped eight at a time: every ASCII byte at each place within and across those words.
        for byte in 0..<128 {
            for offset in [0, 1, 7, 8, 9, 15, 16, 23] {
                samples.append(String(repeating: "é", count: offset % 3) + String(repeating: "a", count: offset)
                               + String(UnicodeScalar(UInt8(byte))) + "bcdefghijklmnopq" + String(UnicodeScalar(UInt8(byte))))
            }
        }
        for (i, text) in samples.enumerated() {
            let messages = [Message(role: i % 2 == 0 ? "user" : "assist\u{7}ant", content: text), .assistant(text + "!")]
            #expect(CanonicalJSON.messages(messages) == (try CanonicalJSON.encode(messages)), "sample \(i)")
        }
    }

    /// Two threads parse an import's lines in batches: the same version as one thread, and the first bad line of a
    /// batch is still the one reported.
    @Test func parallelImportMatchesSequentialAndReportsTheFirstBadLine() throws {
        let lines = (0..<2500).map { i in
            #"{"prompt": "question \#(i)", "chosen": "good answer \#(i)", "rejected": "bad answer \#(i % 7)"}"#
        }
        let path = TestSupport.writeTemp(lines.joined(separator: "\n") + "\n")
        let hashes = try [1, 2].map { threads in
            try TestSupport.withThreads(threads) {
                try Importer.run(TestSupport.makeStore(), ImportOptions(target: .pairs, path: path, format: .trl)).version!.contentHash
            }
        }
        #expect(hashes[0] == hashes[1])

        var broken = lines
        broken[1700] = #"{"prompt": "q", "chosen": "a""#
        broken[2100] = "not json"
        let bad = TestSupport.writeTemp(broken.joined(separator: "\n") + "\n")
        let store = try TestSupport.makeStore()
        let error = #expect(throws: ImportError.self) {
            try TestSupport.withThreads(2) { try Importer.run(store, ImportOptions(target: .pairs, path: bad, format: .trl)) }
        }
        #expect(error?.line == 1701)
        #expect(try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM dataset_version") } == 0)
    }
}

/// Issue 13 item 6 and the compact verb, through the binary: every listing takes --format table|csv|json with stable
/// field names, --json still means json, and compact reports what it did.
@Suite struct ListingFormatTests {
    @Test func listingsSpeakCSVAndJSON() throws {
        let store = try TestSupport.makeStore()
        let version = try CompactTests.writeRepeatingPairs(store, batches: 1, rows: 100)[0]
        func srlm(_ arguments: [String]) throws -> String {
            let (status, output) = try TestSupport.run(EngineSupport.srlmBinary, arguments + ["--store", store.path], withErrors: false)
            #expect(status == 0, "\(arguments): \(output)")
            return output
        }
        let json = try JSONSerialization.jsonObject(with: Data(try srlm(["datasets", "--format", "json"]).utf8)) as? [[String: Any]]
        #expect(json?.first?["ref"] as? String == version.ref)
        #expect(json?.first?["content_hash"] as? String == version.contentHash)  // full, not the table's prefix
        #expect(try srlm(["datasets", "--json"]) == (try srlm(["datasets", "--format", "json"])))
        let csv = try srlm(["datasets", "--format", "csv"]).split(separator: "\n")
        #expect(csv.first?.contains("content_hash") == true && csv.count == 2)
        #expect(try srlm(["log", "--format", "csv"]).split(separator: "\n").count >= 1)
        #expect(try JSONSerialization.jsonObject(with: Data(try srlm(["checkpoints", "--format", "json"]).utf8)) is [Any])
        #expect(try srlm(["compact"]).hasPrefix("rewrote 1 pack"))  // the hot (zstd -3) pack
        #expect(try srlm(["compact", "--dry-run"]).hasPrefix("nothing to compact"))
    }
}
