import Foundation
import SRLMExport
import SRLMStore

/// An export as Parquet, written by pyarrow in the engines' venv (engines/to_parquet.py): Parquet readers (the
/// Hugging Face Hub, DuckDB, polars, Spark, Ray) then read srlm's files without a conversion of their own.
public enum ParquetWriter {
    public struct Written: Sendable, Decodable {
        public let rows: Int
        public let columns: [String]
        public let bytes: Int
    }

    /// One file to convert: a JSONL source, the Parquet target, the column types (nil: pyarrow infers them) and the
    /// file's key-value metadata.
    public struct Job: Sendable, Encodable {
        public let source: String
        public let target: String
        public let schema: [TableColumn]?
        public let metadata: [String: String]

        public init(source: String, target: String, schema: [TableColumn]?, metadata: [String: String]) {
            self.source = source
            self.target = target
            self.schema = schema
            self.metadata = metadata
        }
    }

    /// A version in `format`'s columns as the Parquet file `path`.
    public static func export(_ store: Store, version: DatasetVersion, format: ExportFormat, to path: String,
                              home: EngineHome) throws -> Written {
        try throughJSONL(path, home: home) { sink in
            _ = try Exporter.run(store, version: version, format: format, to: sink)
            return Job(source: sink.path, target: path, schema: nil,
                       metadata: try metadata(store, try store.read { try VersionLineage.of($0, version) }))
        }
    }

    /// A version as a table (every column and its lineage columns) in the Parquet file `path`.
    public static func exportTable(_ store: Store, version: DatasetVersion, to path: String, home: EngineHome) throws -> Written {
        try throughJSONL(path, home: home) { sink in
            let written = try TableExport.run(store, version: version, to: sink)
            return Job(source: sink.path, target: path, schema: written.columns, metadata: try metadata(store, written.lineage!))
        }
    }

    /// One of the store's tables (runs, checkpoints, the journal ...) in the Parquet file `path`.
    public static func exportTable(_ store: Store, table: StoreTable, experiment: String?, to path: String,
                                   home: EngineHome) throws -> Written {
        try throughJSONL(path, home: home) { sink in
            let written = try TableExport.run(store, table: table, experiment: experiment, to: sink)
            return Job(source: sink.path, target: path, schema: written.columns,
                       metadata: tableMetadata(store, table: table, experiment: experiment))
        }
    }

    /// The JSONL export goes to a temporary file beside `path` (`write` fills it and names the job), and pyarrow
    /// writes the Parquet file and renames it into place.
    static func throughJSONL(_ path: String, home: EngineHome, _ write: (FileSink) throws -> Job) throws -> Written {
        let jsonl = path + ".\(getpid()).jsonl"
        defer { try? FileManager.default.removeItem(atPath: jsonl) }
        return try convert([try write(FileSink(path: jsonl))], home: home)[0]
    }

    /// The key-value metadata of a version's file: where it came from, so that the file can be traced back without
    /// the store (`srlm.lineage` holds all of it as JSON).
    public static func metadata(_ store: Store, _ lineage: VersionLineage) throws -> [String: String] {
        var out = ["srlm.store": URL(fileURLWithPath: store.path).standardizedFileURL.path, "srlm.ref": lineage.ref,
                   "srlm.experiment": lineage.experiment, "srlm.kind": lineage.kind,
                   "srlm.content_hash": lineage.contentHash, "srlm.version": Runs.toolVersion,
                   "srlm.lineage": String(decoding: try CanonicalJSON.encode(lineage), as: UTF8.self)]
        if let command = lineage.command { out["srlm.command"] = command }
        return out
    }

    public static func tableMetadata(_ store: Store, table: StoreTable, experiment: String?) -> [String: String] {
        var out = ["srlm.store": URL(fileURLWithPath: store.path).standardizedFileURL.path, "srlm.table": table.rawValue,
                   "srlm.version": Runs.toolVersion]
        if let experiment { out["srlm.experiment"] = experiment }
        return out
    }

    /// Converts every job in one interpreter; each target is published whole or not at all.
    public static func convert(_ jobs: [Job], home: EngineHome) throws -> [Written] {
        guard !jobs.isEmpty else { return [] }
        try home.checkPython()
        let list = FileManager.default.temporaryDirectory.appendingPathComponent("srlm-parquet-jobs-\(getpid())-\(UUID().uuidString.prefix(8)).json")
        try JSONEncoder().encode(jobs).write(to: list)
        defer { try? FileManager.default.removeItem(at: list) }
        let (status, output, errors) = try home.runPython([home.script("to_parquet.py"), "--jobs", list.path])
        guard status == 0, let written = try? JSONDecoder().decode([Written].self, from: output), written.count == jobs.count else {
            let tail = String(decoding: errors.suffix(2000), as: UTF8.self)
            throw SRLMError.setup("writing \(jobs.count == 1 ? jobs[0].target : "\(jobs.count) Parquet files") with pyarrow failed (exit status \(status)): \(tail)")
        }
        return written
    }
}
