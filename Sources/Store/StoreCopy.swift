import Foundation
import GRDB

/// What `srlm store copy` made.
public struct StoreCopyReport: Codable, Sendable {
    public var source = ""
    public var destination = ""
    /// The copy's run folder, when the source has one.
    public var runFolder: String?
    /// Files of the run folder copied, and their bytes.
    public var files = 0
    public var bytes: Int64 = 0
    public var seconds = 0.0

    public func summary() -> String {
        let folder = runFolder.map { String(format: " and its run folder %@ (%d file(s), %.1f MB)", $0, files, Double(bytes) / 1e6) } ?? ""
        return "copied \(source) to \(destination)\(folder)" + String(format: " [%.1f s]", seconds)
    }
}

/// `srlm store copy SRC DST`: a consistent copy of the store file (SQLite's online backup, so writers may keep going)
/// and a copy of its run folder, both written aside and renamed into place, the store file last. The copy records
/// its model files relative to its own run folder (`RunFolder`), so the two stores are independent: removing and
/// collecting in one never touches the other's files. Files outside the run folder stay where they are, named by both.
public enum StoreCopy {
    public static func copy(_ source: Store, to destination: String) throws -> StoreCopyReport {
        let start = DispatchTime.now().uptimeNanoseconds
        let target = URL(fileURLWithPath: destination).standardizedFileURL.path
        try refuseExisting(target)
        var report = StoreCopyReport(source: source.path, destination: target)
        let staged = Staged(target: target)
        defer { staged.discard() }
        try backup(source, to: staged.store)
        let sourceRoot = RunFolder.root(store: source.path)
        if FileManager.default.fileExists(atPath: sourceRoot) {
            try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: staged.runFolder).deletingLastPathComponent().path,
                                                    withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: sourceRoot, toPath: staged.runFolder)
            (report.files, report.bytes) = count(staged.runFolder)
            report.runFolder = RunFolder.root(store: target)
        }
        try staged.place()
        report.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return report
    }

    /// A store is never written over, nor given a run folder that holds something already.
    static func refuseExisting(_ target: String) throws {
        let folder = URL(fileURLWithPath: target).deletingLastPathComponent().path
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw SRLMError.notFound("no folder \(folder) to put the store \(URL(fileURLWithPath: target).lastPathComponent) in")
        }
        for path in [target, RunFolder.root(store: target)] where FileManager.default.fileExists(atPath: path) {
            throw SRLMError.invalid("\(path) exists: a store and its run folder are never written over; name another path")
        }
    }

    /// SQLite's online backup of the store into a new file: one consistent snapshot, whatever else is writing.
    static func backup(_ source: Store, to path: String) throws {
        let copy = try DatabaseQueue(path: path)
        try source.pool.backup(to: copy)
        try copy.close()
    }

    /// The files under `folder` and their bytes.
    static func count(_ folder: String) -> (files: Int, bytes: Int64) {
        let files = FileDigest.regularFiles(under: folder)
        return (files.count, files.reduce(0) { $0 + $1.size })
    }

    /// A store file and run folder written under names beside their final ones, then renamed into place: the run
    /// folder first, the store file last, so a store never appears without its folder. Whatever is not placed is
    /// removed.
    final class Staged {
        let target: String
        let store: String
        let runFolder: String
        private var placed = false

        init(target: String) {
            let url = URL(fileURLWithPath: target)
            let aside = ".\(url.lastPathComponent).partial-\(UUID().uuidString.prefix(8))"
            self.target = target
            self.store = url.deletingLastPathComponent().appendingPathComponent(aside).path
            self.runFolder = URL(fileURLWithPath: RunFolder.root(store: target)).deletingLastPathComponent().appendingPathComponent(aside).path
        }

        func place() throws {
            try refuseExisting(target)
            let fm = FileManager.default
            let root = RunFolder.root(store: target)
            if fm.fileExists(atPath: runFolder) { try fm.moveItem(atPath: runFolder, toPath: root) }
            do {
                try fm.moveItem(atPath: store, toPath: target)
            } catch {
                try? fm.removeItem(atPath: root)
                throw error
            }
            placed = true
        }

        func discard() {
            guard !placed else { return }
            for path in [store, store + "-wal", store + "-shm", runFolder] { try? FileManager.default.removeItem(atPath: path) }
        }
    }
}
