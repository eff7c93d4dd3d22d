import Foundation
import SRLMExport
import SRLMStore

/// `srlm export --all DIR`: the whole store (or one experiment) as a Hive-partitioned Parquet folder that DuckDB,
/// polars, pandas and Hugging Face `datasets` read without srlm —
/// DIR/kind=K/experiment=E/dataset=NAME/version=N/part-0.parquet for each version (the partition keys are not
/// columns of the files), DIR/table=T/experiment=E/part-0.parquet for the store's other tables — and
/// DIR/manifest.json, which lists every file with its content hash. A second run writes only what the manifest
/// does not hold with the same content hash.
public enum ParquetFolder {
    public struct Manifest: Codable, Sendable {
        public var format = 1
        public var srlmVersion = Runs.toolVersion
        public var store: String
        public var versions: [VersionEntry] = []
        public var tables: [TableEntry] = []

        enum CodingKeys: String, CodingKey {
            case format, store, versions, tables
            case srlmVersion = "srlm_version"
        }
    }

    public struct VersionEntry: Codable, Sendable {
        public let experiment, kind, ref: String
        public let contentHash: String
        public let rows: Int
        public let file: String
        public let srlmVersion: String
        public let lineage: VersionLineage

        enum CodingKeys: String, CodingKey {
            case experiment, kind, ref, rows, file, lineage
            case contentHash = "content_hash", srlmVersion = "srlm_version"
        }
    }

    /// A store table's file; `contentHash` is the SHA-256 of its JSON Lines, so an unchanged table is not rewritten.
    public struct TableEntry: Codable, Sendable {
        public let table, experiment: String
        public let contentHash: String
        public let rows: Int
        public let file: String
        public let srlmVersion: String

        enum CodingKeys: String, CodingKey {
            case table, experiment, rows, file
            case contentHash = "content_hash", srlmVersion = "srlm_version"
        }
    }

    public struct Summary: Sendable {
        public var versionsWritten = 0, versionsSkipped = 0, tablesWritten = 0, tablesSkipped = 0, rowsWritten = 0
    }

    public static let manifestName = "manifest.json"

    /// The file of a version, relative to the folder.
    public static func file(_ version: DatasetVersion) -> String {
        "kind=\(version.kind.rawValue)/experiment=\(version.experiment)/dataset=\(version.name)/version=\(version.version)/part-0.parquet"
    }

    public static func file(_ table: StoreTable, experiment: String) -> String {
        "table=\(table.rawValue)/experiment=\(experiment)/part-0.parquet"
    }

    /// Writes what `directory` lacks. Each Parquet file is renamed into place whole, and the manifest is replaced
    /// last, so an interrupted run leaves the manifest of the run before it (and files it does not list, which the
    /// next run writes again). A version is skipped when the manifest lists its file with its content hash (versions
    /// are immutable); a table when its rows' JSON Lines hash the same as the manifest says.
    public static func export(_ store: Store, to directory: String, experiment: String?, home: EngineHome) throws -> Summary {
        try home.checkPython()
        let root = URL(fileURLWithPath: directory)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let manifestURL = root.appendingPathComponent(manifestName)
        var manifest = Manifest(store: URL(fileURLWithPath: store.path).standardizedFileURL.path)
        if FileManager.default.fileExists(atPath: manifestURL.path) {
            do { manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: manifestURL)) } catch {
                throw SRLMError.invalid("\(manifestURL.path) is not a manifest srlm wrote (\(error)); export to an empty folder")
            }
        }
        let staging = root.appendingPathComponent(".srlm-staging-\(getpid())")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: staging) }
        func present(_ file: String) -> Bool { FileManager.default.fileExists(atPath: root.appendingPathComponent(file).path) }

        var summary = Summary()
        var jobs: [ParquetWriter.Job] = []
        var newVersions: [VersionEntry] = [], newTables: [TableEntry] = []
        let (versions, tables) = try store.read { db -> ([DatasetVersion], [(StoreTable, String)]) in
            if let experiment { try StoreTable.requireExperiment(db, experiment) }
            let tables = try StoreTable.allCases.flatMap { table in
                try table.experiments(db).filter { experiment == nil || $0 == experiment }.map { (table, $0) }
            }
            return (try DatasetVersion.all(db, experiment: experiment), tables)
        }
        for version in versions {
            let file = file(version)
            if manifest.versions.contains(where: { $0.file == file && $0.contentHash == version.contentHash }) && present(file) {
                summary.versionsSkipped += 1
                continue
            }
            let source = staging.appendingPathComponent("\(jobs.count).jsonl").path
            let written = try TableExport.run(store, version: version, to: FileSink(path: source))
            let lineage = written.lineage!
            jobs.append(ParquetWriter.Job(source: source, target: root.appendingPathComponent(file).path,
                                          schema: written.columns, metadata: try ParquetWriter.metadata(store, lineage)))
            newVersions.append(VersionEntry(experiment: version.experiment, kind: version.kind.rawValue, ref: version.ref,
                                            contentHash: version.contentHash, rows: written.rows, file: file,
                                            srlmVersion: Runs.toolVersion, lineage: lineage))
            summary.rowsWritten += written.rows
        }
        for (table, name) in tables {
            let file = file(table, experiment: name)
            let source = staging.appendingPathComponent("\(jobs.count).jsonl").path
            let written = try TableExport.run(store, table: table, experiment: name, to: FileSink(path: source))
            let hash = ContentHash(of: try Data(contentsOf: URL(fileURLWithPath: source), options: .alwaysMapped)).hex
            if manifest.tables.contains(where: { $0.file == file && $0.contentHash == hash }) && present(file) {
                summary.tablesSkipped += 1
                continue
            }
            var metadata = ParquetWriter.tableMetadata(store, table: table, experiment: name)
            metadata["srlm.content_hash"] = hash
            jobs.append(ParquetWriter.Job(source: source, target: root.appendingPathComponent(file).path,
                                          schema: written.columns, metadata: metadata))
            newTables.append(TableEntry(table: table.rawValue, experiment: name, contentHash: hash, rows: written.rows,
                                        file: file, srlmVersion: Runs.toolVersion))
            summary.rowsWritten += written.rows
        }
        _ = try ParquetWriter.convert(jobs, home: home)
        summary.versionsWritten = newVersions.count
        summary.tablesWritten = newTables.count
        for entry in newVersions {
            manifest.versions.removeAll { $0.file == entry.file }
            manifest.versions.append(entry)
        }
        for entry in newTables {
            manifest.tables.removeAll { $0.file == entry.file }
            manifest.tables.append(entry)
        }
        manifest.versions.sort { $0.file < $1.file }
        manifest.tables.sort { $0.file < $1.file }
        manifest.srlmVersion = Runs.toolVersion
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var sink = FileSink(path: manifestURL.path)
        try sink.write(try encoder.encode(manifest) + Data("\n".utf8))
        try sink.finish()
        return summary
    }
}
