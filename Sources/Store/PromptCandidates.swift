import Foundation
import GRDB

/// One prompt's candidates with every judge sample's score and rationale and the round's pair flags, read from
/// `v_prompt_candidates` (`srlm show REF --prompt N`). Candidates, judgments and pairs are matched within one round
/// (or one judging run outside rounds), never across rounds by blob id.
public enum PromptCandidates {
    public struct Candidate: Codable, Equatable, Sendable {
        public let ord: Int
        public let sampleIndex: Int
        public let model: String
        public let responseText: String
        public let scores: [Double?]
        public let rationales: [String]
        public let judges: [String]
        public let meanScore: Double?
        public let chosen: Bool?
        public let rejected: Bool?
        public let finishReason: String?

        enum CodingKeys: String, CodingKey {
            case ord, sampleIndex = "sample_index", model, responseText = "response_text", scores, rationales, judges,
                 meanScore = "mean_score", chosen, rejected, finishReason = "finish_reason"
        }
    }

    public struct View: Codable, Equatable, Sendable {
        public let experiment: String
        public let round: Int?
        /// The candidates version, and the judgments and pairs versions matched with it.
        public let ref: String
        public let judgmentsRef: String?
        public let pairsRef: String?
        /// Which prompt: its place among the candidates' prompts (first-seen order, from 0), of how many.
        public let prompt: Int
        public let prompts: Int
        public let promptText: String
        public let candidates: [Candidate]

        enum CodingKeys: String, CodingKey {
            case experiment, round, ref, judgmentsRef = "judgments_ref", pairsRef = "pairs_ref", prompt, prompts,
                 promptText = "prompt_text", candidates
        }
    }

    /// Prompt `index` of `version`: a candidates, judgments or pairs version (its round's, or its judging's,
    /// candidates; index among their prompts in first-seen order) or a prompts version (index: the prompt's ord; its
    /// round's candidates).
    public static func read(_ store: Store, _ version: DatasetVersion, prompt index: Int) throws -> View {
        try store.read { db in
            let link = try self.link(db, version)
            let prompts = try BlobID.fetchAll(db, sql: """
                SELECT prompt FROM candidate WHERE version_id = ? GROUP BY prompt ORDER BY min(ord)
                """, arguments: [link.candidates])
            let position: Int?
            if version.kind == .prompts {
                guard let blob = try BlobID.fetchOne(db, sql: "SELECT prompt FROM prompt WHERE version_id = ? AND ord = ?",
                                                     arguments: [version.id, index]) else {
                    throw SRLMError.outOfRange(setting: "prompt", value: String(index), expected: "a row of \(version.ref) (0 to \(version.rowCount - 1))")
                }
                position = prompts.firstIndex(of: blob)
                guard position != nil else {
                    throw SRLMError.notFound("prompt \(index) of \(version.ref) has no candidates in \(try ref(db, link.candidates))")
                }
            } else {
                guard prompts.indices.contains(index) else {
                    throw SRLMError.outOfRange(setting: "prompt", value: String(index),
                                               expected: "0 to \(prompts.count - 1) (the prompts of \(try ref(db, link.candidates)))")
                }
                position = index
            }
            let rows = try Row.fetchAll(db, sql: """
                SELECT * FROM v_prompt_candidates WHERE version_id = ? AND judgments_id IS ? AND pairs_id IS ? AND prompt_id = ?
                ORDER BY ord
                """, arguments: [link.candidates, link.judgments, link.pairs, prompts[position!]])
            guard let first = rows.first else { throw SRLMError.notFound("no candidates for prompt \(index) of \(version.ref)") }
            return View(experiment: first["experiment"], round: first["round"], ref: first["ref"],
                        judgmentsRef: first["judgments_ref"], pairsRef: first["pairs_ref"], prompt: position!,
                        prompts: prompts.count, promptText: first["prompt_text"] ?? "", candidates: try rows.map(candidate))
        }
    }

    static func candidate(_ row: Row) throws -> Candidate {
        func array<T: Decodable>(_ column: String, _: T.Type) throws -> T {
            try JSONDecoder().decode(T.self, from: Data((row[column] as String? ?? "[]").utf8))
        }
        return Candidate(ord: row["ord"], sampleIndex: row["sample_index"], model: row["model"],
                         responseText: row["response_text"] ?? "", scores: try array("scores", [Double?].self),
                         rationales: try array("rationales", [String].self), judges: try array("judges", [String].self),
                         meanScore: row["mean_score"], chosen: row["chosen"], rejected: row["rejected"],
                         finishReason: row["finish_reason"])
    }

    struct Link { let candidates: Int64; let judgments: Int64?; let pairs: Int64? }

    /// The candidates, judgments and pairs versions that `version` belongs with (`v_round_links`); the latest
    /// judging when a candidates version outside rounds was judged more than once.
    static func link(_ db: Database, _ version: DatasetVersion) throws -> Link {
        let sql: String
        switch version.kind {
        case .candidates: sql = "SELECT * FROM v_round_links WHERE candidates_id = ? ORDER BY round, judgments_id DESC LIMIT 1"
        case .judgments: sql = "SELECT * FROM v_round_links WHERE judgments_id = ? ORDER BY round LIMIT 1"
        case .pairs: sql = "SELECT * FROM v_round_links WHERE pairs_id = ? ORDER BY round LIMIT 1"
        case .prompts:
            sql = """
                SELECT l.* FROM round_member m JOIN round r ON r.id = m.round_id
                JOIN v_round_links l ON l.experiment_id = r.experiment_id AND l.round = r.iteration
                WHERE m.version_id = ? AND m.role = 'prompts' ORDER BY r.iteration LIMIT 1
                """
        default:
            throw SRLMError.wrongKind(ref: version.ref, holds: version.kind.rawValue, expected: "candidates, judgments, pairs or prompts")
        }
        guard let row = try Row.fetchOne(db, sql: sql, arguments: [version.id]) else {
            throw SRLMError.notFound("\(version.ref) is linked to no candidates: it is in no round, and no judging run read candidates for it")
        }
        return Link(candidates: row["candidates_id"], judgments: row["judgments_id"], pairs: row["pairs_id"])
    }

    static func ref(_ db: Database, _ id: Int64) throws -> String {
        try String.fetchOne(db, sql: "SELECT ref FROM v_versions WHERE version_id = ?", arguments: [id]) ?? "version \(id)"
    }
}
