import Foundation
import GRDB
import SQLiteExtension

/// The one SQLite file that holds every artifact of every experiment. WAL mode; schema from `schema/*.sql`.
public final class Store: Sendable {
    public let path: String
    public let pool: DatabasePool
    public let readOnly: Bool

    /// Default location: `--store`, else `$SRLM_STORE`, else ./srlm.sqlite.
    public static func defaultPath(_ explicit: String? = nil) -> String {
        explicit ?? ProcessInfo.processInfo.environment["SRLM_STORE"] ?? "srlm.sqlite"
    }

    /// Opens (and with `create`, creates and migrates) a store.
    public init(path: String, create: Bool = false, readOnly: Bool = false) throws {
        Store.registerFunctions
        let exists = FileManager.default.fileExists(atPath: path)
        if !exists && !create {
            throw SRLMError.notFound("no store at \(path): run `srlm init` (or pass --store / set SRLM_STORE)")
        }
        var config = Configuration()
        config.readonly = readOnly
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(30)
        config.label = "srlm"
        self.path = path
        self.readOnly = readOnly
        self.pool = try DatabasePool(path: path, configuration: config)
        if !readOnly {
            try Store.migrator().migrate(pool)
        } else {
            let pending = try pool.read { try Store.migrator().hasCompletedMigrations($0) }
            if !pending { throw SRLMError.notFound("store at \(path) needs migrating: open it once with srlm (not read-only)") }
        }
    }

    /// srlm_text()/srlm_blob() on every connection, from the same C code as the loadable extension.
    private static let registerFunctions: Void = { _ = srlm_sqlite_register_auto_extension() }()

    static func migrator() throws -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for file in try Schema.migrationFiles() {
            let sql = try String(contentsOf: file, encoding: .utf8)
            migrator.registerMigration(file.deletingPathExtension().lastPathComponent) { db in
                try db.execute(sql: sql)
            }
        }
        return migrator
    }

    public func read<T>(_ body: (Database) throws -> T) throws -> T { try pool.read(body) }
    public func write<T>(_ body: (Database) throws -> T) throws -> T { try pool.write(body) }
}

/// The SQL files shipped with srlm: numbered migrations in `schema/`, named queries in `queries/`.
public enum Schema {
    /// The folder holding the shipped SQL: `$SRLM_SQL_DIR` if set, else srlm's resource bundle.
    static func resourceDirectory() throws -> URL {
        if let env = ProcessInfo.processInfo.environment["SRLM_SQL_DIR"] { return URL(fileURLWithPath: env) }
        guard let url = Bundle.module.resourceURL else {
            throw SRLMError.notFound("srlm's SQL resources (schema/, queries/) are missing")
        }
        return url
    }

    private static func sqlFiles() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: resourceDirectory(), includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "sql" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    private static func isMigration(_ url: URL) -> Bool {
        let name = url.lastPathComponent
        return name.count > 4 && name.prefix(3).allSatisfy(\.isNumber) && name.dropFirst(3).first == "_"
    }

    public static func migrationFiles() throws -> [URL] { try sqlFiles().filter(isMigration) }

    /// Named queries: `srlm query NAME` runs queries/NAME.sql.
    public static func queryNames() throws -> [String] {
        try sqlFiles().filter { !isMigration($0) }.map { $0.deletingPathExtension().lastPathComponent }
    }

    public static func query(named name: String) throws -> String {
        let known = try queryNames()
        guard known.contains(name) else {
            throw SRLMError.notFound("no query named '\(name)'; known: \(known.joined(separator: ", "))")
        }
        return try String(contentsOf: resourceDirectory().appendingPathComponent(name + ".sql"), encoding: .utf8)
    }
}
