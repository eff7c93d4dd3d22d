import Foundation
import GRDB

/// Where a row of the loop came from and where it went: the prompt and the run that generated or imported it, the
/// candidates behind a reply and the sampling that made them, every judge sample with its template and the checkpoint
/// that judged, and the training runs that read the version with the checkpoints they made. The links are the ones
/// the stages record: `dataset_version.run_id`, `run_input`, `round_member`, `prompt.source_run_id`, and
/// `checkpoint.train_run_id`; texts are returned as stored (callers escape them for their output).
public enum Lineage {
    /// A row of a version: `NAME@N` and its `ord`.
    public struct RowRef: Codable, Hashable, Sendable {
        public let version: String
        public let ord: Int
    }

    /// A run as lineage shows it: its stage, status and recorded config (secrets were redacted when it was stored).
    public struct Run: Codable, Equatable, Sendable {
        public let id: Int64
        public let stage: String
        public let status: String
        public let seed: Int64?
        public let started: String
        public let config: JSONValue
        /// The versions the run wrote, as NAME@N.
        public let outputs: [String]
    }

    public struct CheckpointLink: Codable, Equatable, Sendable {
        public let id: Int64
        public let name: String
        public let uri: String
        public let base: String?
        public let trainRunID: Int64?
        public let dataVersion: String?
        /// Why this checkpoint is the one: "its training run", "model key" or "model name" (of a judge run's config).
        public let matchedBy: String
    }

    /// A version and the run that made it.
    public struct Step: Codable, Equatable, Sendable {
        public let version: String
        public let run: Run?
    }

    /// The judgments a row was scored with, and the checkpoint the judge run's config names.
    public struct Judging: Codable, Equatable, Sendable {
        public let step: Step
        public let checkpoint: CheckpointLink?
    }

    public struct PromptOrigin: Codable, Equatable, Sendable {
        public let text: String
        /// The prompts row that holds it (the round's, else the first in the experiment), when there is one.
        public let row: RowRef?
        /// seed, generated or imported.
        public let origin: String?
        /// The gen-prompts run that generated it, else the run (an import) that made its prompts version.
        public let run: Run?
    }

    public struct Candidate: Codable, Equatable, Sendable {
        public let row: RowRef
        public let model: String
        public let sampleIndex: Int
        public let temperature: Double?
        public let topP: Double?
        public let maxTokens: Int?
        public let seed: Int64?
        public let completionTokens: Int?
        public let finishReason: String?
        /// Hex `model_call.request_hash`: the journal entry that holds the raw call.
        public let callHash: String?
    }

    public struct TemplateRef: Codable, Equatable, Sendable {
        public let name: String
        public let version: Int
    }

    public struct JudgeSample: Codable, Equatable, Sendable {
        public let row: RowRef
        public let sampleIndex: Int
        public let judgeModel: String
        public let output: String
        public let score: Double?
        public let parseError: String?
        public let mode: String
        public let template: TemplateRef?
        public let callHash: String?
    }

    /// A reply with the candidate rows that produced it and every judge sample it got.
    public struct Reply: Codable, Equatable, Sendable {
        public let text: String
        /// The pair's score for it (the mean of its parsed samples), on pairs rows.
        public let score: Double?
        public let candidates: [Candidate]
        public let judgments: [JudgeSample]
    }

    /// A run that read the version, with the checkpoint it produced (training runs).
    public struct Use: Codable, Equatable, Sendable {
        public let run: Run
        public let checkpoint: CheckpointLink?
    }

    /// One row's whole lineage. Pairs rows fill `chosen` and `rejected`; candidates and judgments rows fill `reply`.
    public struct Blame: Codable, Equatable, Sendable {
        public let row: RowRef
        public let kind: ArtifactKind
        public let madeBy: Run?
        public let prompt: PromptOrigin
        public let candidates: Step?
        public let judging: Judging?
        public let chosen: Reply?
        public let rejected: Reply?
        public let reply: Reply?
        public let usedBy: [Use]
    }

    /// One side of a pair: the reply, the pair's score for it and every judge sample behind the score.
    public struct Side: Codable, Equatable, Sendable {
        public let text: String
        public let score: Double?
        public let samples: [JudgeSample]
    }

    public struct PairView: Codable, Equatable, Sendable {
        public let row: RowRef
        public let prompt: String
        public let chosen: Side
        public let rejected: Side
    }

