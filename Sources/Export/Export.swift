import Foundation
import GRDB
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
    /// ultrafeedback_binarized carry `score_chosen`/`score_rejected`), so trl → import keeps a scored version intact.
    var scoreColumns: [String] {
        switch self {
        case .trl, .trlStandard: return ["chosen_score", "rejected_score"]
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

    /// One pass over the version in `ord` order. A cursor keeps memory constant; srlm_blob caches decoded packs
    /// per connection, and rows written together share packs, so ord order reads each pack about once.
    static func write(_ db: Database, version: DatasetVersion, format: ExportFormat,
                      to sink: inout some ExportSink, split: String? = nil) throws -> Int {
        let columns = format.columns
        let selected = columns.map { "\($0), srlm_blob(\($0)), srlm_blob_key(\($0))" }.joined(separator: ", ")
        let scores = format.scoreColumns
        let sql = "SELECT ord, \(([selected] + scores).joined(separator: ", ")) FROM \(version.kind.table) "
            + "WHERE version_id = ?\(split == nil ? "" : " AND split = ?") ORDER BY ord"
        let arguments: StatementArguments = split.map { [version.id, $0] } ?? [version.id]
        let cursor = try Row.fetchCursor(db, sql: sql, arguments: arguments)
        let builder = LineBuilder(format: format, ref: version.ref)
        var fields = [Data](repeating: Data(), count: columns.count)
        var written = 0
        while let row = try cursor.next() {
            let ord: Int = row[0]
            for (i, name) in columns.enumerated() {
                guard let id = row[1 + 3 * i] as Int64?, let text = row[2 + 3 * i] as Data?, let key = row[3 + 3 * i] as Data? else {
                    throw SRLMError.invalid("row \(ord) of \(version.ref): column \(name) holds no blob id")
                }
                try BlobReader.verify(text, key: key, id: id)
                fields[i] = text
            }
            let scoreValues = scores.indices.map { row[1 + 3 * columns.count + $0] as Double? }
            try sink.write(try builder.line(ord: ord, fields, scores: scoreValues))
            written += 1
        }
        let expected = try split.map {
            try Int.fetchOne(db, sql: "SELECT count(*) FROM \(version.kind.table) WHERE version_id = ? AND split = ?",
                             arguments: [version.id, $0]) ?? 0
        } ?? version.rowCount
        guard written == expected else {
            throw SRLMError.invalid("\(version.ref) records \(expected) rows\(split.map { " in split " + $0 } ?? "") but \(written) were found")
        }
        return written
    }
}
