import Foundation
import GRDB
import Testing
@testable import SRLMStore

/// Issue 28, goal 5: a store touches only the files in its own run folder, so a copy (`srlm store copy`, or a bare
/// sqlite3 `.backup`) and a bundle unpacked elsewhere are stores of their own.
@Suite struct StoreCopyTests {
    static var apply: GCOptions { var options = GCOptions(); options.dryRun = false; return options }

    /// Every checkpoint's files (full paths) with their SHA-256, by checkpoint name.
    static func modelFiles(_ store: Store) throws -> [String: [String]] {
        let checkpoints = try store.read { try Checkpoints.all($0, experiment: "default") }
        return Dictionary(uniqueKeysWithValues: checkpoints.map { ($0.name, $0.files.map { "\($0.path) \($0.sha256)" }) })
    }

    static func removeRoundTwoAndCollect(_ store: Store) throws -> GCReport {
        _ = try Remover.run(store, experiment: "default", target: .round(2))
        return try GarbageCollector.run(store, apply)
    }

    static func filesExist(_ files: [String: [String]]) -> Bool {
        files.values.joined().allSatisfy { FileManager.default.fileExists(atPath: String($0.split(separator: " ")[0])) }
    }

    @Test func modelPathsInsideTheRunFolderAreRecordedRelativeToIt() throws {
        let root = "/data/srlm-runs/demo.sqlite"
        #expect(RunFolder.root(store: "/data/./demo.sqlite") == root)
        #expect(RunFolder.record("/data/srlm-runs/demo.sqlite/3/model/model.safetensors", root: root) == "3/model/model.safetensors")
        #expect(RunFolder.record("/data/models/base/model.safetensors", root: root) == "/data/models/base/model.safetensors")
        #expect(RunFolder.record("/data/srlm-runs/demo.sqlite/../other.sqlite/3/x.gguf", root: root) == "/data/srlm-runs/other.sqlite/3/x.gguf")
        #expect(RunFolder.resolve("3/model", root: root) == root + "/3/model")
        #expect(RunFolder.resolve("/elsewhere/model", root: root) == "/elsewhere/model")
        #expect(!RunFolder.owns(RunFolder.resolve("../other.sqlite/3/x.gguf", root: root), root: root))
        #expect(!RunFolder.owns(root, root: root) && !RunFolder.owns(root + "-old/3", root: root))

        let store = try TestSupport.makeStore()
        _ = try RemovalTests.makeExperiment(store)
        let recorded = try store.read { try String.fetchAll($0, sql: "SELECT path FROM checkpoint_file ORDER BY path") }
        #expect(recorded == ["models/default-M0/model.safetensors", "models/default-M1/model.safetensors", "models/default-M2/model.safetensors"])
        let m1 = try #require(try store.read { try Checkpoints.find($0, experiment: "default", name: "M1") })
        #expect(m1.uri == RunFolder.root(store: store.path) + "/models/default-M1" && FileManager.default.fileExists(atPath: m1.files[0].path))
    }

    /// The case: copy the store, remove round 2 from the copy and collect; the original keeps every file.
    @Test func storeCopyGivesTwoIndependentStores() throws {
        let original = try TestSupport.makeStore()
        _ = try RemovalTests.makeExperiment(original)
        let before = try Self.modelFiles(original)
        let copyPath = URL(fileURLWithPath: original.path).deletingLastPathComponent().appendingPathComponent("copy.sqlite").path
        let report = try StoreCopy.copy(original, to: copyPath)
        #expect(report.files == 3 && report.runFolder == RunFolder.root(store: copyPath))
        #expect(throws: SRLMError.invalid("\(copyPath) exists: a store and its run folder are never written over; name another path")) {
            try StoreCopy.copy(original, to: copyPath)
        }

        let copy = try Store(path: copyPath)
        let copied = try Self.modelFiles(copy)
        #expect(copied["M2"]?.first?.hasPrefix(RunFolder.root(store: copyPath) + "/") == true)
        _ = try Remover.run(copy, experiment: "default", target: .round(2))
        let preview = try GarbageCollector.run(copy)
        let m2 = RunFolder.root(store: copyPath) + "/models/default-M2/model.safetensors"
        #expect(preview.files.map(\.path) == [m2] && preview.summary().contains(m2))
        let done = try GarbageCollector.run(copy, Self.apply)
        #expect(done.files.map(\.path) == [m2] && !FileManager.default.fileExists(atPath: m2))

