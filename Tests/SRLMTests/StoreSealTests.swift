import Foundation
import GRDB
import Testing
@testable import SRLMStore

/// Expects `body` to be refused by one of the schema's seals (not, say, by a busy lock), naming why.
func expectSealed(_ reason: String, _ comment: String = "", sourceLocation: SourceLocation = #_sourceLocation,
                  _ body: () throws -> Void) {
    let error = #expect(throws: DatabaseError.self, Comment(rawValue: comment), sourceLocation: sourceLocation) { try body() }
    #expect(error?.message?.contains(reason) == true, "\(comment): \(String(describing: error))", sourceLocation: sourceLocation)
}

/// A plain SQLite connection to a store, as any client (sqlite3, Datasette, a script) would open it: no srlm
/// functions, no srlm code in the way.
func plainConnection(_ store: Store) throws -> DatabaseQueue {
    try DatabaseQueue(path: store.path)
}

/// A frozen version's rows and the blobs they name cannot change from any client.
@Suite struct RowSealTests {
    @Test func aFrozenVersionsRowsCannotBeDeletedOrAddedByAnyClient() throws {
        let store = try TestSupport.makeStore()
        let version = try writeSamplePairs(store, count: 4)
        let other = try plainConnection(store)
        expectSealed("immutable") {
            try other.write { try $0.execute(sql: "DELETE FROM pair WHERE version_id = ?", arguments: [version.id]) }
        }
        expectSealed("immutable") {
            try other.write {
                try $0.execute(sql: "INSERT INTO pair(version_id, ord, prompt, chosen, rejected) SELECT version_id, 99, prompt, chosen, rejected FROM pair WHERE version_id = ? AND ord = 0",
                               arguments: [version.id])
            }
        }
        expectSealed("immutable") {
            try other.write { try $0.execute(sql: "UPDATE pair SET chosen_score = 0 WHERE version_id = ?", arguments: [version.id]) }
        }
        #expect(try Fsck.run(store).ok)
        #expect(try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM pair") } == 4)
    }

    @Test func blobPacksAndDictionariesOnlyGrow() throws {
        let store = try TestSupport.makeStore()
        _ = try writeSamplePairs(store, count: 4)
        let other = try plainConnection(store)
        for sql in ["UPDATE blob_pack SET keys = zeroblob(length(keys))", "DELETE FROM blob_pack",
                    // A pack slipped in below the last blob id would shadow stored blobs.
                    "INSERT INTO blob_pack(id, count, raw_size, sizes, keys, data) SELECT id + 1, 1, 1, x'01', x'0000000000000000', data FROM blob_pack",
                    "INSERT INTO zstd_dict(id, data) VALUES (7, x'00')", "UPDATE zstd_dict SET data = x'00'"] {
            // The dictionary table is empty here: its insert is allowed, the update then refused.
            if sql.hasPrefix("INSERT INTO zstd_dict") { try other.write { try $0.execute(sql: sql) }; continue }
            expectSealed(sql.hasPrefix("INSERT") ? "appended" : "immutable", sql) { try other.write { try $0.execute(sql: sql) } }
        }
        expectSealed("immutable") { try other.write { try $0.execute(sql: "DELETE FROM zstd_dict") } }
        #expect(try Fsck.run(store).ok)
    }

    @Test func aVersionRowMustCountTheRowsThatCarryItsID() throws {
        let store = try TestSupport.makeStore()
        let version = try writeSamplePairs(store, count: 4)
        let other = try plainConnection(store)
        // Rows staged for a version id not yet used, then a version row that claims fewer of them.
        expectSealed("count exactly") {
            try other.write { db in
                try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
                try db.execute(sql: "INSERT INTO pair(version_id, ord, prompt, chosen, rejected) SELECT 99, ord, prompt, chosen, rejected FROM pair WHERE version_id = ?",
                               arguments: [version.id])
                try db.execute(sql: """
                    INSERT INTO dataset_version(id, dataset_id, version, row_count, content_hash)
                    SELECT 99, dataset_id, 2, 1, content_hash FROM dataset_version WHERE id = ?
                    """, arguments: [version.id])
            }
        }
    }
}