    /// Rows of a pairs version with their judge samples, read from `judgments` (nil: none found).
    public struct SideBySide: Codable, Equatable, Sendable {
        public let pairs: String
        public let judgments: String?
        public let rows: [PairView]
    }

    // MARK: - Entry points

    /// `limit` pairs rows from `ord >= offset`, each side with every judge sample of the judgments the pairs were made
    /// from: the version the pairs run read, else the judgments of the pairs' round.
    public static func sideBySide(_ store: Store, _ version: DatasetVersion, limit: Int, offset: Int) throws -> SideBySide {
        guard version.kind == .pairs else { throw SRLMError.wrongKind(ref: version.ref, holds: version.kind.rawValue, expected: "pairs") }
        return try store.read { db in
            let judgments = try upstream(db, of: version, kind: .judgments)
            let rows = try Row.fetchAll(db, sql: """
                SELECT ord, prompt, chosen, rejected, chosen_score, rejected_score FROM pair
                WHERE version_id = ? AND ord >= ? ORDER BY ord LIMIT ?
                """, arguments: [version.id, offset, limit])
            return SideBySide(pairs: version.ref, judgments: judgments?.ref, rows: try rows.map { row in
                let prompt: BlobID = row["prompt"], chosen: BlobID = row["chosen"], rejected: BlobID = row["rejected"]
                func side(_ reply: BlobID, _ score: Double?) throws -> Side {
                    Side(text: try lastContent(db, reply), score: score,
                         samples: try judgments.map { try judgeSamples(db, $0, prompt: prompt, response: reply) } ?? [])
                }
                return PairView(row: RowRef(version: version.ref, ord: row["ord"]), prompt: try lastContent(db, prompt),
                                chosen: try side(chosen, row["chosen_score"]), rejected: try side(rejected, row["rejected_score"]))
            })
        }
    }

    /// The lineage of one row of a pairs, candidates, judgments or prompts version. `row` is the row's ord, or (for
    /// kinds keyed by their prompt: pairs, prompts) the prompt's text.
    public static func blame(_ store: Store, _ version: DatasetVersion, row: String) throws -> Blame {
        try store.read { db in
            let ord = try resolveRow(db, version, row)
            let ref = RowRef(version: version.ref, ord: ord)
            let madeBy = try run(db, version.runID)
            let usedBy = try uses(db, of: version)
            switch version.kind {
            case .pairs:
                let pair = try fetchRow(db, version, ord, columns: "prompt, chosen, rejected, chosen_score, rejected_score")
                let prompt: BlobID = pair["prompt"]
                let judgments = try upstream(db, of: version, kind: .judgments)
                let candidates = try judgments.flatMap { try upstream(db, of: $0, kind: .candidates) }
                let prompts = try candidates.flatMap { try upstream(db, of: $0, kind: .prompts) }
                func reply(_ column: String, _ score: String) throws -> Reply {
                    try Self.reply(db, prompt: prompt, response: pair[column], score: pair[score], candidates: candidates, judgments: judgments)
                }
                return Blame(row: ref, kind: version.kind, madeBy: madeBy,
                             prompt: try origin(db, prompt, in: prompts, experimentOf: version), candidates: try step(db, candidates),
                             judging: try judging(db, judgments, experiment: version.experiment),
                             chosen: try reply("chosen", "chosen_score"), rejected: try reply("rejected", "rejected_score"),
                             reply: nil, usedBy: usedBy)
            case .candidates, .judgments:
                let item = try fetchRow(db, version, ord, columns: "prompt, response")
                let prompt: BlobID = item["prompt"]
                let candidates = try version.kind == .candidates ? version : upstream(db, of: version, kind: .candidates)
                let judgments = try version.kind == .judgments ? version : downstream(db, of: version, kind: .judgments)
                let prompts = try candidates.flatMap { try upstream(db, of: $0, kind: .prompts) }
                return Blame(row: ref, kind: version.kind, madeBy: madeBy,
                             prompt: try origin(db, prompt, in: prompts, experimentOf: version), candidates: try step(db, candidates),
                             judging: try judging(db, judgments, experiment: version.experiment), chosen: nil, rejected: nil,
                             reply: try reply(db, prompt: prompt, response: item["response"], score: nil,
                                              candidates: candidates, judgments: judgments),
                             usedBy: usedBy)
            case .prompts:
                let prompt: BlobID = try fetchRow(db, version, ord, columns: "prompt")["prompt"]
                return Blame(row: ref, kind: version.kind, madeBy: madeBy,
                             prompt: try origin(db, prompt, in: version, experimentOf: version), candidates: nil, judging: nil,
                             chosen: nil, rejected: nil, reply: nil, usedBy: usedBy)
            case .ift, .eft, .ranked, .labeledPairs:
                throw SRLMError.wrongKind(ref: version.ref, holds: version.kind.rawValue, expected: "prompts, candidates, judgments or pairs")
            }
        }
    }

