import Foundation
import GRDB

/// A pairwise evaluation's verdicts beside the human labels, read from `v_pairwise_verdicts` (`srlm show <eval
/// version> --side-by-side`): per labelled pair, both orders' verdicts and rationales, the verdict that survives the
/// swap, the human label and whether they agree.
public enum PairwiseVerdicts {
    public struct Item: Codable, Equatable, Sendable {
        public let ord: Int
        public let promptText: String
        public let responseAText: String
        public let responseBText: String
        /// Verdicts as sides of the pair (a, b, tie; nil: none parsed). `verdictBAShown` is the second order's as the
        /// judge gave it, with B shown first (its "a" is reply B).
        public let verdictAB: String?
        public let verdictBAShown: String?
        public let verdictBA: String?
        public let verdict: String?
        public let label: String
        public let agree: Bool?
        public let outputAB: String?
        public let outputBA: String?
        public let judgeModel: String?

        enum CodingKeys: String, CodingKey {
            case ord, promptText = "prompt_text", responseAText = "response_a_text", responseBText = "response_b_text",
                 verdictAB = "verdict_ab", verdictBAShown = "verdict_ba_shown", verdictBA = "verdict_ba", verdict, label,
                 agree, outputAB = "output_ab", outputBA = "output_ba", judgeModel = "judge_model"
        }
    }

    public struct View: Codable, Equatable, Sendable {
        public let ref: String
        public let labeledRef: String
        public let model: String?
        public let items: [Item]

        enum CodingKeys: String, CodingKey { case ref, labeledRef = "labeled_ref", model, items }
    }

    /// Whether `version` holds a pairwise evaluation's verdicts (judgments written by `eval-pairwise`).
    public static func isPairwiseEval(_ store: Store, _ version: DatasetVersion) throws -> Bool {
        guard version.kind == .judgments, let run = version.runID else { return false }
        return try store.read { try String.fetchOne($0, sql: "SELECT stage FROM run WHERE id = ?", arguments: [run]) } == "eval-pairwise"
    }

    /// `limit` labelled pairs from `ord >= offset`.
    public static func read(_ store: Store, _ version: DatasetVersion, limit: Int, offset: Int) throws -> View {
        try store.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT * FROM v_pairwise_verdicts WHERE version_id = ? AND ord >= ? ORDER BY ord LIMIT ?
                """, arguments: [version.id, offset, limit])
            let labeled = try String.fetchOne(db, sql: "SELECT labeled_ref FROM v_pairwise_verdicts WHERE version_id = ? LIMIT 1",
                                              arguments: [version.id])
            guard let labeled else {
                throw SRLMError.notFound("\(version.ref) holds no pairwise verdicts on labelled pairs (made by `srlm eval judge --mode pairwise`)")
            }
            let model = try String.fetchOne(db, sql: "SELECT model FROM v_versions WHERE version_id = ?", arguments: [version.id])
            return View(ref: version.ref, labeledRef: labeled, model: model, items: rows.map { row in
                Item(ord: row["ord"], promptText: row["prompt_text"] ?? "", responseAText: row["response_a_text"] ?? "",
                     responseBText: row["response_b_text"] ?? "", verdictAB: row["verdict_ab"], verdictBAShown: row["verdict_ba_shown"],
                     verdictBA: row["verdict_ba"], verdict: row["verdict"], label: row["label"], agree: row["agree"],
                     outputAB: row["output_ab"], outputBA: row["output_ba"], judgeModel: row["judge_model"])
            })
        }
    }
}
