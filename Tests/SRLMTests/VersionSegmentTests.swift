import Foundation
import GRDB
import Testing
@testable import SRLMStore

/// Segments (migration 016) let a diff skip the rows two versions share; these tests hold the fast diff to the full
/// one and the segments to the rows they stand for.
@Suite struct VersionSegmentTests {
    func hashes(_ n: Int, salt: String = "") -> [ContentHash] { (0..<n).map { ContentHash(of: Data("row \($0)\(salt)".utf8)) } }

    @Test func segmentsCoverEveryRowOnceWithinTheirBounds() {
        let rows = hashes(5_000)
        let segments = VersionSegments.cut(rows)
        #expect(segments.first?.firstOrd == 0)
        #expect(zip(segments, segments.dropFirst()).allSatisfy { $0.ords.upperBound == $1.firstOrd })
        #expect(segments.last?.ords.upperBound == rows.count)
        #expect(segments.dropLast().allSatisfy { (VersionSegments.minimumRows...VersionSegments.maximumRows).contains($0.rowCount) })
        // About 80 rows each: loose bounds that a cut rule gone wrong (every row, or never) fails.
        #expect((40...100).contains(rows.count / segments.count))
        #expect(VersionSegments.cut(rows) == segments)
        #expect(VersionSegments.cut([]) == [])
        // Identical rows whose hash never cuts still end a segment at the maximum.
        let same = Array(repeating: rows.first { $0.words.d & VersionSegments.cutMask != 0 }!, count: 2_500)
        #expect(VersionSegments.cut(same).map(\.rowCount) == [1024, 1024, 452])
    }

    @Test func anEditInsertOrDropChangesOnlyTheSegmentsBesideIt() {
        let rows = hashes(5_000)
        let base = VersionSegments.cut(rows)
        var edited = rows
        edited[2_500] = ContentHash(of: Data("edited".utf8))
        edited.insert(ContentHash(of: Data("inserted".utf8)), at: 1_000)
        edited.remove(at: 4_000)
        edited.append(ContentHash(of: Data("appended".utf8)))
        let unshared = VersionSegments.unshared(base, VersionSegments.cut(edited))
        let read = unshared.old.reduce(0) { $0 + $1.count }
        // Three edits and an append: a few segments each side, far from the whole version.
        #expect(read < 1_000)
        #expect(unshared.sharedRows + read == rows.count)
        #expect(unshared.sharedRows + unshared.new.reduce(0) { $0 + $1.count } == edited.count)
    }

    /// A shared segment stands for rows of equal meaning; the diff may skip them only if a row's key is part of its
    /// meaning (else a changed key under an equal row hash would go unseen).
    @Test func everyKindsDiffKeyIsPartOfItsRowsMeaning() {
        for kind in ArtifactKind.allCases {
            let meaning = Set(kind.columns.filter(\.meaning).map(\.name))
            #expect(Set(kind.keyColumns).isSubset(of: meaning), "\(kind.rawValue): key \(kind.keyColumns)")
        }
    }

    func pair(_ i: Int, _ chosen: String) -> [Value] {
        [.text("prompt \(i)"), .text(chosen), .text("rejected \(i % 97)"), .real(Double(i % 5)), .real(0)]
    }

    func write(_ store: Store, _ rows: [[Value]]) throws -> DatasetVersion {
        try store.write { db in
            let w = try VersionWriter(db, experiment: "default", name: "pairs", kind: .pairs, runID: nil)
            for row in rows { try w.append(row) }
            return try w.finish()
        }
    }

    /// The diff read in full on both sides, as a version without segments is.
    func fullDiff(_ store: Store, _ a: DatasetVersion, _ b: DatasetVersion) throws -> DatasetDiff {
        try store.read { db in
            try Differ.diff(db, from: a, to: b, rowLimit: nil, old: try Differ.entries(db, a), new: try Differ.entries(db, b), sharedRows: 0)
        }
    }

    @Test func theDiffOfADerivedVersionReadsItsChangesAndAgreesWithAFullRead() throws {
        let store = try TestSupport.makeStore()
        let n = 12_000
        var rows = (0..<n).map { pair($0, "chosen \($0)") }
        let v1 = try write(store, rows)
        for i in stride(from: 1_200, to: n, by: 2_400) { rows[i][1] = .text("changed \(i)") }   // 5 modified
        rows.removeSubrange(4_000..<4_003)                                                    // 3 removed
        rows.insert(pair(n, "new"), at: 8_000)                                               // 2 added
        rows.append(pair(n + 1, "new"))
        let v2 = try write(store, rows)

        let plan = try store.read { try Differ.ReadPlan($0, v1, v2) }
        let read = (plan.old ?? []).reduce(0) { $0 + $1.count } + (plan.new ?? []).reduce(0) { $0 + $1.count }
        // Eight edited places, each costing a segment or two (~80 rows each) on each side.
        #expect(plan.old != nil && read < n / 4, "the diff read \(read) rows of \(2 * n)")
        let fast = try Differ.diff(store, from: v1, to: v2)
        #expect((fast.added, fast.removed, fast.modified, fast.unchanged) == (2, 3, 5, n - 8))
        let full = try fullDiff(store, v1, v2)
        #expect(fast.rows == full.rows)
        #expect((fast.added, fast.removed, fast.modified, fast.unchanged) == (full.added, full.removed, full.modified, full.unchanged))
        let back = try store.read { try Differ.diff($0, from: v2, to: v1) }
        #expect(back.rows == (try fullDiff(store, v2, v1)).rows)
    }

