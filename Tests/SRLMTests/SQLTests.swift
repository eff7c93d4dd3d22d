import Foundation
import GRDB
import Testing
@testable import SRLMStore

/// A small pairs dataset written through VersionWriter, shared by the SQL-side suites.
func writeSamplePairs(_ store: Store, name: String = "pairs", count: Int = 20) throws -> DatasetVersion {
    try store.write { db in
        let w = try VersionWriter(db, experiment: "default", name: name, kind: .pairs, runID: nil)
        for i in 0..<count {
            let prompt = String(decoding: CanonicalJSON.messages([.user("question \(i): why is the sky blue?")]), as: UTF8.self)
            let chosen = String(decoding: CanonicalJSON.messages([.assistant("Rayleigh scattering, answer \(i).")]), as: UTF8.self)
            let rejected = String(decoding: CanonicalJSON.messages([.assistant("Because it is, \(i).")]), as: UTF8.self)
            try w.append([.text(prompt), .text(chosen), .text(rejected), .real(Double(3 + i % 3)), .real(Double(i % 3))])
        }
        return try w.finish()
    }
}

@Suite struct SQLTests {
    @Test func viewsShowReadableTextAndSQLIsReadOnly() throws {
        let store = try TestSupport.makeStore()
        let version = try writeSamplePairs(store)
        let readOnly = try Store(path: store.path, readOnly: true)
        let result = try SQLQuery.run(readOnly, "SELECT ord, prompt_text, chosen_text, margin FROM v_pairs WHERE ref = ? ORDER BY ord",
                                      arguments: [version.ref])
        #expect(result.rows.count == 20)
        #expect(result.rows[1][1] == "question 1: why is the sky blue?".databaseValue)
        #expect(result.rows[1][2] == "Rayleigh scattering, answer 1.".databaseValue)
        #expect(result.rows[1][3] == 3.0.databaseValue)
        let error = #expect(throws: SRLMError.self) { try SQLQuery.run(readOnly, "DELETE FROM pair") }
        #expect(error?.description.contains("read-only") == true)
        #expect(try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM pair") } == 20)
        // Renderings carry the same values.
        #expect(result.render(.csv).contains("\"Rayleigh scattering, answer 1.\""))
        let json = try JSONSerialization.jsonObject(with: Data(result.render(.json).utf8)) as? [[String: Any]]
        #expect(json?.count == 20 && json?[1]["margin"] as? Double == 3)
    }

    @Test func deriveFiltersIntoANewRecordedVersion() throws {
        let store = try TestSupport.makeStore()
        let source = try writeSamplePairs(store)
        let derived = try Derive.run(store, name: "wide", from: source.ref, where: "chosen_score >= 4")
        let version = try #require(derived.version)
        #expect(version.rowCount == (0..<20).filter { $0 % 3 != 0 }.count)
        #expect(version.parentID == source.id)
        let run = try store.read { try Row.fetchOne($0, sql: "SELECT stage, status FROM run WHERE id = ?", arguments: [version.runID]) }
        #expect(run?["stage"] == "derive" && run?["status"] == "finished")
        // Same filter again: nothing new.
        #expect(try Derive.run(store, name: "wide", from: source.ref, where: "chosen_score >= 4").unchanged == "wide@1")
        // A filter cannot write and bad SQL names the problem.
        #expect(throws: SRLMError.self) { try Derive.run(store, name: "bad", from: source.ref, where: "no_such_column > 1") }
        #expect(throws: (any Error).self) { try Derive.run(store, name: "bad", from: source.ref, where: "1); DELETE FROM pair; (1") }
        #expect(try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM pair WHERE version_id = ?", arguments: [source.id]) } == 20)
    }

    @Test func fsckFindsCorruption() throws {
        let store = try TestSupport.makeStore()
        _ = try writeSamplePairs(store)
        #expect(try Fsck.run(store).ok)
        #expect(try Fsck.run(store).blobs == 60)
        // Corrupt one blob's key: its bytes no longer match it (past the seal on packs, as a flipped bit would).
        try store.write { db in
            try db.execute(sql: "DROP TRIGGER blob_pack_immutable")
            var keys = try Data.fetchOne(db, sql: "SELECT keys FROM blob_pack WHERE id = 1")!
            keys[0] ^= 0xff
            try db.execute(sql: "UPDATE blob_pack SET keys = ? WHERE id = 1", arguments: [keys])
        }
        let report = try Fsck.run(store)
        #expect(!report.ok)
        #expect(report.problems.contains { $0.contains("blob 1: content does not match its key") })
        // ... and the version whose rows use it is named.
        #expect(report.problems.contains { $0.contains("default/pairs@1: 1 row(s) use corrupt or missing blob(s) 1") }, "\(report.problems)")
    }

    @Test func namedQueriesParse() throws {
        let store = try TestSupport.makeStore()
        _ = try writeSamplePairs(store)
        let names = try Schema.queryNames()
        for required in ["round-history", "score-distribution", "pair-margins", "response-lengths", "dataset-sizes"] {
            #expect(names.contains(required))
        }
        for name in names {
            let result = try SQLQuery.run(store, try Schema.query(named: name), arguments: ["experiment": "default"])
            #expect(!result.columns.isEmpty)
        }
        let sizes = try SQLQuery.run(store, try Schema.query(named: "dataset-sizes"), arguments: ["experiment": "default"])
        #expect(sizes.rows.count == 1)
    }

    /// Debian's /usr/bin/sqlite3 loads the extension built by this package and reads the views.
    @Test func plainSQLiteReadsViewsThroughTheExtension() throws {
        let library = TestSupport.packageRoot.appendingPathComponent(".build/debug/libsrlmsqlite.so").path
        try #require(FileManager.default.fileExists(atPath: library), "build the extension first: swift build")
        let store = try TestSupport.makeStore()
        _ = try writeSamplePairs(store, count: 3000)
        try store.write { db in  // a small pack, compressed with a dictionary trained from the store's blobs
            let w = try VersionWriter(db, experiment: "default", name: "small", kind: .pairs, runID: nil)
            func text(_ m: Message) -> Value { .text(String(decoding: CanonicalJSON.messages([m]), as: UTF8.self)) }
            try w.append([text(.user("A small question?")), text(.assistant("A small answer.")), text(.assistant("No.")), .null, .null])
            try w.finish()
        }
        #expect(try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM blob_pack WHERE dict_id IS NOT NULL") }! == 1)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [store.path, "-cmd", ".load \(library.dropLast(3))",
                             "SELECT count(*), sum(chosen_text = 'Rayleigh scattering, answer ' || ord || '.') FROM v_pairs WHERE ref = 'pairs@1';"
                             + "SELECT chosen_text FROM v_pairs WHERE ref = 'small@1';"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        process.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "3000|3000\nA small answer.")
    }
}
