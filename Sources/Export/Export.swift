import Foundation
import GRDB
import GRDBSQLite
import SRLMStore

/// Training-file formats srlm writes. Each takes one family of kinds: preference formats take pairs, the others
/// take prompt + response rows (ift, eft, candidates).
public enum ExportFormat: String, CaseIterable, Sendable {
    /// TRL conversational preference: {"chosen":[msgs],"prompt":[msgs],"rejected":[msgs]}.
    case trl
    /// TRL standard preference: {"chosen":str,"prompt":str,"rejected":str}; single-turn rows only.
    case trlStandard = "trl-standard"
    /// TRL conversational prompt/completion (loss on the completion only): {"completion":[msgs],"prompt":[msgs]}.
    case sft
    /// One conversation per line: {"messages":[...prompt, ...response]}.
    case messages
    /// OpenAI chat fine-tuning: {"messages":[...]}, checked for roles OpenAI accepts and a final assistant turn.
    case openaiChat = "openai-chat"
    /// OpenAI preference fine-tuning (DPO):
    /// {"input":{"messages":[...]},"non_preferred_output":[msg],"preferred_output":[msg]}.
    case openaiPreference = "openai-preference"

    /// The kinds whose rows this format can express.
    public var acceptedKinds: [ArtifactKind] {
        switch self {
        case .trl, .trlStandard, .openaiPreference: return [.pairs]
        case .sft, .messages, .openaiChat: return [.ift, .eft, .candidates]
        }
    }

    /// The blob columns a row contributes, in the order the line builder takes them.
    var columns: [String] {
        switch self {
        case .trl, .trlStandard, .openaiPreference: return ["prompt", "chosen", "rejected"]
        case .sft, .messages, .openaiChat: return ["prompt", "response"]
        }
    }

    /// Pair scores, written by the TRL formats when a row has them (as TRL datasets such as
    /// ultrafeedback_binarized carry `score_chosen`/`score_rejected`), so trl → import keeps a scored version intact;
    /// then the per-pair training weight and soft label, which engines/train.py reads.
    var scoreColumns: [String] {
        switch self {
        case .trl, .trlStandard: return ["chosen_score", "rejected_score", "weight", "confidence"]
        default: return []
        }
    }

    /// Refuses a version whose kind this format cannot express.
    public func check(_ version: DatasetVersion) throws {
        guard acceptedKinds.contains(version.kind) else {
            let names = acceptedKinds.map(\.rawValue)
            let list = names.count == 1 ? names[0] : names.dropLast().joined(separator: ", ") + " or " + names.last!
            throw SRLMError.invalid("dataset '\(version.ref)' holds \(version.kind.rawValue); format \(rawValue) needs \(list)")
        }
    }
}

public enum Exporter {
    /// Streams rows of a version in `ord` order as JSONL to `output`; returns rows written. The sink is finished
    /// (a file is published) only when every row was written; on error it is abandoned.
    /// `split` keeps only the rows of that split (eft's train/eval), so that training never sees held-out rows.
    public static func run(_ store: Store, version: DatasetVersion, format: ExportFormat,
                           to output: some ExportSink, split: String? = nil) throws -> Int {
        try format.check(version)
        if split != nil && version.kind != .eft {
            throw SRLMError.invalid("dataset '\(version.ref)' holds \(version.kind.rawValue), which has no split column")
        }
        var sink = output
        do {
            let written = try store.read { db in try write(db, version: version, format: format, to: &sink, split: split) }
            try sink.finish()
            return written
        } catch {
            sink.abandon()
            throw error
        }
    }