    @Test func segmentsAreSealedCheckedByFsckAndRemovedWithTheirVersion() throws {
        let store = try TestSupport.makeStore()
        let v1 = try write(store, (0..<500).map { pair($0, "c\($0)") })
        let v2 = try write(store, (0..<500).map { pair($0, $0 == 7 ? "other" : "c\($0)") })
        let stored = try store.read { try VersionSegments.read($0, v1) }
        #expect(stored?.count ?? 0 > 1)
        for sql in ["DELETE FROM version_segment WHERE version_id = \(v1.id)",
                    "UPDATE version_segment SET row_count = row_count + 1 WHERE version_id = \(v1.id)",
                    "INSERT INTO version_segment VALUES (\(v1.id), 9999, 1, zeroblob(16))"] {
            #expect(throws: DatabaseError.self) { try store.write { try $0.execute(sql: sql) } }
        }
        #expect(try Fsck.run(store).problems.isEmpty)

        // A segment hash changed behind the triggers: fsck names the version.
        try store.write { db in
            try Guards.lifted(db, ["segment_sealed_update"]) {
                try db.execute(sql: "UPDATE version_segment SET hash = zeroblob(16) WHERE version_id = ? AND first_ord = 0", arguments: [v2.id])
            }
        }
        #expect(try Fsck.run(store).problems == ["default/pairs@2: its segments (version_segment) do not match its rows"])

        // A version without segments (as written before migration 016) is diffed by reading every row.
        try store.write { db in
            try Guards.lifted(db, ["segment_sealed_delete"]) {
                try db.execute(sql: "DELETE FROM version_segment WHERE version_id = ?", arguments: [v2.id])
            }
        }
        #expect(try store.read { try Differ.ReadPlan($0, v1, v2) }.old == nil)
        #expect(try Differ.diff(store, from: v1, to: v2).modified == 1)
        #expect(try Fsck.run(store).problems.isEmpty)

        _ = try Remover.run(store, experiment: "default", target: .version(DatasetRef(name: "pairs", version: 2)))
        _ = try Remover.run(store, experiment: "default", target: .version(DatasetRef(name: "pairs", version: 1)))
        #expect(try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM version_segment") } == 0)
    }

    @Test func aStoreFromBeforeSegmentsIsUpgradedWhenOpenedWritableAndItsOldVersionsStillDiff() throws {
        let path = try TestSupport.temporaryDirectory("segments").appendingPathComponent("srlm.sqlite").path
        // A store as migration 015 left it: no segment table, no record of migration 016.
        var store: Store? = try Store(path: path, create: true)
        let old = try write(store!, (0..<300).map { pair($0, "c\($0)") })
        let written = try store!.read { try VersionSegments.read($0, old) }
        try store!.write { db in
            for trigger in ["segment_sealed_insert", "segment_sealed_delete", "segment_sealed_update"] { try db.execute(sql: "DROP TRIGGER \(trigger)") }
            try db.execute(sql: "DROP TABLE version_segment")
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = '016_version_segments'")
        }
        try store!.close()
        store = nil
        #expect(throws: SRLMError.notFound("store at \(path) needs migrating: run `srlm init --store \(path)` once (it upgrades the store in place; read-only commands never write)")) {
            _ = try Store(path: path, readOnly: true)
        }
        let upgraded = try Store(path: path)
        let new = try write(upgraded, (0..<300).map { pair($0, $0 == 5 ? "other" : "c\($0)") })
        #expect(try upgraded.read { try VersionSegments.read($0, old) } == nil)
        #expect(try upgraded.read { try VersionSegments.read($0, new) }?.isEmpty == false)
        #expect(try Differ.diff(upgraded, from: old, to: new).modified == 1)
        #expect(try Fsck.run(upgraded).problems.isEmpty)

        // compact gives the old version its segments: the ones its writer wrote before the table was dropped.
        var dry = CompactOptions()
        dry.dryRun = true
        #expect(try Compactor.run(upgraded, dry).segmentedVersions == 1)
        #expect(try upgraded.read { try VersionSegments.read($0, old) } == nil)
        let report = try Compactor.run(upgraded)
        #expect(report.segmentedVersions == 1)
        #expect(report.summary().contains("gave 1 older version its diff segments"))
        let given = try upgraded.read { try VersionSegments.read($0, old) }
        #expect(written != nil && given == written)
        #expect(try upgraded.read { try Differ.ReadPlan($0, old, new) }.old != nil)
        #expect(try Differ.diff(upgraded, from: old, to: new).modified == 1)
        #expect(try Fsck.run(upgraded).problems.isEmpty)
        #expect(try Compactor.run(upgraded).segmentedVersions == 0)
    }
}
