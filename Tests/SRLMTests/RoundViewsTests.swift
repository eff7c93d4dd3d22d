import Foundation
import GRDB
import Testing
@testable import SRLMStore

/// Two rounds built by hand as the stages record them. Both rounds ask the same question and both have a candidate
/// with the same reply text, so texts (content-addressed) share blob ids across the rounds; the judge scores that
/// reply high in round 1 (chosen) and low in round 2 (rejected). A join on blob ids alone mixes the rounds.
enum TwoRounds {
    static let question = "Name a prime number."
    static let shared = "Seven is prime."
    /// Per round: the judge's model, the other reply, and the scores of (shared, other).
    static let rounds: [(model: String, other: String, scores: [[Double]])] = [
        ("M0", "Nine is prime.", [[4, 5], [1, 2]]),
        ("M1", "Eleven is prime.", [[1, 2], [5, 5]]),
    ]

    static func text(_ m: Message) -> Value { .text(CanonicalJSON.text([m])) }

    static func build() throws -> Store {
        let store = try TestSupport.makeStore()
        try store.write { db in
            func finished(_ stage: String, _ config: [String: Any], inputs: [Int64]) throws -> Int64 {
                let run = try Runs.begin(db, experiment: "default", stage: stage, config: config, inputs: inputs)
                try Runs.finish(db, run.id)
                return run.id
            }
            for (index, round) in rounds.enumerated() {
                let iteration = index + 1
                let genPrompts = try finished("gen-prompts", ["round": iteration, "model": round.model], inputs: [])
                let prompts = try VersionWriter(db, experiment: "default", name: "generated-prompts", kind: .prompts, runID: genPrompts)
                try prompts.append(["prompt": text(.user("Round \(iteration) warm-up.")), "origin": .text("generated")])
                try prompts.append(["prompt": text(.user(question)), "origin": .text("generated")])
                try RunLifecycle.recordRejection(prompts, run: genPrompts, text: CanonicalJSON.text([.user("dup \(iteration)")]),
                                                 reason: "duplicate", detail: nil)
                let promptVersion = try prompts.finish()
                try Rounds.setVersion(db, experiment: "default", iteration: iteration, role: .prompts, version: promptVersion.id)

                let gen = try finished("gen-candidates", ["round": iteration, "model": round.model], inputs: [promptVersion.id])
                let candidates = try VersionWriter(db, experiment: "default", name: "candidates", kind: .candidates, runID: gen)
                for (k, reply) in [shared, round.other].enumerated() {
                    try candidates.append(["prompt": text(.user(question)), "response": text(.assistant(reply)),
                                           "model": .text(round.model), "sample_index": .int(Int64(k)), "finish_reason": .text("stop")])
                }
                let candidateVersion = try candidates.finish()
                try Rounds.setVersion(db, experiment: "default", iteration: iteration, role: .candidates, version: candidateVersion.id)

                let judge = try finished("judge", ["round": iteration, "model": round.model], inputs: [candidateVersion.id])
                let judgments = try VersionWriter(db, experiment: "default", name: "judgments", kind: .judgments, runID: judge)
                for (reply, scores) in zip([shared, round.other], round.scores) {
                    for (k, score) in scores.enumerated() {
                        try judgments.append(["prompt": text(.user(question)), "response": text(.assistant(reply)),
                                              "judge_model": .text(round.model), "sample_index": .int(Int64(k)),
                                              "output": .text("r\(iteration) \(reply) sample \(k)\nScore: \(Int(score))"),
                                              "score": .real(score), "mode": .text("free")])
                    }
                }
                let judgmentVersion = try judgments.finish()
                try Rounds.setVersion(db, experiment: "default", iteration: iteration, role: .judgments, version: judgmentVersion.id)

                let pairsRun = try finished("pairs", ["round": iteration], inputs: [judgmentVersion.id])
                let pairs = try VersionWriter(db, experiment: "default", name: "pairs", kind: .pairs, runID: pairsRun)
                let means = round.scores.map { $0.reduce(0, +) / 2 }
                let (chosen, rejected) = means[0] > means[1] ? (shared, round.other) : (round.other, shared)
                try pairs.append([text(.user(question)), text(.assistant(chosen)), text(.assistant(rejected)),
                                  .real(means.max()!), .real(means.min()!)])
                try Rounds.setVersion(db, experiment: "default", iteration: iteration, role: .pairs, version: try pairs.finish().id)
            }
        }
        return store
    }