    /// One pass over the version in `ord` order. srlm_blob caches decoded packs per connection, and rows written
    /// together share packs, so ord order reads each pack about once. Every row (also those another split leaves
    /// out) is hashed, and the version's content hash must come out the same: a row changed behind srlm's back fails
    /// the export instead of reaching a trainer. This thread steps SQLite and builds the lines; the texts are copied
    /// out of SQLite's buffers once, beside the lines, so that the hashing and the writes can run on a second core
    /// (`ExportPipeline`).
    static func write<Sink: ExportSink>(_ db: Database, version: DatasetVersion, format: ExportFormat,
                                        to sink: inout Sink, split: String? = nil) throws -> Int {
        let kind = version.kind
        let all = kind.columns
        let selected = all.map { $0.kind == .blob ? "\($0.name), srlm_blob(\($0.name)), srlm_blob_key(\($0.name))" : $0.name }
        let statement = try db.makeStatement(sql: "SELECT ord, \(selected.joined(separator: ", ")) FROM \(kind.table) WHERE version_id = ? ORDER BY ord")
        try statement.setArguments([version.id])
        let sqlite = statement.sqliteStatement
        // Where each column's value (and a blob's bytes and key) sits in a row; by column index, not name.
        var position: [Int32] = []
        var at: Int32 = 1
        for column in all { position.append(at); at += column.kind == .blob ? 3 : 1 }
        func index(_ name: String) -> Int { all.firstIndex { $0.name == name }! }
        let fieldColumns = format.columns.map(index), scorePositions = format.scoreColumns.map { position[index($0)] }
        let splitColumn = split == nil ? nil : index("split")
        let builder = LineBuilder(format: format, ref: version.ref)
        let pipeline = ExportPipeline(ExportChecker(kind: kind, ref: version.ref, sink: sink, rows: version.rowCount),
                                      threads: Parallelism.threads)
        var written = 0
        var texts = [Range<Int>](repeating: 0..<0, count: all.count)
        var fields: [UnsafeRawBufferPointer] = []
        var chunk = pipeline.take()
        /// Reads the next row into `chunk` (its texts, values and, unless another split leaves it out, its line).
        func readRow() throws -> Bool {
            let rc = sqlite3_step(sqlite)
            if rc == SQLITE_DONE { return false }
            guard rc == SQLITE_ROW else {
                throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: db.lastErrorMessage, sql: statement.sql)
            }
            let ord = Int(sqlite3_column_int64(sqlite, 0))
            chunk.ords.append(ord)
            let first = chunk.values.count
            for (c, column) in all.enumerated() {
                let i = position[c]
                guard column.kind == .blob else {
                    chunk.values.append(Value(stored: DatabaseValue(sqliteStatement: sqlite, index: i), in: column))
                    continue
                }
                guard sqlite3_column_type(sqlite, i) != SQLITE_NULL else { chunk.values.append(.null); continue }
                let id = sqlite3_column_int64(sqlite, i)
                guard sqlite3_column_type(sqlite, i + 1) == SQLITE_BLOB, sqlite3_column_type(sqlite, i + 2) == SQLITE_BLOB else {
                    throw SRLMError.invalid("row \(ord) of \(version.ref): column \(column.name) names blob \(id), which is not stored")
                }
                let text = UnsafeRawBufferPointer(start: sqlite3_column_blob(sqlite, i + 1), count: Int(sqlite3_column_bytes(sqlite, i + 1)))
                let key = ContentHash.key(stored: UnsafeRawBufferPointer(start: sqlite3_column_blob(sqlite, i + 2),
                                                                         count: Int(sqlite3_column_bytes(sqlite, i + 2))))
                let start = chunk.texts.count
                chunk.texts.append(contentsOf: text)
                chunk.blobs.append((key, start, text.count))
                texts[c] = start..<chunk.texts.count
                chunk.values.append(.blob(id))
            }
            if let split, let splitColumn, chunk.values[first + splitColumn] != .text(split) { return true }
            for c in fieldColumns where chunk.values[first + c] == .null {
                throw SRLMError.invalid("row \(ord) of \(version.ref): column \(all[c].name) holds no blob id")
            }
            let scores = scorePositions.map { sqlite3_column_type(sqlite, $0) == SQLITE_NULL ? nil : sqlite3_column_double(sqlite, $0) }
            try chunk.texts.withUnsafeBytes { bytes in
                fields.removeAll(keepingCapacity: true)
                for c in fieldColumns { fields.append(UnsafeRawBufferPointer(rebasing: bytes[texts[c]])) }
                try builder.append(ord: ord, fields, scores: scores, to: &chunk.lines)
            }
            written += 1
            return true
        }
        // A row that fails here is taken out of its chunk, and the rows before it are still checked: a corrupt text
        // earlier in the same chunk is the error then, as it would be on one core.
        var producerError: Error?
        while true {
            let mark = chunk.mark
            do {
                guard try readRow() else { break }
            } catch {
                chunk.truncate(to: mark)
                producerError = error
                break
            }
            if chunk.isFull {
                guard pipeline.submit(chunk) else { break }
                chunk = pipeline.take()
            }
        }
        if !pipeline.stopped { _ = pipeline.submit(chunk) }
        let checker = pipeline.finish()
        sink = checker.sink
        if let error = pipeline.failure ?? producerError { throw error }
        guard checker.rowHashes.count == version.rowCount else {
            throw SRLMError.corrupt("\(version.ref) records \(version.rowCount) rows but \(checker.rowHashes.count) were found; run srlm fsck")
        }
        guard VersionWriter.contentHash(checker.rowHashes) == version.contentHash else {
            throw SRLMError.corrupt("\(version.ref): its rows do not match its content hash (changed outside srlm?); run srlm fsck")
        }
        return written
    }
}
