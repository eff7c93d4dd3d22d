import Foundation
import GRDB
import Testing
@testable import SRLMStore

@Suite struct DiffTests {
    func write(_ store: Store, _ name: String, _ kind: ArtifactKind, _ rows: [[String: Value]]) throws -> DatasetVersion {
        try store.write { db in
            let w = try VersionWriter(db, experiment: "default", name: name, kind: kind, runID: nil)
            for row in rows { try w.append(row) }
            return try w.finish()
        }
    }

    func text(_ s: String) -> Value { .text(String(decoding: CanonicalJSON.messages([.user(s)]), as: UTF8.self)) }
    /// The diff key of a one-text key: the id of the blob holding that user message.
    func key(_ store: Store, _ s: String) throws -> String {
        let json = String(decoding: CanonicalJSON.messages([.user(s)]), as: UTF8.self)
        return try store.read { db in
            try #require(try Int64.fetchOne(db, sql: """
                SELECT prompt FROM (SELECT prompt FROM pair UNION SELECT prompt FROM ift_example) WHERE srlm_text(prompt) = ?
                """, arguments: [json])).description
        }
    }

    func pair(_ p: String, _ c: String, _ r: String, _ cs: Double = 1, _ rs: Double = 0) -> [String: Value] {
        ["prompt": text(p), "chosen": text(c), "rejected": text(r), "chosen_score": .real(cs), "rejected_score": .real(rs)]
    }

    func ift(_ p: String, _ r: String) -> [String: Value] { ["prompt": text(p), "response": text(r)] }

    func diff(_ store: Store, _ a: DatasetVersion, _ b: DatasetVersion, limit: Int? = nil) throws -> DatasetDiff {
        try store.read { try Differ.diff($0, from: a, to: b, rowLimit: limit) }
    }

    @Test func addedRemovedAndModifiedWithTheirColumns() throws {
        let store = try TestSupport.makeStore()
        let v1 = try write(store, "hh", .pairs, [pair("p1", "c", "r"), pair("p2", "c", "r"), pair("p3", "c", "r"), pair("p4", "c", "r")])
        let v2 = try write(store, "hh", .pairs, [pair("p5", "c", "r"), pair("p3", "c", "r2", 7), pair("p2", "c2", "r"), pair("p1", "c", "r")])
        let d = try diff(store, v1, v2)
        #expect((d.from, d.to, d.kind) == ("hh@1", "hh@2", "pairs"))
        #expect((d.added, d.removed, d.modified, d.unchanged) == (1, 1, 2, 1))
        #expect(d.statLine() == "hh@1 → hh@2: 1 row added, 1 removed, 2 modified (1 unchanged)")
        let modified = [
            DatasetDiff.RowChange(key: try key(store, "p2"), change: "modified", columns: ["chosen"], fromOrd: 1, toOrd: 2),
            DatasetDiff.RowChange(key: try key(store, "p3"), change: "modified", columns: ["rejected", "chosen_score"], fromOrd: 2, toOrd: 1),
        ].sorted { Int($0.key)! < Int($1.key)! }
        #expect(d.rows == [DatasetDiff.RowChange(key: try key(store, "p5"), change: "added", columns: [], fromOrd: nil, toOrd: 0)]
                + modified
                + [DatasetDiff.RowChange(key: try key(store, "p4"), change: "removed", columns: [], fromOrd: 3, toOrd: nil)])
        // The reverse diff swaps added and removed.
        let back = try diff(store, v2, v1)
        #expect((back.added, back.removed, back.modified, back.unchanged) == (1, 1, 2, 1))
        #expect(back.rows.first == DatasetDiff.RowChange(key: try key(store, "p4"), change: "added", columns: [], fromOrd: nil, toOrd: 3))
        // The JSON form round-trips.
        let json = try JSONEncoder().encode(d)
        #expect(try JSONDecoder().decode(DatasetDiff.self, from: json).rows == d.rows)
    }

    @Test func duplicatesPairByOccurrenceAfterExactMatches() throws {
        let store = try TestSupport.makeStore()
        // Key q: a, b, c then b, x, y. b matches b wherever it sits; the leftovers a, c pair with x, y in ord order.
        // Key d: two identical rows, then one: one unchanged, one removed.
        let v1 = try write(store, "sft", .ift, [ift("q", "a"), ift("d", "same"), ift("q", "b"), ift("q", "c"), ift("d", "same")])
        let v2 = try write(store, "sft", .ift, [ift("q", "b"), ift("q", "x"), ift("d", "same"), ift("q", "y")])
        let d = try diff(store, v1, v2)
        #expect((d.added, d.removed, d.modified, d.unchanged) == (0, 1, 2, 2))
        #expect(d.rows.filter { $0.change == "modified" }.map { [$0.fromOrd!, $0.toOrd!] } == [[0, 1], [3, 3]])
        let q = try key(store, "q")
        #expect(d.rows.filter { $0.change == "modified" }.allSatisfy { $0.key == q && $0.columns == ["response"] })
        #expect(d.rows.filter { $0.change == "removed" } == [DatasetDiff.RowChange(key: try key(store, "d"), change: "removed", columns: [], fromOrd: 4, toOrd: nil)])
    }

    @Test func reorderedRowsAreUnchanged() throws {
        let store = try TestSupport.makeStore()
        let rows = (0..<50).map { pair("p\($0 % 7)", "c\($0)", "r\($0 % 3)", Double($0 % 5)) }
        let v1 = try write(store, "a", .pairs, rows)
        let v2 = try write(store, "b", .pairs, rows.reversed())
        let d = try diff(store, v1, v2)
        #expect((d.added, d.removed, d.modified, d.unchanged) == (0, 0, 0, 50))
        #expect(d.rows.isEmpty)
        #expect(d.statLine() == "a@1 → b@1: 0 rows added, 0 removed, 0 modified (50 unchanged)")
    }

    @Test func versionsOfDifferentKindsAreRefused() throws {
        let store = try TestSupport.makeStore()
        let pairs = try write(store, "hh", .pairs, [pair("p", "c", "r")])
        let sft = try write(store, "sft", .ift, [ift("p", "c")])
        #expect(throws: SRLMError.invalid("cannot diff hh@1 (pairs) with sft@1 (ift): versions of different kinds")) {
            _ = try diff(store, pairs, sft)
        }
    }

    @Test func rowLimitCapsTheListButNotTheCounts() throws {
        let store = try TestSupport.makeStore()
        let v1 = try write(store, "x", .ift, (0..<10).map { ift("p\($0)", "r") })
        let v2 = try write(store, "x", .ift, (5..<15).map { ift("p\($0)", $0 < 8 ? "changed" : "r") })
        let full = try diff(store, v1, v2)
        #expect((full.added, full.removed, full.modified, full.unchanged) == (5, 5, 3, 2))
        #expect(full.rows.map(\.change) == Array(repeating: "added", count: 5) + Array(repeating: "modified", count: 3)
                + Array(repeating: "removed", count: 5))
        let capped = try diff(store, v1, v2, limit: 7)
        #expect(capped.rows == Array(full.rows.prefix(7)))
        #expect((capped.added, capped.removed, capped.modified, capped.unchanged) == (5, 5, 3, 2))
        #expect(try diff(store, v1, v2, limit: 0).rows.isEmpty)
        #expect(throws: SRLMError.self) { _ = try diff(store, v1, v2, limit: -1) }
    }

    @Test func multiColumnKeysAndProvenanceColumns() throws {
        let store = try TestSupport.makeStore()
        func cand(_ model: String, _ response: String, temperature: Double) -> [String: Value] {
            ["prompt": text("q"), "response": text(response), "model": .text(model), "sample_index": .int(0),
             "temperature": .real(temperature)]
        }
        let v1 = try write(store, "c", .candidates, [cand("m1", "a", temperature: 0.7), cand("m2", "b", temperature: 0.7),
                                                     cand("m3", "c", temperature: 0.7)])
        // m1: only a provenance column changes (unchanged); m2: the response changes; m3 → m4: a new key.
        let v2 = try write(store, "c", .candidates, [cand("m1", "a", temperature: 1.0), cand("m2", "B", temperature: 0.7),
                                                     cand("m4", "c", temperature: 0.7)])
        let d = try diff(store, v1, v2)
        #expect((d.added, d.removed, d.modified, d.unchanged) == (1, 1, 1, 1))
        #expect(d.rows.first { $0.change == "modified" }?.columns == ["response"])
        #expect(d.rows.allSatisfy { $0.key.count == 64 })
    }

    @Test func manyRowsWithRepeatedKeys() throws {
        let store = try TestSupport.makeStore()
        // Timing at 100k rows is the benchmark's job (make bench); this checks the counts at a size tests can afford.
        func h(_ s: String) -> Value { .text(s) }
        let n = 20_000, repeatAfter = 18_000
        let (v1, v2) = try store.write { db -> (DatasetVersion, DatasetVersion) in
            let a = try VersionWriter(db, experiment: "default", name: "big", kind: .pairs, runID: nil)
            for i in 0..<n { try a.append([h("p\(i % repeatAfter)"), h("c\(i)"), h("r"), .real(1), .real(0)]) }
            let first = try a.finish()
            let b = try VersionWriter(db, experiment: "default", name: "big", kind: .pairs, runID: nil)
            // Reversed, with every 100th row modified, 500 removed and 500 added.
            for i in stride(from: n - 1, through: 500, by: -1) {
                try b.append([h("p\(i % repeatAfter)"), h(i % 100 == 0 ? "changed\(i)" : "c\(i)"), h("r"), .real(1), .real(0)])
            }
            for i in 0..<500 { try b.append([h("new\(i)"), h("c"), h("r"), .null, .null]) }
            return (first, try b.finish())
        }
        let result = try diff(store, v1, v2, limit: 1000)
        // Keys repeat after `repeatAfter`, so keys below n - repeatAfter have two rows in v1; only the i < 500
        // copies are removed. Modified: i % 100 == 0 for i >= 500.
        #expect(result.added == 500 && result.removed == 500)
        #expect(result.modified == (500..<n).filter { $0 % 100 == 0 }.count)
        #expect(result.added + result.modified + result.unchanged == n)
        #expect(result.rows.count == 1000)
    }
}