    // MARK: - Rows

    /// The ord a row argument names: a number is the ord; other text, for kinds keyed by their prompt, the prompt's
    /// text (compared as a bound value, never as SQL).
    static func resolveRow(_ db: Database, _ version: DatasetVersion, _ row: String) throws -> Int {
        if let ord = Int(row) {
            guard ord >= 0, ord < version.rowCount else {
                throw SRLMError.notFound("\(version.ref) has no row \(ord)"
                                         + (version.rowCount == 0 ? " (it has no rows)" : " (rows 0 to \(version.rowCount - 1))"))
            }
            return ord
        }
        guard version.kind.keyColumns == ["prompt"] else {
            throw SRLMError.invalid("\(version.ref): a \(version.kind.rawValue) row is named by its ord (a number), not '\(row)'")
        }
        guard let ord = try Int.fetchOne(db, sql: """
            SELECT ord FROM \(version.kind.table) WHERE version_id = ? AND json_extract(srlm_text(prompt), '$[#-1].content') = ?
            ORDER BY ord LIMIT 1
            """, arguments: [version.id, row]) else {
            throw SRLMError.notFound("\(version.ref) has no row whose prompt is '\(row)'")
        }
        return ord
    }

    static func fetchRow(_ db: Database, _ version: DatasetVersion, _ ord: Int, columns: String) throws -> Row {
        guard let row = try Row.fetchOne(db, sql: "SELECT \(columns) FROM \(version.kind.table) WHERE version_id = ? AND ord = ?",
                                         arguments: [version.id, ord]) else {
            throw SRLMError.notFound("\(version.ref) has no row \(ord)")
        }
        return row
    }

    static func lastContent(_ db: Database, _ id: BlobID) throws -> String {
        try StageRows.messages(db, id).lastContent
    }

    static func reply(_ db: Database, prompt: BlobID, response: BlobID, score: Double?, candidates: DatasetVersion?,
                      judgments: DatasetVersion?) throws -> Reply {
        Reply(text: try lastContent(db, response), score: score,
              candidates: try candidates.map { try candidateRows(db, $0, prompt: prompt, response: response) } ?? [],
              judgments: try judgments.map { try judgeSamples(db, $0, prompt: prompt, response: response) } ?? [])
    }

    /// The candidate rows of `version` that answered `prompt` with `response`.
    static func candidateRows(_ db: Database, _ version: DatasetVersion, prompt: BlobID, response: BlobID) throws -> [Candidate] {
        try Row.fetchAll(db, sql: """
            SELECT ord, model, sample_index, temperature, top_p, max_tokens, seed, completion_tokens, finish_reason, call_hash
            FROM candidate WHERE version_id = ? AND prompt = ? AND response = ? ORDER BY ord
            """, arguments: [version.id, prompt, response]).map { row in
            Candidate(row: RowRef(version: version.ref, ord: row["ord"]), model: row["model"], sampleIndex: row["sample_index"],
                      temperature: row["temperature"], topP: row["top_p"], maxTokens: row["max_tokens"], seed: row["seed"],
                      completionTokens: row["completion_tokens"], finishReason: row["finish_reason"],
                      callHash: (row["call_hash"] as Data?)?.hexString)
        }
    }