    static func version(_ store: Store, _ ref: String) throws -> DatasetVersion {
        try store.read { try DatasetVersion.resolve($0, ref, experiment: "default") }
    }
}

@Suite struct RoundViewsTests {
    /// Every dataset view, and the views over rounds and verdicts, carry the lineage columns.
    @Test func everyViewHasRoundModelRefAndExperiment() throws {
        let store = try TestSupport.makeStore()
        let views = ArtifactKind.allCases.map(\.view) + ["v_prompt_candidates", "v_pairwise_verdicts", "v_prompt_rejections", "v_import_rejections"]
        try store.read { db in
            for view in views {
                let columns = Set(try SQLErrorText.columnNames(db, view))
                for required in ["round", "model", "ref", "experiment"] {
                    #expect(columns.contains(required), "\(view) lacks \(required)")
                }
            }
        }
    }

    /// Rows of a query as text lines, each value as GRDB describes it (strings quoted, NULL as NULL).
    static func lines(_ store: Store, _ sql: String) throws -> [String] {
        try store.read { db in
            try Row.fetchAll(db, sql: sql).map { row in row.databaseValues.map { "\($0)" }.joined(separator: " ") }
        }
    }

    @Test func datasetViewsNameTheirRoundAndModel() throws {
        let store = try TwoRounds.build()
        let prompts = try Self.lines(store, "SELECT round, model, ref FROM v_prompts GROUP BY ref ORDER BY ref")
        #expect(prompts == ["1 \"M0\" \"generated-prompts@1\"", "2 \"M1\" \"generated-prompts@2\""])
        let candidates = try Self.lines(store, "SELECT DISTINCT round, model, ref FROM v_candidates ORDER BY ref")
        #expect(candidates == ["1 \"M0\" \"candidates@1\"", "2 \"M1\" \"candidates@2\""])
        let judgments = try Self.lines(store, "SELECT DISTINCT round, model, ref FROM v_judgments ORDER BY ref")
        #expect(judgments == ["1 \"M0\" \"judgments@1\"", "2 \"M1\" \"judgments@2\""])
        // Pairs name no model of their own: the model whose judgments they were made from.
        let pairs = try Self.lines(store, "SELECT round, model, ref FROM v_pairs ORDER BY ref")
        #expect(pairs == ["1 \"M0\" \"pairs@1\"", "2 \"M1\" \"pairs@2\""])
        let rejections = try Self.lines(store, "SELECT round, model, ref, reason FROM v_prompt_rejections ORDER BY run_id")
        #expect(rejections == ["1 \"M0\" \"generated-prompts@1\" \"duplicate\"", "2 \"M1\" \"generated-prompts@2\" \"duplicate\""])
        let runs = try Self.lines(store, "SELECT round, model FROM v_runs WHERE stage = 'judge' ORDER BY run_id")
        #expect(runs == ["1 \"M0\"", "2 \"M1\""])
        // Outside rounds: NULL round.
        let loose = try writeSamplePairs(store, name: "loose", count: 2)
        let unrounded = try Self.lines(store, "SELECT count(*) FROM v_pairs WHERE ref = '\(loose.ref)' AND round IS NULL")
        #expect(unrounded == ["2"])
    }

