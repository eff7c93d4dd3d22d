import Foundation
import GRDB

/// The read side the stages use: a version's rows as typed records, in row order, with their texts where a stage
/// needs them. The SQL lives here, beside the schema it reads.
public enum StageRows {
    public struct Candidate: Sendable {
        public let prompt: BlobID
        public let response: BlobID
        public let question: Messages
        public let answer: String
    }

    public struct Judgment: Sendable {
        public let prompt: BlobID
        public let response: BlobID
        public let sampleIndex: Int
        public let score: Double?
        /// Who judged (`judge_model`): a judgments version may hold several judges' rows.
        public var judge = ""
    }

    public struct RankedReply: Sendable {
        public let prompt: BlobID
        public let reply: BlobID
        public let rank: Int
        public let question: Messages
        public let answer: String
    }

    public struct Pair: Sendable {
        public let prompt: BlobID
        public let chosen: BlobID
        public let rejected: BlobID
        public let chosenScore: Double?
        public let rejectedScore: Double?
    }

    /// A human-labelled pair: the question, the replies shown as A and B, and the human verdict ("a", "b", "tie").
    public struct LabeledPair: Sendable {
        public let prompt: BlobID
        public let responseA: BlobID
        public let responseB: BlobID
        public let label: String
        public let question: Messages
        public let answerA: String
        public let answerB: String
    }

    public struct JudgeSample: Sendable {
        public let output: String
        public let score: Double?
    }

    public static func messages(_ db: Database, _ id: BlobID) throws -> Messages {
        try CanonicalJSON.decodeMessages(try BlobReader.data(db, id))
    }

    public struct PromptRow: Sendable {
        public let prompt: BlobID
        public let messages: Messages
        public let origin: String
        public let sourceRun: Int64?
        public let category: String?
        public let parent: BlobID?
        public let evolution: String?

        /// The row as stored, with these columns replaced (a new version of the prompts that adds a measurement).
        public func values(_ replacing: [String: Value]) -> [String: Value] {
            var row: [String: Value] = ["prompt": .blob(prompt), "origin": .text(origin), "source_run_id": sourceRun.map { .int($0) } ?? .null,
                                        "category": category.map { .text($0) } ?? .null, "parent": parent.map { .blob($0) } ?? .null,
                                        "evolution": evolution.map { .text($0) } ?? .null,
                                        "difficulty": difficulty.map { .real($0) } ?? .null, "difficulty_sd": difficultySD.map { .real($0) } ?? .null]
            row.merge(replacing) { $1 }
            return row
        }
        public let difficulty: Double?
        public let difficultySD: Double?
    }

    /// A prompts version's rows, in row order, with each prompt's messages.
    public static func promptRows(_ store: Store, _ version: DatasetVersion) throws -> [PromptRow] {
        guard version.kind == .prompts else { throw SRLMError.wrongKind(ref: version.ref, holds: version.kind.rawValue, expected: "prompts") }
        return try store.read { db in
            try Row.fetchAll(db, sql: """
                SELECT prompt, origin, source_run_id, category, parent, evolution, difficulty, difficulty_sd FROM prompt
                WHERE version_id = ? ORDER BY ord
                """, arguments: [version.id])
                .map { PromptRow(prompt: $0[0], messages: try messages(db, $0[0]), origin: $0[1], sourceRun: $0[2], category: $0[3],
                                 parent: $0[4], evolution: $0[5], difficulty: $0[6], difficultySD: $0[7]) }
        }
    }

