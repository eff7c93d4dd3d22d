import Foundation
import SRLMStore

/// What an import fills: one dataset of the matching artifact kind.
public enum ImportTarget: String, CaseIterable, Sendable {
    case ift, ranked, prompts, pairs, eft, labeledPairs = "labeled-pairs"

    public var kind: ArtifactKind {
        switch self {
        case .labeledPairs: return .labeledPairs
        case .ift: return .ift
        case .ranked: return .ranked
        case .prompts: return .prompts
        case .pairs: return .pairs
        case .eft: return .eft
        }
    }
}

/// The input formats `srlm import` reads. Each reads some logical fields (`fieldNames`), which `--field` can
/// remap to other JSON paths:
/// - `prompt`: the prompt; a string (one user message) or a message list. trl reads it natively; for alpaca it
///   replaces instruction + input.
/// - `response`: the reply (trl: `completion`; alpaca: replaces `output`); a string or a message list.
/// - `chosen`, `rejected`: the preferred and the other reply (trl), or whole transcripts (hh-rlhf).
/// - `score_chosen`, `score_rejected`: optional numeric scores of a pair (trl).
/// - `messages`: a conversation, [{role, content}] (messages; default path `messages`) or [{from, value}]
///   (sharegpt; default path `conversations`).
/// - `instruction`, `input`, `output`: alpaca and alpaca-eval fields; for self-instruct `input`/`output` default to
///   `instances.0.input`/`instances.0.output`.
/// - `score`: the score of an eft example, when the file has one (else parsed from a final "Score: N" line).
/// - `response_a`, `response_b`, `label`: a human-labelled pair's two replies and the verdict (pairwise);
///   `question_id`, `model_a`, `model_b`: where the pair came from; mt-bench-human reads those three and
///   `winner`, `conversation_a`, `conversation_b` (each model's conversation, [{role, content}]).
/// Paths are dotted with numeric indexes: `conversation.0.text`.
public enum ImportFormat: String, CaseIterable, Sendable {
    case auto, oasst, alpaca, messages, sharegpt, selfInstruct = "self-instruct", alpacaEval = "alpaca-eval",
         lines, trl, hhRlhf = "hh-rlhf", pairwise, mtBenchHuman = "mt-bench-human"

    /// The targets this format can fill.
    public var targets: [ImportTarget] {
        switch self {
        case .auto: return ImportTarget.allCases
        case .oasst: return [.ift, .ranked, .prompts]
        case .alpaca, .messages, .sharegpt: return [.ift, .prompts, .eft]
        case .selfInstruct, .alpacaEval: return [.ift, .prompts]
        case .lines: return [.prompts]
        case .trl: return [.pairs, .ift, .eft, .prompts, .labeledPairs]
        case .hhRlhf: return [.pairs, .prompts, .labeledPairs]
        case .pairwise, .mtBenchHuman: return [.labeledPairs]
        }
    }

    /// The logical fields this format reads (the ones `--field` may map).
    public var fieldNames: [String] {
        switch self {
        case .auto: return ImportOptions.logicalFields
        case .oasst, .lines: return []
        case .alpaca: return ["instruction", "input", "output", "prompt", "response", "score"]
        case .alpacaEval: return ["instruction", "output", "prompt", "response"]
        case .messages, .sharegpt: return ["messages", "score"]
        case .selfInstruct: return ["instruction", "input", "output"]
        case .trl: return ["prompt", "response", "chosen", "rejected", "score_chosen", "score_rejected", "score"]
        case .hhRlhf: return ["chosen", "rejected"]
        case .pairwise: return ["prompt", "response_a", "response_b", "label", "question_id", "model_a", "model_b"]
        case .mtBenchHuman: return ["question_id", "model_a", "model_b", "winner", "conversation_a", "conversation_b"]
        }
    }
}

public struct ImportOptions: Sendable {
    public var target: ImportTarget
    public var path: String
    public var format: ImportFormat
    /// The dataset name; default: the target's name ("ift", "pairs", ...).
    public var name: String?
    public var experiment: String
    /// Logical field → JSON path (`--field prompt=instruction`) or template (`prompt={instruction}\n\n{input}`,
    /// `FieldTemplate`); see `ImportFormat` for the logical names and `ImportFields` for what each format reads.
    public var fields: [String: String]
    /// oasst: messages marked synthetic are left out unless this is set.
    public var includeSynthetic: Bool
    /// pairwise: JSON paths of the annotators' votes (`--votes annotator_1,annotator_2,annotator_3`); the label is
    /// their strict majority (tie without one) and the votes are kept. A path holding an array gives all its votes.
    public var votes: [String]
    /// Import the valid rows and record the refused ones (`import_rejection`) instead of stopping at the first.
    public var skipInvalid: Bool

    public static let logicalFields = ["prompt", "response", "chosen", "rejected", "messages", "score_chosen",
                                       "score_rejected", "instruction", "input", "output", "score",
                                       "response_a", "response_b", "label", "question_id", "model_a", "model_b",
                                       "winner", "conversation_a", "conversation_b"]

    public init(target: ImportTarget, path: String, format: ImportFormat = .auto, name: String? = nil,
                experiment: String = Experiment.defaultName, fields: [String: String] = [:],
                includeSynthetic: Bool = false, votes: [String] = [], skipInvalid: Bool = false) {
        self.target = target
        self.path = path
        self.format = format
        self.name = name
        self.experiment = experiment
        self.fields = fields
        self.includeSynthetic = includeSynthetic
        self.votes = votes
        self.skipInvalid = skipInvalid
    }

    public var datasetName: String { name ?? target.rawValue }
}

public struct ImportResult: Sendable {
    /// The new version; nil when the content equals the latest version (`unchangedRef`).
    public let version: DatasetVersion?
    public let unchangedRef: String?
    public let rows: Int
    /// The format read (what `auto` picked).
    public let format: ImportFormat
    /// Input rows deliberately left out, with why (e.g. MT-Bench judgments of a second turn); none for most formats.
    public var skipped: [String: Int] = [:]
    /// Rows refused under `--skip-invalid`, in file order (stored in `import_rejection` with the version).
    public var rejected: [ImportRejection] = []
    /// Top-level keys of the rows that the format does not read, with in how many rows each was set.
    public var unreadKeys: [String: Int] = [:]

    /// What the import left out, one line per reason, for stderr: skipped rows, refused rows by field and reason,
    /// and keys nothing read.
    public var leftOut: [String] {
        var lines = skipped.sorted { $0.key < $1.key }.map { "skipped \($0.value) \($0.key)" }
        if !rejected.isEmpty {
            lines.append("refused \(rejected.count) invalid row\(rejected.count == 1 ? "" : "s") "
                         + (version == nil ? "(not stored: nothing was written):" : "(kept in v_import_rejections):"))
            let reasons = Dictionary(grouping: rejected) { r in (r.field.map { "field '\($0)': " } ?? "") + r.reason }
            let commonest = reasons.sorted { ($1.value.count, $0.key) < ($0.value.count, $1.key) }
            for (reason, rows) in commonest.prefix(10) {
                lines.append("  \(rows.count) × \(reason) (first at line \(rows[0].line.map(String.init) ?? "?"))")
            }
            if commonest.count > 10 { lines.append("  … and \(commonest.count - 10) other reasons") }
        }
        if !unreadKeys.isEmpty {
            lines.append("ignored fields (not read by this format and target; map them with --field): "
                         + unreadKeys.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value) rows)" }.joined(separator: ", "))
        }
        return lines
    }
}

