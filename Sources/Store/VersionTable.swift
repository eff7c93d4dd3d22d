import Foundation
import GRDB

/// One cell of an exported table: what a JSON line or a Parquet column can hold.
public enum TableCell: Hashable, Sendable {
    case null, int(Int64), real(Double), text(String)
}

/// A column of an exported table and its type, fixed per kind so that every version's file has the same schema
/// (a version whose column is all NULL must not become a column of type null beside another's strings).
public struct TableColumn: Hashable, Sendable, Codable {
    public enum Kind: String, Sendable, Codable { case int64, double, string }
    public let name: String
    public let type: Kind

    public init(_ name: String, _ type: Kind) {
        self.name = name
        self.type = type
    }
}

/// Where a version came from: what `srlm export` puts beside its rows (lineage columns, Parquet key-value metadata,
/// the manifest of `export --all`). Read from the version, the run that wrote it and the rounds that hold it.
public struct VersionLineage: Codable, Sendable, Hashable {
    public let experiment: String
    public let kind: String
    public let dataset: String
    public let version: Int
    public let ref: String
    public let contentHash: String
    public let rows: Int
    public let created: String
    public let parent: String?
    /// The first round of the version's experiment that holds it (`round_member`); nil outside rounds.
    public let round: Int?
    public let runID: Int64?
    public let stage: String?
    /// The model the writing run names (its config's `model`), else the one named by the run that made its input (pairs:
    /// the judge's); nil for imports. As `v_versions.model`.
    public let model: String?
    /// The srlm command line that started the run (its provenance's `invocation`).
    public let command: String?
    /// The srlm that wrote the run.
    public let toolVersion: String?
    /// The versions the run read.
    public let inputs: [String]

    enum CodingKeys: String, CodingKey {
        case experiment, kind, dataset, version, ref, rows, created, parent, round, stage, model, command, inputs
        case contentHash = "content_hash", runID = "run_id", toolVersion = "tool_version"
    }

    public static func of(_ db: Database, _ version: DatasetVersion) throws -> VersionLineage {
        // Round and model as the views define them (v_versions, migration 017), so an exported row and a SQL query agree.
        let placed = try Row.fetchOne(db, sql: "SELECT round, model FROM v_versions WHERE version_id = ?", arguments: [version.id])
        let round: Int? = placed?["round"], model: String? = placed?["model"]
        let run = try version.runID.flatMap {
            try Row.fetchOne(db, sql: """
                SELECT stage, tool_version,
                       json_extract(provenance, '$.invocation') AS command
                FROM run WHERE id = ?
                """, arguments: [$0])
        }
        let inputs = try version.runID.map {
            try String.fetchAll(db, sql: """
                SELECT d.name || '@' || v.version FROM run_input i JOIN dataset_version v ON v.id = i.version_id
                JOIN dataset d ON d.id = v.dataset_id WHERE i.run_id = ? ORDER BY v.id
                """, arguments: [$0])
        } ?? []
        let parent = try version.parentID.map { try DatasetVersion.byID(db, $0).ref }
        return VersionLineage(experiment: version.experiment, kind: version.kind.rawValue, dataset: version.name,
                              version: version.version, ref: version.ref, contentHash: version.contentHash,
                              rows: version.rowCount, created: version.created, parent: parent, round: round,
                              runID: version.runID, stage: run?["stage"], model: model, command: run?["command"],
                              toolVersion: run?["tool_version"], inputs: inputs)
    }
}

/// A version's rows as a table: every column of its kind with texts decoded, behind the lineage columns `ref`,
/// `ord`, `row_hash`, `round`, `model`, `run_id`. A text column NAME becomes NAME_text (a message list's last
/// content, as the views show it; a plain text whole) and NAME_json (the whole message list; NULL for plain texts).
public enum VersionTable {
    public static let lineageColumns = [TableColumn("ref", .string), TableColumn("ord", .int64), TableColumn("row_hash", .string),
                                        TableColumn("round", .int64), TableColumn("model", .string), TableColumn("run_id", .int64)]

    /// Blob columns that hold a plain text, not a message list.
    static let plainTexts: Set<String> = ["judgments.output", "judgments.template"]

    static func isPlainText(_ kind: ArtifactKind, _ column: Column) -> Bool { plainTexts.contains("\(kind.rawValue).\(column.name)") }

    /// The table's columns in order. A kind's own `model` column (candidates: the model that wrote the reply) is
    /// the row's producing model, so it takes the lineage column's place instead of a second `model`.
    public static func columns(_ kind: ArtifactKind) -> [TableColumn] {
        let own = kind.columns
        var out = lineageColumns.filter { column in column.name != "model" || !own.contains { $0.name == "model" } }
        for column in own {
            switch column.kind {
            case .blob:
                out.append(TableColumn("\(column.name)_text", .string))
                out.append(TableColumn("\(column.name)_json", .string))
            case .bytes, .text: out.append(TableColumn(column.name, .string))
            case .int: out.append(TableColumn(column.name, .int64))
            case .real: out.append(TableColumn(column.name, .double))
            }
        }
        return out
    }

