import Foundation
import GRDB

/// A row an import refused under `--skip-invalid`: where it was refused and why (`import_rejection`, migration 019).
public struct ImportRejection: Sendable, Equatable {
    public let file: String
    public let line: Int?
    public let field: String?
    public let reason: String
    /// The row as JSON; nil when the line was not JSON at all.
    public let row: String?

    public init(file: String, line: Int?, field: String?, reason: String, row: String?) {
        self.file = file
        self.line = line
        self.field = field
        self.reason = reason
        self.row = row
    }
}

public enum ImportRejections {
    /// Written with the import's version, in its transaction; the row's text goes to the packs like every text.
    public static func record(_ writer: VersionWriter, run: Int64, _ rejections: [ImportRejection]) throws {
        let insert = try writer.db.makeStatement(sql: """
            INSERT INTO import_rejection(run_id, file, line, field, reason, row) VALUES (?, ?, ?, ?, ?, ?)
            """)
        for r in rejections {
            try insert.execute(arguments: [run, r.file, r.line, r.field, r.reason, try r.row.map { try writer.blobs.put($0) }])
        }
    }

    /// The rejections of the import run `run`, in file order.
    public static func of(run: Int64, _ db: Database) throws -> [ImportRejection] {
        try Row.fetchAll(db, sql: """
            SELECT file, line, field, reason, srlm_text(row) AS row FROM import_rejection WHERE run_id = ? ORDER BY rowid
            """, arguments: [run]).map {
            ImportRejection(file: $0["file"], line: $0["line"], field: $0["field"], reason: $0["reason"], row: $0["row"])
        }
    }
}