    /// One row per candidate per round, with that round's samples and pair flags only, although both rounds' shared
    /// reply has the same prompt and reply blob ids.
    @Test func promptCandidatesJoinWithinTheRound() throws {
        let store = try TwoRounds.build()
        // The blob-id join the view avoids does cross here: the shared reply meets both rounds' samples (2 + 2).
        let crossing = try Self.lines(store, """
            SELECT count(*) FROM candidate c JOIN judgment j ON j.prompt = c.prompt AND j.response = c.response
            JOIN v_versions v ON v.version_id = c.version_id WHERE v.ref = 'candidates@1'
            """)
        #expect(crossing == ["6"])
        #expect(try Self.lines(store, "SELECT count(*) FROM v_prompt_candidates") == ["4"])
        let rows = try Self.lines(store, """
            SELECT round, model, ref, judgments_ref, pairs_ref, response_text, scores, mean_score, chosen, rejected
            FROM v_prompt_candidates WHERE prompt_text = '\(TwoRounds.question)' ORDER BY round, ord
            """)
        #expect(rows == [
            #"1 "M0" "candidates@1" "judgments@1" "pairs@1" "Seven is prime." "[4.0,5.0]" 4.5 1 0"#,
            #"1 "M0" "candidates@1" "judgments@1" "pairs@1" "Nine is prime." "[1.0,2.0]" 1.5 0 1"#,
            #"2 "M1" "candidates@2" "judgments@2" "pairs@2" "Seven is prime." "[1.0,2.0]" 1.5 0 1"#,
            #"2 "M1" "candidates@2" "judgments@2" "pairs@2" "Eleven is prime." "[5.0,5.0]" 5.0 1 0"#,
        ])
        let rationales = try store.read { try String.fetchOne($0, sql: "SELECT rationales FROM v_prompt_candidates WHERE round = 1 AND ord = 0") }
        #expect(try JSONDecoder().decode([String].self, from: Data((rationales ?? "").utf8))
                == ["r1 \(TwoRounds.shared) sample 0\nScore: 4", "r1 \(TwoRounds.shared) sample 1\nScore: 5"])
        // The library read behind `show --prompt`: the same values, by candidates, judgments, pairs or prompts ref.
        for ref in ["candidates@2", "judgments@2", "pairs@2"] {
            let view = try PromptCandidates.read(store, try TwoRounds.version(store, ref), prompt: 0)
            #expect(view.round == 2 && view.prompts == 1 && view.promptText == TwoRounds.question)
            #expect(view.candidates.map(\.scores) == [[1, 2], [5, 5]])
            #expect(view.candidates.map(\.chosen) == [false, true])
        }
        let byPrompt = try PromptCandidates.read(store, try TwoRounds.version(store, "generated-prompts@1"), prompt: 1)
        #expect(byPrompt.ref == "candidates@1" && byPrompt.candidates.map(\.meanScore) == [4.5, 1.5])
        #expect(byPrompt.candidates[0].rationales.count == 2 && byPrompt.candidates[0].judges == ["M0", "M0"])
        #expect(throws: SRLMError.self) { try PromptCandidates.read(store, try TwoRounds.version(store, "candidates@1"), prompt: 1) }
        #expect(throws: SRLMError.self) { try PromptCandidates.read(store, try TwoRounds.version(store, "generated-prompts@1"), prompt: 0) }
    }

    /// Debian's /usr/bin/sqlite3 reads the round views through the loadable extension, without srlm.
    @Test func plainSQLiteReadsTheRoundViews() throws {
        let library = TestSupport.packageRoot.appendingPathComponent(".build/debug/libsrlmsqlite.so").path
        try #require(FileManager.default.fileExists(atPath: library), "build the extension first: swift build")
        let store = try TwoRounds.build()
        _ = try PairwiseEvalFixture.build(store)
        let (status, output) = try TestSupport.run("/usr/bin/sqlite3", [store.path, "-cmd", ".load \(library.dropLast(3))",
            "SELECT round || ' ' || scores || ' ' || chosen FROM v_prompt_candidates WHERE round = 2 ORDER BY ord;"
            + "SELECT group_concat(coalesce(verdict, '-') || '/' || label || '/' || coalesce(agree, '-'), ' ') FROM v_pairwise_verdicts;"])
        #expect(status == 0, "\(output)")
        #expect(output == "2 [1.0,2.0] 0\n2 [5.0,5.0] 1\na/a/1 tie/b/0 -/tie/-\n", "\(output)")
    }

    /// Candidates outside rounds are matched with the judgments whose run read them.
    @Test func promptCandidatesOutsideRoundsFollowTheJudgingRun() throws {
        let store = try TestSupport.makeStore()
        try store.write { db in
            let candidates = try VersionWriter(db, experiment: "default", name: "mine", kind: .candidates, runID: nil)
            try candidates.append(["prompt": TwoRounds.text(.user("Q")), "response": TwoRounds.text(.assistant("A")),
                                   "model": .text("x"), "sample_index": .int(0)])
            let version = try candidates.finish()
            let run = try Runs.begin(db, experiment: "default", stage: "judge", config: ["model": "J"], inputs: [version.id])
            let judgments = try VersionWriter(db, experiment: "default", name: "my-judgments", kind: .judgments, runID: run.id)
            try judgments.append(["prompt": TwoRounds.text(.user("Q")), "response": TwoRounds.text(.assistant("A")),
                                  "judge_model": .text("J"), "sample_index": .int(0), "output": .text("fine\nScore: 3"),
                                  "score": .real(3), "mode": .text("free")])
            try judgments.finish()
        }
        let row = try RoundViewsTests.lines(store, "SELECT round, judgments_ref, pairs_ref, scores, chosen FROM v_prompt_candidates")
        #expect(row == [#"NULL "my-judgments@1" NULL "[3.0]" NULL"#])
    }
}
