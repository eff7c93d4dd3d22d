import Foundation
import SRLMStore

/// `srlm export --format table`: a version's every column with texts decoded and its lineage columns, or one of the
/// store's other tables (runs, checkpoints, the journal ...), as JSON Lines with the keys in column order.
public enum TableExport {
    /// What was written, and what describes it (the lineage of a version; nil for a store table).
    public struct Written: Sendable {
        public let rows: Int
        public let columns: [TableColumn]
        public let lineage: VersionLineage?
    }

    /// Streams `version` as table rows to `output`. The sink is finished only when every row was written and the
    /// rows matched the version's content hash; on error it is abandoned.
    public static func run(_ store: Store, version: DatasetVersion, to output: some ExportSink) throws -> Written {
        let columns = VersionTable.columns(version.kind)
        var lines = LineWriter(sink: output, columns: columns)
        do {
            let lineage = try store.read { db in
                let lineage = try VersionLineage.of(db, version)
                try VersionTable.forEachRow(db, version, lineage: lineage) { try lines.append($0) }
                return lineage
            }
            try lines.finish()
            return Written(rows: lines.rows, columns: columns, lineage: lineage)
        } catch {
            lines.abandon()
            throw error
        }
    }

    /// Streams one of the store's tables, of one experiment or (nil) all, to `output`.
    public static func run(_ store: Store, table: StoreTable, experiment: String?, to output: some ExportSink) throws -> Written {
        var lines = LineWriter(sink: output, columns: table.columns)
        do {
            try store.read { db in
                if let experiment { try StoreTable.requireExperiment(db, experiment) }
                try table.forEachRow(db, experiment: experiment) { try lines.append($0) }
            }
            try lines.finish()
            return Written(rows: lines.rows, columns: table.columns, lineage: nil)
        } catch {
            lines.abandon()
            throw error
        }
    }

    /// One JSON object per row, keys in column order; a double that is not finite (SQLite has none) is null.
    static func appendLine(_ cells: [TableCell], columns: [TableColumn], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (i, (column, cell)) in zip(columns, cells).enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            CanonicalJSON.appendString(column.name, to: &out)
            out.append(UInt8(ascii: ":"))
            switch cell {
            case .null: out.append(contentsOf: "null".utf8)
            case .int(let v): DecimalDigits.append(v, to: &out)
            case .real(let v) where !v.isFinite: out.append(contentsOf: "null".utf8)
            case .real(let v) where column.type == .int64: DecimalDigits.append(Int64(v), to: &out)
            case .real(let v): out.append(contentsOf: "\(v)".utf8)
            case .text(let s): CanonicalJSON.appendString(s, to: &out)
            }
        }
        out.append(contentsOf: "}\n".utf8)
    }
}

/// Gathers lines and hands them to the sink in large writes.
struct LineWriter<Sink: ExportSink> {
    var sink: Sink
    let columns: [TableColumn]
    private var buffer: [UInt8] = []
    private(set) var rows = 0

    init(sink: Sink, columns: [TableColumn]) {
        self.sink = sink
        self.columns = columns
        buffer.reserveCapacity(exportBufferSize + exportBufferSize / 4)
    }

    mutating func append(_ cells: [TableCell]) throws {
        TableExport.appendLine(cells, columns: columns, to: &buffer)
        rows += 1
        if buffer.count >= exportBufferSize { try flush() }
    }

    mutating func finish() throws {
        try flush()
        try sink.finish()
    }

    mutating func abandon() { sink.abandon() }

    private mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try sink.write($0) }
        buffer.removeAll(keepingCapacity: true)
    }
}