/// `derive --where` sees only its source version's rows, as one read-only expression.
@Suite struct DeriveConfinementTests {
    @Test func aConditionCannotEscapeItsVersion() throws {
        let store = try TestSupport.makeStore()
        let source = try writeSamplePairs(store, name: "small", count: 3)
        _ = try writeSamplePairs(store, name: "other", count: 20)
        for escape in ["1) OR (1", "1)) OR ((1", "chosen_score > 0) UNION SELECT ord FROM pair WHERE (1",
                       "1 -- ", "1 /* ", "1; DELETE FROM pair", "", "'unclosed"] {
            let error = #expect(throws: SRLMError.self, "\(escape)") {
                try Derive.run(store, name: "escaped", from: source.ref, where: escape)
            }
            #expect(error?.description.contains("condition") == true, "\(String(describing: error))")
        }
        #expect(try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM dataset WHERE name = 'escaped'") } == 0)
        // Parentheses inside strings and quoted names are text, and a whole-table subquery still only filters.
        let kept = try #require(try Derive.run(store, name: "kept", from: source.ref,
                                               where: "prompt_text <> ')' AND \"ord\" >= 0 AND (SELECT count(*) FROM pair) > 0").version)
        #expect(kept.rowCount == 3 && kept.contentHash == source.contentHash)
        let one = try #require(try Derive.run(store, name: "one", from: source.ref, where: "ord = 1 OR 1 = 0").version)
        #expect(one.rowCount == 1)
    }
}

/// Text from datasets reaches filters and terminals as it is, never as control sequences or truncated.
@Suite struct TextSafetyTests {
    @Test func aNULInsideATextDoesNotTruncateTheTextColumns() throws {
        let store = try TestSupport.makeStore()
        let version = try store.write { db in
            let w = try VersionWriter(db, experiment: "default", name: "nul", kind: .pairs, runID: nil)
            func text(_ m: Message) -> Value { .text(String(decoding: CanonicalJSON.messages([m]), as: UTF8.self)) }
            try w.append([text(.user("before\u{0}after")), text(.assistant("a \\u0000 literal")), text(.assistant("no")), .null, .null])
            return try w.finish()
        }
        let row = try #require(try SQLQuery.run(store, """
            SELECT length(prompt_text), prompt_text LIKE '%after', chosen_text FROM v_pairs WHERE version_id = ?
            """, arguments: [version.id]).rows.first)
        #expect(row[0] == 12.databaseValue && row[1] == 1.databaseValue)
        // A backslash-u written as text stays that text.
        #expect(row[2] == "a \\u0000 literal".databaseValue)
        let derived = try #require(try Derive.run(store, name: "after", from: version.ref, where: "prompt_text LIKE '%after'").version)
        #expect(derived.rowCount == 1)
    }

    @Test func infiniteValuesRenderAsJSON() throws {
        let store = try TestSupport.makeStore()
        let json = try SQLQuery.run(store, "SELECT 1e999 AS up, -1e999 AS down, 2 AS two").render(.json)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        #expect(rows.count == 1)
        #expect(rows.first?["up"] as? String == "Infinity" && rows.first?["down"] as? String == "-Infinity")
        #expect(rows.first?["two"] as? Int == 2)
    }

    @Test func controlCharactersAreEscapedForATerminal() throws {
        let hostile = "title\u{1B}]0;pwned\u{07} clear\u{1B}[2J\u{9B}31m \u{202E}evil"
        let result = QueryResult(columns: ["t\u{1B}x"], rows: [[hostile.databaseValue]])
        for format in [QueryResult.Format.table, .csv, .json] {
            let shown = result.render(format, maxWidth: 500, forTerminal: true)
            let controls = shown.unicodeScalars.filter { ($0.value < 0x20 && $0 != "\n") || (0x7F..<0xA0).contains($0.value) || $0.value == 0x202E }
            #expect(controls.isEmpty, "\(format): \(shown.debugDescription)")
            #expect(shown.contains("pwned"))
        }
        #expect(result.render(.table, maxWidth: 500, forTerminal: true).contains("\\x1b]0;pwned\\x07"))
        // Files and pipes get the value as stored.
        #expect(result.render(.csv).contains(hostile))
    }

    @Test func experimentNamesAreValidated() throws {
        let store = try TestSupport.makeStore()
        for name in ["", "a b", "evil\u{1B}[2J", "../x", String(repeating: "x", count: 129)] {
            let error = #expect(throws: SRLMError.self, "\(name.debugDescription)") {
                try store.write { try Experiment.id($0, name) }
            }
            #expect(error?.description.contains("\u{1B}") == false)
        }
        #expect(try store.write { try Experiment.id($0, "round-2_exp.1:a") } > 0)
    }
}