    /// Each prompt's category in the experiment (its newest categorized prompts row), by prompt blob.
    public static func categories(_ store: Store, experiment: String) throws -> [BlobID: String] {
        try store.read { db in
            var out: [BlobID: String] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT p.prompt, p.category FROM prompt p JOIN dataset_version v ON v.id = p.version_id JOIN dataset d ON d.id = v.dataset_id
                JOIN experiment e ON e.id = d.experiment_id AND e.name = ? WHERE p.category IS NOT NULL ORDER BY v.id DESC
                """, arguments: [experiment]) where out[row[0]] == nil {
                out[row[0]] = row[1]
            }
            return out
        }
    }

    /// The `prompt` column of a prompts version, with each prompt's messages.
    public static func prompts(_ store: Store, _ version: DatasetVersion) throws -> [(id: BlobID, messages: Messages)] {
        guard version.kind == .prompts else { throw SRLMError.wrongKind(ref: version.ref, holds: version.kind.rawValue, expected: "prompts") }
        return try store.read { db in
            try BlobID.fetchAll(db, sql: "SELECT prompt FROM prompt WHERE version_id = ? ORDER BY ord", arguments: [version.id])
                .map { ($0, try messages(db, $0)) }
        }
    }

    /// The distinct prompts of any version with a prompt column, in row order, with their messages.
    public static func distinctPrompts(_ store: Store, _ version: DatasetVersion) throws -> [(id: BlobID, messages: Messages)] {
        guard version.kind.columnIndex("prompt") != nil else {
            throw SRLMError.wrongKind(ref: version.ref, holds: version.kind.rawValue, expected: "rows with prompts")
        }
        return try store.read { db in
            var seen = Set<BlobID>()
            return try BlobID.fetchAll(db, sql: "SELECT prompt FROM \(version.kind.table) WHERE version_id = ? ORDER BY ord", arguments: [version.id])
                .filter { seen.insert($0).inserted }
                .map { ($0, try messages(db, $0)) }
        }
    }

    /// (prompt, response) rows of a candidates or ift version, with the question and the answer's text.
    public static func responses(_ store: Store, _ version: DatasetVersion) throws -> [Candidate] {
        guard version.kind == .candidates || version.kind == .ift else {
            throw SRLMError.wrongKind(ref: version.ref, holds: version.kind.rawValue, expected: "candidates or ift")
        }
        return try store.read { db in
            try Row.fetchAll(db, sql: "SELECT prompt, response FROM \(version.kind.table) WHERE version_id = ? ORDER BY ord",
                             arguments: [version.id]).map { row in
                let p: BlobID = row[0], r: BlobID = row[1]
                return Candidate(prompt: p, response: r, question: try messages(db, p), answer: try messages(db, r).lastContent)
            }
        }
    }

    /// A judgments version's scores, in row order (score nil: the output did not parse).
    public static func judgments(_ store: Store, _ version: DatasetVersion) throws -> [Judgment] {
        guard version.kind == .judgments else { throw SRLMError.wrongKind(ref: version.ref, holds: version.kind.rawValue, expected: "judgments") }
        return try store.read { db in
            try Row.fetchAll(db, sql: "SELECT prompt, response, sample_index, score, judge_model FROM judgment WHERE version_id = ? ORDER BY ord",
                             arguments: [version.id])
                .map { Judgment(prompt: $0[0], response: $0[1], sampleIndex: $0[2], score: $0[3], judge: $0[4]) }
        }
    }

    /// A judge sample with what the judge read: the messages it was sent (from the journal, through the row's call
    /// hash; nil for imported judgments) and its output.
    public struct JudgedSample: Sendable {
        public let prompt: BlobID
        public let response: BlobID
        public let sampleIndex: Int
        public let score: Double?
        public let output: String
        public let judgePrompt: Messages?
    }

    /// Every sample of a judgments version, in row order, with the judge's own prompt (the meta-judge's material).
    public static func judgedSamples(_ store: Store, _ version: DatasetVersion) throws -> [JudgedSample] {
        guard version.kind == .judgments else { throw SRLMError.wrongKind(ref: version.ref, holds: version.kind.rawValue, expected: "judgments") }
        return try store.read { db in
            try Row.fetchAll(db, sql: """
                SELECT j.prompt, j.response, j.sample_index, j.score, srlm_text(j.output),
                       (SELECT json_extract(srlm_text(m.request), '$.request.messages') FROM model_call m WHERE m.request_hash = j.call_hash)
                FROM judgment j WHERE j.version_id = ? ORDER BY j.ord
                """, arguments: [version.id]).map { row in
                let messages = (row[5] as String?).flatMap { try? CanonicalJSON.decodeMessages(Data($0.utf8)) }
                return JudgedSample(prompt: row[0], response: row[1], sampleIndex: row[2], score: row[3], output: row[4], judgePrompt: messages)
            }
        }
    }

    /// Characters of each judged reply's text (the last message's content, as SQLite's `length` counts them).
    public static func replyLengths(_ store: Store, _ version: DatasetVersion) throws -> [BlobID: Int] {
        try store.read { db in
            var lengths: [BlobID: Int] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT response, length(json_extract(srlm_text(response), '$[#-1].content'))
                FROM (SELECT DISTINCT response FROM judgment WHERE version_id = ?)
                """, arguments: [version.id]) {
                lengths[row[0]] = row[1] ?? 0
            }
            return lengths
        }
    }

    /// Judge samples, by the judge that made `version`, of the candidates `anchor` (a checkpoint name) wrote for the
    /// prompts of `version`, from any judgments version of the experiment; each (prompt, reply, sample) once, with
    /// the reply's length. The anchored pair policy's rejected side.
    public static func anchorJudgments(_ store: Store, _ version: DatasetVersion, anchor: String) throws -> [(judgment: Judgment, length: Int)] {
        try store.read { db in
            let judges = try String.fetchAll(db, sql: "SELECT DISTINCT judge_model FROM judgment WHERE version_id = ?", arguments: [version.id])
            guard judges.count == 1 else {
                throw SRLMError.invalid("\(version.ref) holds judgments by \(judges.count) judges; anchoring needs the one judge of the round")
            }
            var seen = Set<[Int64]>()
            return try Row.fetchAll(db, sql: """
                SELECT j.prompt, j.response, j.sample_index, j.score, length(json_extract(srlm_text(j.response), '$[#-1].content'))
                FROM judgment j JOIN dataset_version jv ON jv.id = j.version_id JOIN dataset jd ON jd.id = jv.dataset_id
                JOIN experiment e ON e.id = jd.experiment_id AND e.name = :experiment
                WHERE j.judge_model = :judge AND j.prompt IN (SELECT prompt FROM judgment WHERE version_id = :version)
                AND EXISTS (SELECT 1 FROM candidate c JOIN dataset_version cv ON cv.id = c.version_id JOIN dataset cd ON cd.id = cv.dataset_id
                            WHERE cd.experiment_id = jd.experiment_id AND c.model = :anchor AND c.prompt = j.prompt AND c.response = j.response)
                ORDER BY j.version_id DESC, j.ord
                """, arguments: ["experiment": version.experiment, "judge": judges[0], "version": version.id, "anchor": anchor])
                .filter { seen.insert([$0[0], $0[1], $0[2]]).inserted }
                .map { (Judgment(prompt: $0[0], response: $0[1], sampleIndex: $0[2], score: $0[3]), $0[4] ?? 0) }
        }
    }

    /// A pairs version's rows, largest margin first (then row order).
    public static func pairs(_ store: Store, _ version: DatasetVersion, limit: Int) throws -> [Pair] {
        guard version.kind == .pairs else { throw SRLMError.wrongKind(ref: version.ref, holds: version.kind.rawValue, expected: "pairs") }
        return try store.read { db in
            try Row.fetchAll(db, sql: """
                SELECT prompt, chosen, rejected, chosen_score, rejected_score FROM pair WHERE version_id = ?
                ORDER BY coalesce(chosen_score - rejected_score, 0) DESC, ord LIMIT ?
                """, arguments: [version.id, limit])
                .map { Pair(prompt: $0[0], chosen: $0[1], rejected: $0[2], chosenScore: $0[3], rejectedScore: $0[4]) }
        }
    }

    /// Every judge sample of one (prompt, response) in a judgments version, in sample order.
    public static func judgeSamples(_ store: Store, _ version: DatasetVersion, prompt: BlobID, response: BlobID) throws -> [JudgeSample] {
        try store.read { db in
            try Row.fetchAll(db, sql: """
                SELECT output, score FROM judgment WHERE version_id = ? AND prompt = ? AND response = ? ORDER BY sample_index, ord
                """, arguments: [version.id, prompt, response])
                .map { JudgeSample(output: try BlobReader.text(db, $0[0]), score: $0[1]) }
        }
    }

    /// The last message's text of a stored message list (a prompt's question, a reply's content).
    public static func lastContent(_ store: Store, _ id: BlobID) throws -> String {
        try store.read { try messages($0, id).lastContent }
    }

    /// A ranked version's replies in row order, with texts.
    public static func rankedReplies(_ store: Store, _ version: DatasetVersion) throws -> [RankedReply] {
        guard version.kind == .ranked else { throw SRLMError.wrongKind(ref: version.ref, holds: version.kind.rawValue, expected: "ranked replies") }
        return try store.read { db in
            try Row.fetchAll(db, sql: "SELECT prompt, reply, human_rank FROM ranked_reply WHERE version_id = ? ORDER BY ord",
                             arguments: [version.id]).map { row in
                let p: BlobID = row[0], r: BlobID = row[1]
                return RankedReply(prompt: p, reply: r, rank: row[2], question: try messages(db, p),
                                   answer: try messages(db, r).lastContent)
            }
        }
    }

    /// A labeled-pairs version's rows in row order, with texts.
    public static func labeledPairs(_ store: Store, _ version: DatasetVersion) throws -> [LabeledPair] {
        guard version.kind == .labeledPairs else {
            throw SRLMError.wrongKind(ref: version.ref, holds: version.kind.rawValue, expected: "labeled pairs")
        }
        return try store.read { db in
            try Row.fetchAll(db, sql: "SELECT prompt, response_a, response_b, label FROM labeled_pair WHERE version_id = ? ORDER BY ord",
                             arguments: [version.id]).map { row in
                let p: BlobID = row[0], a: BlobID = row[1], b: BlobID = row[2]
                return LabeledPair(prompt: p, responseA: a, responseB: b, label: row[3], question: try messages(db, p),
                                   answerA: try messages(db, a).lastContent, answerB: try messages(db, b).lastContent)
            }
        }
    }

    /// The distinct prompt blobs of any version with a prompt column.
    public static func promptIDs(_ store: Store, _ version: DatasetVersion) throws -> Set<BlobID> {
        guard version.kind.columnIndex("prompt") != nil else {
            throw SRLMError.wrongKind(ref: version.ref, holds: version.kind.rawValue, expected: "rows with prompts")
        }
        return try store.read { db in
            Set(try BlobID.fetchAll(db, sql: "SELECT prompt FROM \(version.kind.table) WHERE version_id = ?", arguments: [version.id]))
        }
    }

    /// The questions a version trains on: an eft version's train-split questions (its prompts are judge prompts),
    /// any other version's prompts. What an evaluation leaves out to measure on held-out data.
    public static func trainedPrompts(_ store: Store, _ version: DatasetVersion) throws -> Set<BlobID> {
        guard version.kind == .eft else { return try promptIDs(store, version) }
        return try store.read { db in
            Set(try BlobID.fetchAll(db, sql: "SELECT question FROM eft_example WHERE version_id = ? AND split = 'train' AND question IS NOT NULL",
                                    arguments: [version.id]))
        }
    }

    /// The prompt texts of a version: the last user message of each distinct prompt, in row order.
    public static func promptTexts(_ store: Store, _ version: DatasetVersion, generatedOnly: Bool = false) throws -> [String] {
        guard version.kind.columnIndex("prompt") != nil else {
            throw SRLMError.wrongKind(ref: version.ref, holds: version.kind.rawValue, expected: "rows with prompts")
        }
        let filter = generatedOnly ? " AND origin = 'generated'" : ""
        return try store.read { db in
            var seen = Set<BlobID>()
            return try BlobID.fetchAll(db, sql: "SELECT prompt FROM \(version.kind.table) WHERE version_id = ?\(filter) ORDER BY ord",
                                       arguments: [version.id])
                .filter { seen.insert($0).inserted }  // ranked data repeats each prompt once per reply
                .compactMap { try messages(db, $0).last { $0.role == "user" }?.content }
        }
    }

    /// The version a template body has when it is already registered, else the version it would get.
    public static func templateVersion(_ store: Store, name: String, body: String) throws -> (version: Int, registered: Bool) {
        try store.read { db in
            let versions = try Row.fetchAll(db, sql: "SELECT version, body FROM template WHERE name = ?", arguments: [name])
            for row in versions where try BlobReader.text(db, row[1]) == body { return (row[0], true) }
            return ((versions.map { $0[0] as Int }.max() ?? 0) + 1, false)
        }
    }

    /// Registers a template body under `name` as `version` (what `templateVersion` said it would be).
    public static func registerTemplate(_ store: Store, name: String, version: Int, body: String) throws -> BlobID {
        try store.write { db in
            let blobs = try BlobWriter.in(db)
            let blob = try blobs.put(body)
            try blobs.flush()
            if let existing = try Int.fetchOne(db, sql: "SELECT version FROM template WHERE name = ? AND body = ?", arguments: [name, blob]) {
                guard existing == version else {
                    throw SRLMError.invalid("template \(name): this body is version \(existing), not \(version) (registered meanwhile)")
                }
                return blob
            }
            try db.execute(sql: "INSERT INTO template(name, version, body) VALUES (?, ?, ?)", arguments: [name, version, blob])
            return blob
        }
    }
}
