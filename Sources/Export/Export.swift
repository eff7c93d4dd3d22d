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
    /// out) is hashed as it streams, and the version's content hash must come out the same: a row changed behind
    /// srlm's back fails the export instead of reaching a trainer. The loop reads SQLite's own buffers (each text is
    /// hashed and spliced where SQLite holds it, valid until the next step), not per-row copies: it runs once per
    /// row and an export is bound by it.
    static func write(_ db: Database, version: DatasetVersion, format: ExportFormat,
                      to sink: inout some ExportSink, split: String? = nil) throws -> Int {
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
        var rowHashes: [ContentHash] = []
        rowHashes.reserveCapacity(version.rowCount)
        var written = 0
        var line: [UInt8] = []
        var texts = [UnsafeRawBufferPointer](repeating: UnsafeRawBufferPointer(start: nil, count: 0), count: all.count)
        var hashes: [(id: BlobID, hash: ContentHash)] = []
        var values: [Value] = []
        var fields: [UnsafeRawBufferPointer] = []
        while true {
            let rc = sqlite3_step(sqlite)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else {
                throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: db.lastErrorMessage, sql: statement.sql)
            }
            let ord = Int(sqlite3_column_int64(sqlite, 0))
            hashes.removeAll(keepingCapacity: true)
            values.removeAll(keepingCapacity: true)
            for (c, column) in all.enumerated() {
                let i = position[c]
                guard column.kind == .blob else {
                    values.append(Value(stored: DatabaseValue(sqliteStatement: sqlite, index: i), in: column))
                    continue
                }
                guard sqlite3_column_type(sqlite, i) != SQLITE_NULL else { values.append(.null); continue }
                let id = sqlite3_column_int64(sqlite, i)
                guard sqlite3_column_type(sqlite, i + 1) == SQLITE_BLOB, sqlite3_column_type(sqlite, i + 2) == SQLITE_BLOB else {
                    throw SRLMError.invalid("row \(ord) of \(version.ref): column \(column.name) names blob \(id), which is not stored")
                }
                let text = UnsafeRawBufferPointer(start: sqlite3_column_blob(sqlite, i + 1), count: Int(sqlite3_column_bytes(sqlite, i + 1)))
                let key = UnsafeRawBufferPointer(start: sqlite3_column_blob(sqlite, i + 2), count: Int(sqlite3_column_bytes(sqlite, i + 2)))
                let hash = ContentHash(of: text)
                guard hash.hasKey(key) else {
                    throw SRLMError.corrupt("blob \(id) is corrupt: its bytes do not match its SHA-256 key (row \(ord) of \(version.ref); run srlm fsck)")
                }
                hashes.append((id, hash))
                texts[c] = text
                values.append(.blob(id))
            }
            rowHashes.append(kind.rowHash(values) { id in hashes.first { $0.id == id }!.hash })
            if let split, let splitColumn, values[splitColumn] != .text(split) { continue }
            fields.removeAll(keepingCapacity: true)
            for c in fieldColumns {
                guard values[c] != .null else {
                    throw SRLMError.invalid("row \(ord) of \(version.ref): column \(all[c].name) holds no blob id")
                }
                fields.append(texts[c])
            }
            let scores = scorePositions.map { sqlite3_column_type(sqlite, $0) == SQLITE_NULL ? nil : sqlite3_column_double(sqlite, $0) }
            line.removeAll(keepingCapacity: true)
            try builder.append(ord: ord, fields, scores: scores, to: &line)
            try sink.write(Data(line))
            written += 1
        }
        guard rowHashes.count == version.rowCount else {
            throw SRLMError.corrupt("\(version.ref) records \(version.rowCount) rows but \(rowHashes.count) were found; run srlm fsck")
        }
        guard VersionWriter.contentHash(rowHashes) == version.contentHash else {
            throw SRLMError.corrupt("\(version.ref): its rows do not match its content hash (changed outside srlm?); run srlm fsck")
        }
        return written
    }
}
