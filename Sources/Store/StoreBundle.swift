import Foundation
import GRDB

/// What `srlm bundle` wrote.
public struct BundleReport: Codable, Sendable {
    public var archive = ""
    /// The store file's name in the archive; its run folder is `srlm-runs/<name>/` beside it.
    public var store = ""
    /// Files of the run folder in the archive, and their bytes before compression.
    public var files = 0
    public var bytes: Int64 = 0
    /// Weight files of the run folder left out (`weights: false`).
    public var leftOut: [String] = []
    /// Model files outside the run folder (a base model, an added checkpoint): not the store's, not in the archive.
    public var external: [String] = []
    public var archiveBytes: Int64 = 0
    public var seconds = 0.0

    public func summary() -> String {
        var lines = [String(format: "wrote %@: the store %@ and %d run folder file(s), %.1f MB (%.1f MB in the archive)",
                            archive, store, files, Double(bytes) / 1e6, Double(archiveBytes) / 1e6)]
        if !leftOut.isEmpty { lines.append("left out \(leftOut.count) weight file(s) (fsck where it is unpacked lists them as missing)") }
        if !external.isEmpty {
            lines.append("not in the archive: \(external.count) model file(s) outside the store's run folder, named by their full path:")
            lines += external.map { "  " + $0 }
        }
        return lines.joined(separator: "\n") + String(format: " [%.1f s]", seconds)
    }
}

/// What `srlm unbundle` put where, and `fsck` of the store there.
public struct UnbundleReport: Codable, Sendable {
    public var store = ""
    public var runFolder: String?
    public var files = 0
    public var fsck = FsckReport()

    public func summary() -> String {
        "unpacked \(store)" + (runFolder.map { " and its run folder \($0) (\(files) file(s))" } ?? "") + "\nfsck: " + fsck.summary
    }
}

/// `srlm bundle` / `srlm unbundle`: a store and its run folder as one tar archive (zstd- or gzip-compressed by its
/// name) written by the system's `tar`, so that any machine can list or unpack it without srlm:
///
///     NAME.sqlite                   a consistent copy of the store (SQLite's online backup)
///     srlm-runs/NAME.sqlite/…       its run folder: exported data, trainer logs, models
///
/// Model files are recorded relative to the run folder, so the store unpacked anywhere finds them there.
public enum StoreBundle {
    /// Writes the archive aside and renames it into place (over an older one only with `force`). Without `weights`,
    /// the run folder's weight files (those checkpoints list, and any *.safetensors, *.bin, *.gguf) stay out.
    public static func bundle(_ store: Store, to archive: String, weights: Bool = true, force: Bool = false) throws -> BundleReport {
        let start = DispatchTime.now().uptimeNanoseconds
        let out = URL(fileURLWithPath: archive).standardizedFileURL
        let compression = try compressionFlag(out.lastPathComponent)
        guard force || !FileManager.default.fileExists(atPath: out.path) else { throw SRLMError.fileExists(path: out.path) }
        let name = URL(fileURLWithPath: store.path).lastPathComponent
        var report = BundleReport(archive: out.path, store: name)
        let (owned, external) = try store.read { db in
            (Set(try String.fetchAll(db, sql: "SELECT path FROM checkpoint_file WHERE substr(path, 1, 1) <> '/'")),
             try String.fetchAll(db, sql: "SELECT DISTINCT path FROM checkpoint_file WHERE substr(path, 1, 1) = '/' ORDER BY path"))
        }
        report.external = external

        let stage = out.deletingLastPathComponent().appendingPathComponent(".\(out.lastPathComponent).partial-\(UUID().uuidString.prefix(8))")
        let partial = stage.path + ".tar"
        try FileManager.default.createDirectory(at: stage, withIntermediateDirectories: false)
        defer { for path in [stage.path, partial] { try? FileManager.default.removeItem(atPath: path) } }
        try StoreCopy.backup(store, to: stage.appendingPathComponent(name).path)

        // Member names relative to the store's folder: srlm-runs/NAME/…, NUL-separated for `tar -T`.
        let root = RunFolder.root(store: store.path)
        var members = Data()
        for (url, size) in FileDigest.regularFiles(under: root) {
            guard let relative = RunFolder.relative(url.path, root: root) else { continue }
            if !weights && (owned.contains(relative) || FileDigest.weightExtensions.contains(url.pathExtension)) {
                report.leftOut.append(relative)
                continue
            }
            members.append(Data("srlm-runs/\(name)/\(relative)".utf8) + Data([0]))
            report.files += 1
            report.bytes += size
        }
        let list = stage.appendingPathComponent(".members")
        try members.write(to: list)
        try tar(["--create", "--file", partial] + compression + ["-C", stage.path, name, "-C", URL(fileURLWithPath: store.path)
            .standardizedFileURL.deletingLastPathComponent().path, "--null", "-T", list.path])
        guard rename(partial, out.path) == 0 else {
            throw SRLMError.invalid("cannot put the archive at \(out.path): \(String(cString: strerror(errno)))")
        }
        report.archiveBytes = (try? FileManager.default.attributesOfItem(atPath: out.path)[.size] as? NSNumber)?.int64Value ?? 0
        report.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return report
    }

