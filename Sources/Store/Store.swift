import Foundation
import GRDB
import SQLiteAutoExtension
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
            throw SRLMError.noStore(path: path)
        }
        var config = Configuration()
        config.readonly = readOnly
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(30)
        config.label = "srlm"
        self.path = path
        self.readOnly = readOnly
        if exists && !readOnly { Store.giveGRDBAWriteAheadLog(path) }
        self.pool = try DatabasePool(path: path, configuration: config)
        let migrator = try Store.migrator()
        let upToDate = try pool.read { try migrator.hasCompletedMigrations($0) }
        if !readOnly {
            // Only a store that needs migrating is written to on open: a failed command leaves the file as it was.
            if !upToDate { try migrator.migrate(pool) }
        } else if !upToDate {
            throw SRLMError.notFound("store at \(path) needs migrating: run `srlm init --store \(path)` once (it upgrades the store in place; read-only commands never write)")
        }
    }

    private let closed = CloseFlag()

    /// Folds what this process committed from the write-ahead log into the store file, without waiting for other
    /// readers. GRDB closes its writer before its readers, so the writer's close-time checkpoint never runs; without
    /// this the next srlm command, even one that fails and writes nothing, would be the one to change the file.
    private func checkpointOwnWrites() {
        if !readOnly { _ = try? pool.writeWithoutTransaction { try $0.checkpoint(.passive) } }
    }

    /// Checkpoints and closes every connection; the store cannot be used afterwards.
    public func close() throws {
        guard closed.close() else { return }
        checkpointOwnWrites()
        try pool.close()
    }

    deinit {
        if closed.close() { checkpointOwnWrites() }
    }

    /// GRDB writes a throwaway table into a store whose write-ahead log is missing or empty (its issue 102), which
    /// changes the file's bytes on every open. A log holding only an invalid 32-byte header counts as empty to
    /// SQLite (recovery finds no frames) yet satisfies GRDB; it is made only where no log exists or one is empty, so
    /// no frames of another connection are touched.
    static func giveGRDBAWriteAheadLog(_ path: String) {
        let wal = path + "-wal"
        let fd = open(wal, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        defer { try? handle.close() }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size == 0 else { return }
        let header = [UInt8](repeating: 0, count: 32)
        _ = header.withUnsafeBytes { pwrite(fd, $0.baseAddress, 32, 0) }
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

/// Set once: whether a store was closed (a closed pool must not be touched again).
private final class CloseFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var isClosed = false

    /// True the first time only.
    func close() -> Bool { lock.withLock { defer { isClosed = true }; return !isClosed } }
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