    /// Every judge sample of `version` for (`prompt`, `response`), in sample order, with its template's name and version.
    static func judgeSamples(_ db: Database, _ version: DatasetVersion, prompt: BlobID, response: BlobID) throws -> [JudgeSample] {
        try Row.fetchAll(db, sql: """
            SELECT j.ord, j.sample_index, j.judge_model, j.output, j.score, j.parse_error, j.mode, j.call_hash,
                   (SELECT t.name FROM template t WHERE t.body = j.template ORDER BY t.name, t.version LIMIT 1) AS template_name,
                   (SELECT t.version FROM template t WHERE t.body = j.template ORDER BY t.name, t.version LIMIT 1) AS template_version
            FROM judgment j WHERE j.version_id = ? AND j.prompt = ? AND j.response = ? ORDER BY j.sample_index, j.ord
            """, arguments: [version.id, prompt, response]).map { row in
            let templateName: String? = row["template_name"], templateVersion: Int? = row["template_version"]
            return JudgeSample(row: RowRef(version: version.ref, ord: row["ord"]), sampleIndex: row["sample_index"],
                               judgeModel: row["judge_model"], output: try BlobReader.text(db, row["output"]), score: row["score"],
                               parseError: row["parse_error"], mode: row["mode"],
                               template: templateName.flatMap { name in templateVersion.map { TemplateRef(name: name, version: $0) } },
                               callHash: (row["call_hash"] as Data?)?.hexString)
        }
    }

    /// Where a prompt came from: its row in `prompts` (the version upstream of the row), else the first prompts row in
    /// the experiment that holds it; the gen-prompts run named by the row, else the run that made its version.
    static func origin(_ db: Database, _ prompt: BlobID, in prompts: DatasetVersion?, experimentOf version: DatasetVersion) throws -> PromptOrigin {
        let text = try lastContent(db, prompt)
        var found: Row?
        if let prompts {
            found = try Row.fetchOne(db, sql: """
                SELECT version_id, ord, origin, source_run_id FROM prompt WHERE version_id = ? AND prompt = ? ORDER BY ord LIMIT 1
                """, arguments: [prompts.id, prompt])
        }
        if found == nil {
            found = try Row.fetchOne(db, sql: """
                SELECT p.version_id, p.ord, p.origin, p.source_run_id FROM prompt p
                JOIN dataset_version v ON v.id = p.version_id JOIN dataset d ON d.id = v.dataset_id
                JOIN experiment e ON e.id = d.experiment_id
                WHERE e.name = ? AND p.prompt = ? ORDER BY p.version_id, p.ord LIMIT 1
                """, arguments: [version.experiment, prompt])
        }
        guard let found else { return PromptOrigin(text: text, row: nil, origin: nil, run: nil) }
        let holder = try DatasetVersion.byID(db, found["version_id"])
        let sourceRun: Int64? = found["source_run_id"]
        return PromptOrigin(text: text, row: RowRef(version: holder.ref, ord: found["ord"]), origin: found["origin"],
                            run: try run(db, sourceRun ?? holder.runID))
    }

    // MARK: - Versions and runs

    /// The version of `kind` that `version` was made from: an input of the run that made it (through derived copies of
    /// the same kind), else the version the same round holds in that role.
    static func upstream(_ db: Database, of version: DatasetVersion, kind: ArtifactKind, depth: Int = 0) throws -> DatasetVersion? {
        if let runID = version.runID {
            let inputs = try Int64.fetchAll(db, sql: "SELECT version_id FROM run_input WHERE run_id = ? ORDER BY version_id DESC",
                                            arguments: [runID]).map { try DatasetVersion.byID(db, $0) }
            if let direct = inputs.first(where: { $0.kind == kind }) { return direct }
            // A derived version (curation) read a version of its own kind: that one knows where the rows came from.
            if depth < 16, let source = inputs.first(where: { $0.kind == version.kind }),
               let found = try upstream(db, of: source, kind: kind, depth: depth + 1) { return found }
        }
        return try roundSibling(db, of: version, kind: kind)
    }

    /// The version of `kind` made from `version`: the output of a run that read it, else the round's.
    static func downstream(_ db: Database, of version: DatasetVersion, kind: ArtifactKind) throws -> DatasetVersion? {
        if let id = try Int64.fetchOne(db, sql: """
            SELECT v.id FROM run_input i JOIN dataset_version v ON v.run_id = i.run_id JOIN dataset d ON d.id = v.dataset_id
            WHERE i.version_id = ? AND d.kind = ? ORDER BY v.id DESC LIMIT 1
            """, arguments: [version.id, kind.rawValue]) { return try DatasetVersion.byID(db, id) }
        return try roundSibling(db, of: version, kind: kind)
    }

