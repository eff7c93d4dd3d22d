import Foundation
import GRDB

/// A typed column value of a dataset row. Text columns hold blob ids in the table; callers pass `.text` to store
/// new text, `.blob` to reuse a stored one.
public enum Value: Hashable, Sendable {
    case null
    case int(Int64)
    case real(Double)
    case text(String)
    case blob(BlobID)
    /// Raw bytes kept in the row itself (a request hash).
    case bytes(Data)

    public var int: Int64? { if case .int(let v) = self { return v }; return nil }
    public var real: Double? {
        switch self {
        case .real(let v): return v
        case .int(let v): return Double(v)
        default: return nil
        }
    }
    /// A column's value as its table stores it (blob columns hold ids).
    public init(stored dbValue: DatabaseValue, in column: Column) {
        switch dbValue.storage {
        case .null: self = .null
        case .int64(let v):
            switch column.kind {
            case .blob: self = .blob(v)
            case .real: self = .real(Double(v))
            default: self = .int(v)
            }
        case .double(let v): self = .real(v)
        case .string(let s): self = .text(s)
        case .blob(let d): self = .bytes(d)
        }
    }

    public var blobID: BlobID? { if case .blob(let id) = self { return id }; return nil }
}

public struct Column: Sendable {
    /// blob: a stored text (the row holds its id); bytes: a short binary value held in the row.
    public enum Kind: Sendable { case blob, bytes, int, real, text }
    public let name: String
    public let kind: Kind
    /// Part of the row's meaning (and so of its hash); provenance columns are not.
    public let meaning: Bool
    /// A column added after rows were written: it counts in the row's hash only when set, so earlier versions keep
    /// their content hashes.
    public let hashedWhenSet: Bool

    init(_ name: String, _ kind: Kind, meaning: Bool = true, hashedWhenSet: Bool = false) {
        self.name = name
        self.kind = kind
        self.meaning = meaning
        self.hashedWhenSet = hashedWhenSet
    }
}

/// The artifact kinds of the loop: each is a table of dataset rows with declared columns, a row key for diffs,
/// and the columns whose values make up a row's meaning.
public enum ArtifactKind: String, CaseIterable, Sendable, Codable {
    case ift, eft, ranked, prompts, candidates, judgments, pairs
    /// Human verdicts between two replies (a, b or tie), possibly the majority of several annotators' votes.
    case labeledPairs = "labeled_pairs"

    public var table: String {
        switch self {
        case .ift: return "ift_example"
        case .eft: return "eft_example"
        case .ranked: return "ranked_reply"
        case .prompts: return "prompt"
        case .candidates: return "candidate"
        case .judgments: return "judgment"
        case .pairs: return "pair"
        case .labeledPairs: return "labeled_pair"
        }
    }

    /// The readable view over the table.
    public var view: String {
        switch self {
        case .ift: return "v_ift"
        case .eft: return "v_eft"
        case .ranked: return "v_ranked"
        case .prompts: return "v_prompts"
        case .candidates: return "v_candidates"
        case .judgments: return "v_judgments"
        case .pairs: return "v_pairs"
        case .labeledPairs: return "v_labeled_pairs"
        }
    }

    /// Built once: every row written, exported or diffed asks for them (the switch below allocated the list anew
    /// each time).
    public var columns: [Column] { Self.columnTable[self]! }

    private static let columnTable = Dictionary(uniqueKeysWithValues: allCases.map { ($0, $0.declaredColumns) })

