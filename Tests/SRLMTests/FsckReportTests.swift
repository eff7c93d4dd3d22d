import Foundation
import GRDB
import Testing
@testable import SRLMStore

/// fsck keeps going past damage and names what it affects.
@Suite struct FsckReportTests {
    /// Overwrites one page of a closed store with zeros, as a torn write or a bad sector would.
    static func zeroPage(_ path: String, _ page: Int) throws {
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        defer { try? handle.close() }
        let header = try handle.read(upToCount: 100) ?? Data()
        let size = Int(header[16]) << 8 | Int(header[17])
        let pageSize = size == 1 ? 65536 : size
        try handle.seek(toOffset: UInt64((page - 1) * pageSize))
        try handle.write(contentsOf: Data(count: pageSize))
    }

    @Test func aZeroedPageIsReportedWithTheVersionsItTakesDown() throws {
        let store = try TestSupport.makeStore()
        _ = try writeSamplePairs(store, name: "pairs", count: 20)
        let root = try #require(try store.read { try Int.fetchOne($0, sql: "SELECT rootpage FROM sqlite_master WHERE name = 'pair'") })
        let path = store.path
        // Everything into the store file, so the zeroed page is the only copy.
        try store.pool.writeWithoutTransaction { _ = try $0.checkpoint(.truncate) }
        try store.close()
        try Self.zeroPage(path, root)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))

        let report = try Fsck.run(path: path)
        #expect(!report.ok)
        #expect(report.problems.contains { $0.hasPrefix("integrity: ") && $0.contains("\(root)") }, "\(report.problems)")
        #expect(report.problems.contains { $0.hasPrefix("default/pairs@1: ") }, "\(report.problems)")
        #expect(!report.problems.contains { $0.contains("COMMIT") }, "\(report.problems)")
        // Read-only: the damaged file is left exactly as it was found.
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    @Test func everyBrokenVersionIsNamedNotOnlyTheFirst() throws {
        let store = try TestSupport.makeStore()
        _ = try writeSamplePairs(store, name: "a", count: 3)
        _ = try writeSamplePairs(store, name: "b", count: 4)
        // b shares a's texts except its fourth row; break a blob both use and one only b uses.
        try store.write { db in
            try db.execute(sql: "DROP TRIGGER blob_pack_immutable")
            var keys = try #require(try Data.fetchOne(db, sql: "SELECT keys FROM blob_pack WHERE id = 1"))
            keys[0] ^= 0xff
            try db.execute(sql: "UPDATE blob_pack SET keys = ? WHERE id = 1", arguments: [keys])
        }
        let report = try Fsck.run(store)
        #expect(report.problems.contains { $0.hasPrefix("default/a@1: 1 row(s) use corrupt or missing blob(s) 1") }, "\(report.problems)")
        #expect(report.problems.contains { $0.hasPrefix("default/b@1: 1 row(s) use corrupt or missing blob(s) 1") }, "\(report.problems)")
    }
}
