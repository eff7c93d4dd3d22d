import Foundation
import SRLMStore

/// An export's JSONL as Parquet, written by pyarrow in the engines' venv (engines/to_parquet.py): Parquet readers
/// (the Hugging Face Hub, DuckDB, Spark, Ray) then read srlm's training files without a conversion of their own.
public enum ParquetWriter {
    public struct Written: Sendable {
        public let rows: Int
        public let columns: [String]
        public let bytes: Int
    }

    public static func convert(jsonl: String, to parquet: String, home: EngineHome) throws -> Written {
        try home.checkPython()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: home.python)
        process.arguments = [home.script("to_parquet.py"), jsonl, parquet]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        struct Report: Decodable { let rows: Int; let columns: [String]; let bytes: Int }
        guard process.terminationStatus == 0,
              let report = try? JSONDecoder().decode(Report.self, from: output) else {
            let tail = String(decoding: errors.suffix(2000), as: UTF8.self)
            throw SRLMError.setup("writing \(parquet) with pyarrow failed (exit status \(process.terminationStatus)): \(tail)")
        }
        return Written(rows: report.rows, columns: report.columns, bytes: report.bytes)
    }
}