    /// Unpacks an archive `bundle` wrote into `directory`: first into a folder beside, after checking that it holds
    /// only plain files and folders, one store file and that store's run folder (an archive from elsewhere can hold
    /// links or paths that climb out); then the run folder and the store are renamed into place, and the store is
    /// opened (migrated if an older srlm wrote it) and checked.
    public static func unbundle(_ archive: String, into directory: String) throws -> UnbundleReport {
        guard FileManager.default.fileExists(atPath: archive) else { throw SRLMError.notFound("no archive \(archive)") }
        let name = try checkMembers(archive)
        let folder = URL(fileURLWithPath: directory).standardizedFileURL
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let target = folder.appendingPathComponent(name).path
        try StoreCopy.refuseExisting(target)
        let staged = StoreCopy.Staged(target: target)
        defer { staged.discard() }
        let unpacked = URL(fileURLWithPath: staged.store + ".d")
        try FileManager.default.createDirectory(at: unpacked, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: unpacked) }
        try tar(["--extract", "--file", archive, "-C", unpacked.path, "--no-same-owner", "--no-same-permissions"])
        try FileManager.default.moveItem(atPath: unpacked.appendingPathComponent(name).path, toPath: staged.store)
        let runs = unpacked.appendingPathComponent("srlm-runs").appendingPathComponent(name).path
        var report = UnbundleReport(store: target)
        if FileManager.default.fileExists(atPath: runs) {
            try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: staged.runFolder).deletingLastPathComponent().path,
                                                    withIntermediateDirectories: true)
            try FileManager.default.moveItem(atPath: runs, toPath: staged.runFolder)
            report.files = StoreCopy.count(staged.runFolder).files
            report.runFolder = RunFolder.root(store: target)
        }
        try staged.place()
        do {
            let store = try Store(path: target)
            report.fsck = try Fsck.run(store)
            try store.close()
        } catch {
            report.fsck = try Fsck.run(path: target)  // not a store srlm can open: fsck says what it can
            if report.fsck.ok { report.fsck.problems.append("store: \(error)") }
        }
        return report
    }

    /// The store file's name, after checking every member: plain files and folders only, one store file at the top,
    /// everything else inside `srlm-runs/<that name>/`, no absolute path and no `..`.
    static func checkMembers(_ archive: String) throws -> String {
        let verbose = try tar(["--list", "--verbose", "--file", archive]).split(separator: "\n")
        if let odd = verbose.first(where: { !["-", "d"].contains($0.first.map(String.init) ?? "") }) {
            throw SRLMError.invalid("\(archive): holds something other than files and folders (\(odd)); not a store bundle")
        }
        let names = try tar(["--list", "--file", archive]).split(separator: "\n").map(String.init)
        let stores = names.filter { !$0.contains("/") }
        guard stores.count == 1, let name = stores.first, !name.hasPrefix(".") else {
            throw SRLMError.invalid("\(archive): a store bundle holds one store file at its top, found \(stores.count) (\(stores.prefix(5).joined(separator: ", ")))")
        }
        for member in names where member != name {
            let parts = member.split(separator: "/", omittingEmptySubsequences: false)
            let inside = member == "srlm-runs/" || member == "srlm-runs/\(name)/" || member.hasPrefix("srlm-runs/\(name)/")
            guard inside, !parts.contains(".."), !member.hasPrefix("/") else {
                throw SRLMError.invalid("\(archive): member \(member) is outside srlm-runs/\(name)/; not a store bundle")
            }
        }
        return name
    }

    static func compressionFlag(_ name: String) throws -> [String] {
        if name.hasSuffix(".tar.zst") || name.hasSuffix(".tzst") { return ["--zstd"] }
        if name.hasSuffix(".tar.gz") || name.hasSuffix(".tgz") { return ["--gzip"] }
        if name.hasSuffix(".tar") { return [] }
        throw SRLMError.invalid("\(name): a bundle's name ends in .tar, .tar.zst (zstd) or .tar.gz")
    }

    /// Runs the system's `tar` (GNU or bsdtar) with `arguments`, no shell; returns what it printed.
    @discardableResult
    static func tar(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["tar"] + arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do { try process.run() } catch { throw SRLMError.setup("cannot run tar: \(error)") }
        // Both pipes drained while it runs: output longer than a pipe's buffer would otherwise block it.
        final class Box: @unchecked Sendable { var data = Data() }
        let said = Box()
        let drained = DispatchGroup()
        DispatchQueue.global().async(group: drained) { said.data = errors.fileHandleForReading.readDataToEndOfFile() }
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        drained.wait()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw SRLMError.invalid("tar \(arguments.prefix(3).joined(separator: " ")) failed: "
                                     + String(decoding: said.data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return String(decoding: printed, as: UTF8.self)
    }
}
