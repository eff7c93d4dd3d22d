import Foundation
import SRLMExport
import SRLMStore

/// An export as Parquet, written by pyarrow in the engines' venv (engines/to_parquet.py): Parquet readers (the
/// Hugging Face Hub, DuckDB, Spark, Ray) then read srlm's training files without a conversion of their own.
public enum ParquetWriter {
    public struct Written: Sendable {
        public let rows: Int
        public let columns: [String]
        public let bytes: Int
    }

    /// A version in `format`'s columns as the Parquet file `path`: the JSONL export goes to a temporary file beside
    /// it, and pyarrow writes the Parquet file and renames it into place.
    public static func export(_ store: Store, version: DatasetVersion, format: ExportFormat, to path: String,
                              home: EngineHome) throws -> Written {
        let jsonl = path + ".\(getpid()).jsonl"
        defer { try? FileManager.default.removeItem(atPath: jsonl) }
        _ = try Exporter.run(store, version: version, format: format, to: FileSink(path: jsonl))
        return try convert(jsonl: jsonl, to: path, home: home)
    }

    public static func convert(jsonl: String, to parquet: String, home: EngineHome) throws -> Written {
        try home.checkPython()
        let (status, output, errors) = try home.runPython([home.script("to_parquet.py"), jsonl, parquet])
        struct Report: Decodable { let rows: Int; let columns: [String]; let bytes: Int }
        guard status == 0, let report = try? JSONDecoder().decode(Report.self, from: output) else {
            let tail = String(decoding: errors.suffix(2000), as: UTF8.self)
            throw SRLMError.setup("writing \(parquet) with pyarrow failed (exit status \(status)): \(tail)")
        }
        return Written(rows: report.rows, columns: report.columns, bytes: report.bytes)
    }
}
