import Foundation
import GRDB

/// Where a training run keeps its exported data, trainer config, log and model: `<store folder>/srlm-runs/<store
/// file name>/<run id>`. The store's name is part of it because run ids are per store and several stores often
/// share a folder. (Stores trained before this layout used `srlm-runs/<run id>`; their checkpoints record full paths.)
///
/// The store owns the files under its run folder and nothing else: model files there are recorded relative to it, so
/// a copied store (with or without a copy of the folder) names its own files, never the original's; files elsewhere
/// (a base model from `make setup`, a folder given to `srlm checkpoint add`) keep their full path and are never
/// deleted by `srlm gc`.
public enum RunFolder {
    public static func path(store: String, run: Int64) -> String {
        root(store: store) + "/" + String(run)
    }

    /// `<store folder>/srlm-runs/<store file name>`: every run folder of the store is inside it.
    public static func root(store: String) -> String {
        let file = URL(fileURLWithPath: store).standardizedFileURL
        return file.deletingLastPathComponent().appendingPathComponent("srlm-runs")
            .appendingPathComponent(file.lastPathComponent).path
    }

    /// The run folder root of the store `db` belongs to (nil for an in-memory database).
    public static func root(_ db: Database) throws -> String? {
        let file = try String.fetchOne(db, sql: "SELECT file FROM pragma_database_list WHERE name = 'main'") ?? ""
        return file.isEmpty ? nil : root(store: file)
    }

    /// How a model file's path is stored: relative to `root` when the file is inside it, else in full.
    public static func record(_ path: String, root: String?) -> String {
        guard let root else { return path }
        return relative(path, root: root) ?? URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// The full path of a recorded one: a relative path is under `root` (this store's), a full one is as recorded.
    public static func resolve(_ recorded: String, root: String?) -> String {
        guard !recorded.hasPrefix("/"), let root else { return recorded }
        return URL(fileURLWithPath: root + "/" + recorded).standardizedFileURL.path
    }

    /// Whether `path` is inside `root`, also when either is reached through a symbolic link (SQLite names the store
    /// by its resolved path, a command by the one it was given) and never by `..` out of it.
    public static func owns(_ path: String, root: String) -> Bool { relative(path, root: root) != nil }

    static func relative(_ path: String, root: String) -> String? {
        let plain = URL(fileURLWithPath: path).standardizedFileURL.path
        let plainRoot = URL(fileURLWithPath: root).standardizedFileURL.path
        if let inside = suffix(plain, after: plainRoot) { return inside }
        let resolvedRoot = URL(fileURLWithPath: plainRoot).resolvingSymlinksInPath().path
        return suffix(URL(fileURLWithPath: plain).resolvingSymlinksInPath().path, after: resolvedRoot)
    }

    private static func suffix(_ path: String, after root: String) -> String? {
        let prefix = root.hasSuffix("/") ? root : root + "/"
        guard path.hasPrefix(prefix), path.count > prefix.count else { return nil }
        return String(path.dropFirst(prefix.count))
    }
}