        #expect(try Self.modelFiles(original) == before && Self.filesExist(before))
        let fsck = try Fsck.run(original)
        #expect(fsck.ok && fsck.modelFiles == 3 && fsck.missingModelFiles.isEmpty, "\(fsck.summary)")
        #expect(try Fsck.run(copy).ok)
    }

    /// A bare SQLite backup (sqlite3 `.backup`, no run folder copied) into another folder under the same file name:
    /// its relative paths name its own (absent) run folder, so its gc finds nothing of the original's to delete.
    @Test func aBackupWithoutItsRunFolderCannotDeleteTheOriginalsFiles() throws {
        let original = try TestSupport.makeStore()
        _ = try RemovalTests.makeExperiment(original)
        let before = try Self.modelFiles(original)
        let copyPath = TestSupport.temporaryDirectory("backup").appendingPathComponent("srlm.sqlite").path
        try StoreCopy.backup(original, to: copyPath)
        let done = try Self.removeRoundTwoAndCollect(try Store(path: copyPath))
        #expect(done.files.isEmpty)
        #expect(try Self.modelFiles(original) == before && Self.filesExist(before))
        #expect(try Fsck.run(original).ok)
    }

    /// A store written before migration 018 recorded full paths. Migrating makes those in its own run folder relative;
    /// a backup taken before the migration keeps them in full (they are the original's), and its gc leaves them.
    @Test func fullPathsFromBeforeMigration018() throws {
        let original = try TestSupport.makeStore()
        _ = try RemovalTests.makeExperiment(original)
        let root = RunFolder.root(store: original.path)
        let migration = "018_store_relative_model_paths"
        try original.write { db in
            try db.execute(sql: "UPDATE checkpoint_file SET path = ? || '/' || path", arguments: [root])
            try db.execute(sql: "UPDATE checkpoint SET uri = ? || '/' || uri WHERE substr(uri, 1, 1) <> '/'", arguments: [root])
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = ?", arguments: [migration])
        }
        let copyPath = TestSupport.temporaryDirectory("old-backup").appendingPathComponent("srlm.sqlite").path
        try StoreCopy.backup(original, to: copyPath)
        try original.close()

        let copy = try Store(path: copyPath)
        #expect(try copy.read { try String.fetchAll($0, sql: "SELECT path FROM checkpoint_file") }.allSatisfy { $0.hasPrefix(root + "/") })
        // A removal recorded in full by an older srlm, pointing into the original's folder, is not the copy's either.
        let m1 = root + "/models/default-M1/model.safetensors"
        try copy.write { db in
            try db.execute(sql: "INSERT INTO removal(experiment, what, detail) VALUES ('default', 'old', '{}')")
            try db.execute(sql: "INSERT INTO removed_file(path, sha256, size, removal_id) VALUES (?, 'x', 1, ?)", arguments: [m1, db.lastInsertedRowID])
        }
        let done = try Self.removeRoundTwoAndCollect(copy)
        #expect(done.files.map(\.path) == [m1] && done.files[0].skipped?.contains("outside this store's run folder") == true)

        let reopened = try Store(path: original.path)
        let recorded = try reopened.read { try String.fetchAll($0, sql: "SELECT path FROM checkpoint_file ORDER BY path") }
        #expect(recorded == ["models/default-M0/model.safetensors", "models/default-M1/model.safetensors", "models/default-M2/model.safetensors"])
        let files = try Self.modelFiles(reopened), fsck = try Fsck.run(reopened)
        #expect(Self.filesExist(files) && fsck.ok && fsck.modelFiles == 3, "\(fsck.summary)")
    }

    @Test func aBundleUnpackedElsewhereFindsItsCheckpoints() throws {
        let store = try TestSupport.makeStore()
        _ = try RemovalTests.makeExperiment(store)
        let hasZstd = FileManager.default.isExecutableFile(atPath: "/usr/bin/zstd") || FileManager.default.isExecutableFile(atPath: "/usr/local/bin/zstd")
        let archive = TestSupport.temporaryDirectory("bundle").appendingPathComponent(hasZstd ? "demo.tar.zst" : "demo.tar.gz").path
        let bundled = try StoreBundle.bundle(store, to: archive, weights: true)
        #expect(bundled.files == 3 && bundled.leftOut.isEmpty && bundled.archiveBytes > 0)
        #expect(throws: SRLMError.fileExists(path: archive)) { try StoreBundle.bundle(store, to: archive) }
        #expect(try StoreBundle.bundle(store, to: archive, force: true).files == 3)

        let there = TestSupport.temporaryDirectory("unbundled").appendingPathComponent("lab").path
        let unpacked = try StoreBundle.unbundle(archive, into: there)
        #expect(unpacked.store == there + "/srlm.sqlite" && unpacked.files == 3)
        #expect(unpacked.fsck.ok && unpacked.fsck.modelFiles == 3 && unpacked.fsck.missingModelFiles.isEmpty, "\(unpacked.fsck.summary)")
        let moved = try Store(path: unpacked.store)
        let m1 = try #require(try moved.read { try Checkpoints.find($0, experiment: "default", name: "M1") })
        #expect(m1.files[0].path == there + "/srlm-runs/srlm.sqlite/models/default-M1/model.safetensors")
        #expect(try FileDigest.sha256(m1.files[0].path).sha256 == m1.files[0].sha256)
        #expect(throws: SRLMError.self) { try StoreBundle.unbundle(archive, into: there) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: there).filter { $0.hasPrefix(".") }.isEmpty)  // nothing left aside
    }

    @Test func aBundleWithoutWeightsUnpacksCleanAndNamesWhatIsMissing() throws {
        let store = try TestSupport.makeStore()
        _ = try RemovalTests.makeExperiment(store)
        let notes = URL(fileURLWithPath: RunFolder.path(store: store.path, run: 7)).appendingPathComponent("train.log")
        try FileManager.default.createDirectory(at: notes.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("a log".utf8).write(to: notes)
        let archive = TestSupport.temporaryDirectory("bundle").appendingPathComponent("light.tar").path
        let bundled = try StoreBundle.bundle(store, to: archive, weights: false)
        #expect(bundled.files == 1 && bundled.leftOut.count == 3)

        let there = TestSupport.temporaryDirectory("unbundled").path
        let unpacked = try StoreBundle.unbundle(archive, into: there)
        #expect(unpacked.fsck.ok && unpacked.fsck.modelFiles == 0, "\(unpacked.fsck.summary)")
        #expect(unpacked.fsck.missingModelFiles.count == 3 && unpacked.fsck.summary.contains("default/M2: \(there)/srlm-runs/srlm.sqlite/models/default-M2"))
        #expect(FileManager.default.fileExists(atPath: there + "/srlm-runs/srlm.sqlite/7/train.log"))
    }

    /// An archive from elsewhere may hold links or names that climb out of the folder: refused before anything is
    /// unpacked.
    @Test func anArchiveWithALinkOrAForeignPathIsRefused() throws {
        let source = TestSupport.temporaryDirectory("evil")
        try Data("x".utf8).write(to: source.appendingPathComponent("srlm.sqlite"))
        try FileManager.default.createDirectory(at: source.appendingPathComponent("srlm-runs/srlm.sqlite"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: source.appendingPathComponent("srlm-runs/srlm.sqlite/up").path, withDestinationPath: "/tmp")
        let linked = source.appendingPathComponent("linked.tar").path
        try StoreBundle.tar(["--create", "--file", linked, "-C", source.path, "srlm.sqlite", "srlm-runs"])
        let there = TestSupport.temporaryDirectory("target")
        #expect(throws: SRLMError.self) { try StoreBundle.unbundle(linked, into: there.path) }
        try Data("y".utf8).write(to: source.appendingPathComponent("notes.txt"))
        let foreign = source.appendingPathComponent("foreign.tar").path
        try StoreBundle.tar(["--create", "--file", foreign, "-C", source.path, "srlm.sqlite", "notes.txt"])
        #expect(throws: SRLMError.self) { try StoreBundle.unbundle(foreign, into: there.path) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: there.path).isEmpty)
    }

    /// A bundle whose store file is not a store is unpacked (to look at) but its check fails.
    @Test func aBundleHoldingNoStoreFailsItsCheck() throws {
        let source = TestSupport.temporaryDirectory("notastore")
        try Data("not SQLite at all, but long enough to look like a header of something".utf8).write(to: source.appendingPathComponent("srlm.sqlite"))
        let archive = source.appendingPathComponent("bad.tar").path
        try StoreBundle.tar(["--create", "--file", archive, "-C", source.path, "srlm.sqlite"])
        let report = try StoreBundle.unbundle(archive, into: TestSupport.temporaryDirectory("target").path)
        #expect(!report.fsck.ok && report.fsck.problems.contains { $0.hasPrefix("store: ") })
    }

    /// A removed training run's folder is recorded beside the files inside it (folder first, by path): gc lists and
    /// counts the folder once, and the files go with it (the dry run had listed and summed them twice).
    @Test func aRemovedFolderIsCountedOnceWithTheFilesInside() throws {
        let store = try TestSupport.makeStore()
        let root = RunFolder.root(store: store.path)
        let folder = root + "/7"
        try FileManager.default.createDirectory(atPath: folder + "/model", withIntermediateDirectories: true)
        try Data(repeating: 1, count: 1000).write(to: URL(fileURLWithPath: folder + "/model/model.safetensors"))
        try Data(repeating: 2, count: 500).write(to: URL(fileURLWithPath: folder + "/model.q8_0.gguf"))
        try store.write { db in
            try db.execute(sql: "INSERT INTO removal(experiment, what, detail) VALUES ('default', 'round 2', '{}')")
            let removal = db.lastInsertedRowID
            for (path, bytes) in [("7", nil), ("7/model.q8_0.gguf", 500), ("7/model/model.safetensors", 1000)] as [(String, Int?)] {
                let sha = try bytes.map { _ in try FileDigest.sha256(root + "/" + path).sha256 }
                try db.execute(sql: "INSERT INTO removed_file(path, sha256, size, removal_id) VALUES (?, ?, ?, ?)",
                               arguments: [path, sha, bytes, removal])
            }
        }
        let preview = try GarbageCollector.run(store)
        #expect(preview.files.map(\.path) == [folder] && preview.files[0].bytes == 1500, "\(preview.files)")
        #expect(preview.summary().contains("1 model file(s) of removed checkpoints, 0.00 MB"), "\(preview.summary())")
        let done = try GarbageCollector.run(store, Self.apply)
        #expect(done.files.map(\.path) == [folder] && !FileManager.default.fileExists(atPath: folder))
        #expect(try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM removed_file WHERE deleted IS NULL") } == 0)
    }

}