    /// Calls `body` with each row's cells (in `columns(kind)` order), in ord order. Every text is checked against its
    /// stored key, and the rows' hashes must make the version's content hash: a row changed behind srlm's back fails
    /// (after `body` saw the rows before it: callers write to a sink they abandon on error).
    public static func forEachRow(_ db: Database, _ version: DatasetVersion, lineage: VersionLineage,
                                  _ body: ([TableCell]) throws -> Void) throws {
        let kind = version.kind
        let own = kind.columns
        let selected = own.map { $0.kind == .blob ? "\($0.name), srlm_blob(\($0.name)), srlm_blob_key(\($0.name))" : $0.name }
        let rows = try Row.fetchCursor(db, sql: "SELECT ord, \(selected.joined(separator: ", ")) FROM \(kind.table) WHERE version_id = ? ORDER BY ord",
                                       arguments: [version.id])
        let ownModel = own.contains { $0.name == "model" }
        var texts = TextCache()
        var hashes: [ContentHash] = []
        hashes.reserveCapacity(version.rowCount)
        var values: [Value] = []
        var cells: [TableCell] = []
        while let row = try rows.next() {
            let ord: Int64 = row[0]
            values.removeAll(keepingCapacity: true)
            cells.removeAll(keepingCapacity: true)
            cells.append(.text(version.ref))
            cells.append(.int(ord))
            cells.append(.null)  // row_hash, known once the row is read
            cells.append(lineage.round.map { .int(Int64($0)) } ?? .null)
            if !ownModel { cells.append(lineage.model.map(TableCell.text) ?? .null) }
            cells.append(lineage.runID.map(TableCell.int) ?? .null)
            var at = 1
            var blobHashes: [BlobID: ContentHash] = [:]
            for column in own {
                let stored = row[at] as DatabaseValue
                values.append(Value(stored: stored, in: column))
                switch column.kind {
                case .blob:
                    if case .int64(let id) = stored.storage {
                        let text = try texts.text(id, bytes: row[at + 1], key: row[at + 2], plain: isPlainText(kind, column), ref: version.ref, ord: ord)
                        blobHashes[id] = text.hash
                        cells.append(.text(text.text))
                        cells.append(text.json.map(TableCell.text) ?? .null)
                    } else {
                        cells.append(.null)
                        cells.append(.null)
                    }
                    at += 3
                default:  // a request hash (bytes) as hex
                    cells.append(cell(stored))
                    at += 1
                }
            }
            let hash = kind.rowHash(values) { blobHashes[$0]! }
            hashes.append(hash)
            cells[2] = .text(hash.hex)
            try body(cells)
        }
        guard hashes.count == version.rowCount else {
            throw SRLMError.corrupt("\(version.ref) records \(version.rowCount) rows but \(hashes.count) were found; run srlm fsck")
        }
        guard VersionWriter.contentHash(hashes) == version.contentHash else {
            throw SRLMError.corrupt("\(version.ref): its rows do not match its content hash (changed outside srlm?); run srlm fsck")
        }
    }

    /// The ord of the row whose hash is `rowHash` (hex, or a prefix of at least 8 digits), as an exported row's
    /// `row_hash` names it. Equal rows share a hash: the first is taken.
    public static func ord(_ store: Store, _ version: DatasetVersion, rowHash: String) throws -> Int {
        let wanted = rowHash.lowercased()
        guard wanted.count >= 8, wanted.count <= 64, wanted.allSatisfy(\.isHexDigit) else {
            throw SRLMError.invalid("'\(rowHash)' is not a row hash (8 to 64 hex digits, as an export's row_hash column holds)")
        }
        var found: Int?
        try store.read { db in
            try forEachRow(db, version, lineage: .of(db, version)) { cells in
                if found == nil, case .text(let hash) = cells[2], hash.hasPrefix(wanted), case .int(let ord) = cells[1] { found = Int(ord) }
            }
        }
        guard let found else { throw SRLMError.notFound("\(version.ref) has no row with hash \(rowHash)") }
        return found
    }

    static func cell(_ value: DatabaseValue) -> TableCell {
        switch value.storage {
        case .null: return .null
        case .int64(let v): return .int(v)
        case .double(let v): return .real(v)
        case .string(let s): return .text(s)
        case .blob(let d): return .text(d.hexString)
        }
    }
}

/// Decoded texts of the blobs a version uses, by id: prompts repeat across a version's rows (every candidate and
/// judge sample of a prompt), and each is checked and decoded once.
struct TextCache {
    struct Text { let text: String; let json: String?; let hash: ContentHash }
    private var known: [BlobID: Text] = [:]

    mutating func text(_ id: BlobID, bytes: Data?, key: Data?, plain: Bool, ref: String, ord: Int64) throws -> Text {
        if let text = known[id] { return text }
        guard let bytes, let key else {
            throw SRLMError.invalid("row \(ord) of \(ref) names blob \(id), which is not stored")
        }
        let hash = ContentHash(of: bytes)
        guard hash.hasKey(key) else {
            throw SRLMError.corrupt("blob \(id) is corrupt: its bytes do not match its SHA-256 key (row \(ord) of \(ref); run srlm fsck)")
        }
        let raw = String(decoding: bytes, as: UTF8.self)
        let messages = plain ? nil : try? CanonicalJSON.decodeMessages(bytes)
        let text = Text(text: messages?.lastContent ?? raw, json: plain ? nil : raw, hash: hash)
        // Bounded: a large version's replies are each used once or twice; its prompts stay near each other.
        if known.count >= 100_000 { known.removeAll(keepingCapacity: true) }
        known[id] = text
        return text
    }
}