    /// The version of `kind` held by the latest round that holds `version`, in the role named like the kind.
    static func roundSibling(_ db: Database, of version: DatasetVersion, kind: ArtifactKind) throws -> DatasetVersion? {
        guard let role = RoundRole(rawValue: kind.rawValue),
              let id = try Int64.fetchOne(db, sql: """
                SELECT other.version_id FROM round_member mine JOIN round_member other ON other.round_id = mine.round_id
                WHERE mine.version_id = ? AND other.role = ? AND other.version_id IS NOT NULL ORDER BY mine.round_id DESC LIMIT 1
                """, arguments: [version.id, role.rawValue]) else { return nil }
        let sibling = try DatasetVersion.byID(db, id)
        return sibling.kind == kind ? sibling : nil
    }

    static func run(_ db: Database, _ id: Int64?) throws -> Run? {
        guard let id, let row = try Row.fetchOne(db, sql: "SELECT id, stage, status, seed, started, config FROM run WHERE id = ?",
                                                 arguments: [id]) else { return nil }
        let outputs = try String.fetchAll(db, sql: """
            SELECT d.name || '@' || v.version FROM dataset_version v JOIN dataset d ON d.id = v.dataset_id WHERE v.run_id = ? ORDER BY v.id
            """, arguments: [id])
        let configText: String = row["config"]
        let config = JSONValue(parsing: configText)
        return Run(id: id, stage: row["stage"], status: row["status"], seed: row["seed"], started: row["started"],
                   config: config, outputs: outputs)
    }

    static func step(_ db: Database, _ version: DatasetVersion?) throws -> Step? {
        try version.map { Step(version: $0.ref, run: try run(db, $0.runID)) }
    }

    static func judging(_ db: Database, _ judgments: DatasetVersion?, experiment: String) throws -> Judging? {
        guard let step = try step(db, judgments) else { return nil }
        return Judging(step: step, checkpoint: try step.run.flatMap { try judgeCheckpoint(db, config: $0.config, experiment: experiment) })
    }

    /// The checkpoint a judge run's config names: by its weights (`modelKey`: a GGUF's "sha256:…", or the checkpoint's
    /// weights key), else by its label (`model`: the checkpoint name).
    static func judgeCheckpoint(_ db: Database, config: JSONValue, experiment: String) throws -> CheckpointLink? {
        let checkpoints = try Checkpoints.all(db, experiment: experiment)
        if let key = config["modelKey"]?.string, !key.isEmpty {
            let sha = key.hasPrefix("sha256:") ? String(key.dropFirst("sha256:".count)) : key
            if let found = checkpoints.last(where: { $0.weightsKey == key || $0.files.contains { $0.sha256 == sha } }) {
                return link(found, matchedBy: "model key")
            }
        }
        if let name = config["model"]?.string, let found = checkpoints.first(where: { $0.name == name }) {
            return link(found, matchedBy: "model name")
        }
        return nil
    }

    static func link(_ checkpoint: Checkpoint, matchedBy: String) -> CheckpointLink {
        CheckpointLink(id: checkpoint.id, name: checkpoint.name, uri: checkpoint.uri, base: checkpoint.base,
                       trainRunID: checkpoint.trainRunID, dataVersion: checkpoint.dataVersion, matchedBy: matchedBy)
    }

    /// Runs that read `version` (`run_input`), each with the checkpoint it trained, if any.
    static func uses(_ db: Database, of version: DatasetVersion) throws -> [Use] {
        try Int64.fetchAll(db, sql: "SELECT run_id FROM run_input WHERE version_id = ? ORDER BY run_id", arguments: [version.id])
            .compactMap { id in
                guard let reader = try run(db, id) else { return nil }
                return Use(run: reader, checkpoint: try Checkpoints.made(byRun: id, db).map { link($0, matchedBy: "its training run") })
            }
    }
}

/// Any JSON value, as a run's config is stored: decoded to show it and to read the fields lineage follows.
public enum JSONValue: Codable, Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int64.self) { self = .int(value) }
        else if let value = try? container.decode(Double.self) { self = .double(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// A stored JSON text as a value; text that does not parse stays a string.
    public init(parsing text: String) {
        self = (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .string(text)
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let fields) = self { return fields[key] }
        return nil
    }

    public var string: String? { if case .string(let value) = self { return value }; return nil }

    /// Compact JSON text with sorted keys.
    public var text: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? ""
    }
}