    private var declaredColumns: [Column] {
        switch self {
        case .ift:
            return [Column("prompt", .blob), Column("response", .blob)]
        case .eft:
            return [Column("prompt", .blob), Column("response", .blob), Column("score", .real),
                    Column("target_origin", .text), Column("split", .text),
                    Column("question", .blob, meaning: false), Column("reply", .blob, meaning: false),
                    Column("human_rank", .int, meaning: false)]
        case .ranked:
            return [Column("prompt", .blob), Column("reply", .blob), Column("human_rank", .int)]
        case .prompts:
            return [Column("prompt", .blob), Column("origin", .text, meaning: false),
                    Column("source_run_id", .int, meaning: false), Column("category", .text, hashedWhenSet: true),
                    Column("parent", .blob, meaning: false), Column("evolution", .text, meaning: false),
                    Column("difficulty", .real, hashedWhenSet: true), Column("difficulty_sd", .real, hashedWhenSet: true)]
        case .candidates:
            return [Column("prompt", .blob), Column("response", .blob), Column("model", .text),
                    Column("sample_index", .int), Column("temperature", .real, meaning: false),
                    Column("top_p", .real, meaning: false), Column("max_tokens", .int, meaning: false),
                    Column("seed", .int, meaning: false), Column("completion_tokens", .int, meaning: false),
                    Column("finish_reason", .text, meaning: false), Column("call_hash", .bytes, meaning: false)]
        case .judgments:
            return [Column("prompt", .blob), Column("response", .blob), Column("judge_model", .text),
                    Column("sample_index", .int), Column("output", .blob), Column("score", .real),
                    Column("parse_error", .text), Column("mode", .text),
                    Column("template", .blob, meaning: false), Column("call_hash", .bytes, meaning: false)]
        case .pairs:
            return [Column("prompt", .blob), Column("chosen", .blob), Column("rejected", .blob),
                    Column("chosen_score", .real), Column("rejected_score", .real),
                    Column("weight", .real, hashedWhenSet: true), Column("confidence", .real, hashedWhenSet: true)]
        case .labeledPairs:
            // The votes are part of what people said; where the row came from is not.
            return [Column("prompt", .blob), Column("response_a", .blob), Column("response_b", .blob),
                    Column("label", .text), Column("votes", .text), Column("question_id", .text, meaning: false),
                    Column("model_a", .text, meaning: false), Column("model_b", .text, meaning: false)]
        }
    }

    /// A row given in `columns` order, with the trailing columns counted in the hash only when set (added by later
    /// migrations, e.g. a pair's weight) filled with NULL when left off.
    func completed(_ values: [Value]) -> [Value] {
        let columns = self.columns
        precondition(values.count <= columns.count && columns[values.count...].allSatisfy(\.hashedWhenSet),
                     "row has \(values.count) values, \(rawValue) has \(columns.count) columns")
        return values + Array(repeating: Value.null, count: columns.count - values.count)
    }

    /// Columns that identify "the same row" across versions, for diffs.
    public var keyColumns: [String] {
        switch self {
        case .ift, .eft, .prompts, .pairs: return ["prompt"]
        case .ranked: return ["prompt", "reply"]
        case .candidates: return ["prompt", "model", "sample_index"]
        case .judgments: return ["prompt", "response", "judge_model", "sample_index"]
        case .labeledPairs: return ["prompt", "response_a", "response_b"]
        }
    }

    public func columnIndex(_ name: String) -> Int? { columns.firstIndex { $0.name == name } }

    /// Hash of a row's meaning: the kind, then each meaning column's name and canonical value; a text by its SHA-256,
    /// so the hash is the same in every store.
    public func rowHash(_ values: [Value], blobHash: (BlobID) throws -> ContentHash) rethrows -> ContentHash {
        // One buffer, one SHA-256 call: imports and exports hash every row, and many small updates cost more than
        // the hashing.
        var bytes: [UInt8] = Array(rawValue.utf8)
        bytes.reserveCapacity(256)
        for (column, value) in zip(columns, values) where column.meaning && !(column.hashedWhenSet && value == .null) {
            bytes.append(0)
            bytes.append(contentsOf: column.name.utf8)
            bytes.append(UInt8(ascii: "="))
            switch value {
            case .null: bytes.append(UInt8(ascii: "N"))
            case .int(let v): bytes.append(UInt8(ascii: "I")); DecimalDigits.append(v, to: &bytes)
            case .real(let v): bytes.append(contentsOf: ("R" + Self.canonical(v)).utf8)
            case .text(let s): bytes.append(contentsOf: "T\(s.utf8.count):".utf8); bytes.append(contentsOf: s.utf8)
            case .blob(let id): bytes.append(UInt8(ascii: "B")); try blobHash(id).words.append(to: &bytes)
            case .bytes(let d): bytes.append(contentsOf: "X\(d.count):".utf8); bytes.append(contentsOf: d)
            }
        }
        return ContentHash(of: bytes)
    }

    /// Shortest round-trip decimal, with -0 folded into 0 and integral values without a fraction.
    static func canonical(_ v: Double) -> String {
        if v == 0 { return "0" }
        if v.rounded() == v && abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }
}
