import Foundation
import GRDB
import Testing
@testable import SRLMEngines
@testable import SRLMEval
@testable import SRLMImport
@testable import SRLMMetrics
@testable import SRLMReport
@testable import SRLMStages
@testable import SRLMStore

/// A store with one round whose judge gave every sample `score`, and whose pairs prefer a long reply.
enum HealthFixture {
    static func store(scores: [[Double?]], chosenLength: Int = 400, rejectedLength: Int = 100) throws -> Store {
        let store = try TestSupport.makeStore()
        try store.write { db in
            // One writer at a time: a version's id is taken when its writer starts.
            let judgments = try VersionWriter(db, experiment: "default", name: "judgments", kind: .judgments, runID: nil)
            for (p, candidates) in scores.enumerated() {
                let prompt = Blobs.text([.user("question \(p)")])
                for (c, score) in candidates.enumerated() {
                    for k in 0..<2 {
                        try judgments.append(["prompt": .text(prompt), "response": .text(Blobs.text([.assistant("answer \(p).\(c)")])),
                                              "judge_model": .text("M1"), "sample_index": .int(Int64(k)),
                                              "output": .text("Rationale.\nScore: \(score.map { String($0) } ?? "?")"),
                                              "score": score.map { .real($0) } ?? .null,
                                              "parse_error": score == nil ? .text("no score") : .null, "mode": .text("free")])
                    }
                }
            }
            try Rounds.setVersion(db, experiment: "default", iteration: 1, role: .judgments, version: try judgments.finish().id)
            let pairs = try VersionWriter(db, experiment: "default", name: "pairs", kind: .pairs, runID: nil)
            for p in scores.indices {
                try pairs.append([.text(Blobs.text([.user("question \(p)")])),
                                  .text(Blobs.text([.assistant(String(repeating: "x", count: chosenLength))])),
                                  .text(Blobs.text([.assistant(String(repeating: "y", count: rejectedLength))])), .real(5), .real(4)])
            }
            try Rounds.setVersion(db, experiment: "default", iteration: 1, role: .pairs, version: try pairs.finish().id)
        }
        return store
    }
}

@Suite struct JudgeHealthTests {
    /// Every sample 5: saturation, one score value, every prompt tied; chosen 4× as long as rejected.
    @Test func aSaturatedJudgeRaisesTheAlarms() throws {
        let store = try HealthFixture.store(scores: [[5, 5], [5, 5], [5, 5]])
        let health = try JudgeHealth.rounds(store, experiment: "default")
        let row = try #require(health.records.first)
        #expect(row.double("saturation_pct") == 100 && row.double("all_tied_prompt_pct") == 100)
        #expect(row.text("score_histogram") == "5:12" && row.double("length_ratio") == 4)
        let warnings = JudgeHealth.warnings(health)
        #expect(warnings.contains { $0.contains("saturating") } && warnings.contains { $0.contains("every candidate ties") })
        #expect(warnings.contains { $0.contains("one value") } && warnings.contains { $0.contains("as long as rejected") })
    }

    /// A judge that spreads its scores and whose outputs parse raises none; unparsed outputs are counted.
    @Test func aHealthyJudgeRaisesNone() throws {
        let store = try HealthFixture.store(scores: [[2, 4, 5], [1, 3, nil], [3, 4, 2]], chosenLength: 120, rejectedLength: 100)
        let health = try JudgeHealth.rounds(store, experiment: "default")
        let row = try #require(health.records.first)
        #expect(row.int("judge_samples") == 18)
        #expect(abs((row.double("unparsed_pct") ?? 0) - 11.1) < 0.05)
        #expect(row.double("all_tied_prompt_pct") == 0)
        #expect(JudgeHealth.warnings(health).isEmpty, "\(JudgeHealth.warnings(health))")
    }
}

@Suite struct PairwiseVerdictTests {
    @Test(arguments: [("A is clearer.\n[[A]]", Verdict.a), ("[[A]] at first, but on reflection [[B]]", .b), ("Equal.\n[[C]]", .tie)])
    func theLastVerdictCounts(output: String, expected: Verdict) {
        #expect(PairwiseTemplate.verdict(output) == expected)
    }

    @Test func noVerdictIsNoVerdict() {
        #expect(PairwiseTemplate.verdict("A is better.") == nil && PairwiseTemplate.verdict("[[D]]") == nil)
    }
}

@Suite struct ReportBuilderTests {
    /// The report is built from the store's queries: the health section carries the alarms, and the example pair's
    /// hostile texts come out escaped.
    @Test func reportFromAStoreEscapesItsTexts() throws {
        let store = try TestSupport.makeStore()
        try store.write { db in
            let judgments = try VersionWriter(db, experiment: "default", name: "judgments", kind: .judgments, runID: nil)
            let prompt = Blobs.text([.user("<script>alert(1)</script> What is 2+2?")])
            let chosen = Blobs.text([.assistant("4 <img src=x onerror=alert(1)>")])
            let rejected = Blobs.text([.assistant("5")])
            for (response, score) in [(chosen, 5.0), (rejected, 1.0)] {
                try judgments.append(["prompt": .text(prompt), "response": .text(response), "judge_model": .text("M1"),
                                      "sample_index": .int(0), "output": .text("Because </pre><script>x()</script>\nScore: \(Int(score))"),
                                      "score": .real(score), "mode": .text("free")])
            }
            try Rounds.setVersion(db, experiment: "default", iteration: 1, role: .judgments, version: try judgments.finish().id)
            let pairs = try VersionWriter(db, experiment: "default", name: "pairs", kind: .pairs, runID: nil)
            try pairs.append([.text(prompt), .text(chosen), .text(rejected), .real(5), .real(1)])
            try Rounds.setVersion(db, experiment: "default", iteration: 1, role: .pairs, version: try pairs.finish().id)
        }
        let report = try ReportBuilder.build(store, experiment: "default")
        #expect(report.sections.map(\.title).contains("Example pairs"))
        let html = HTMLRenderer.render(report)
        #expect(!html.lowercased().contains("<script") && !html.contains("<img src=x"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(try ReportBuilder.build(store, experiment: "default") == report)
        let markdown = MarkdownRenderer.render(report)
        #expect(markdown.contains("Judge health per round") && markdown.contains("Round history"))
    }
}

extension EngineBacked {
    @Suite struct EvalRuns {
        /// SmolLM2 judges the held-out ranked replies of the project's samples (structured, 2 samples): the figures
        /// land in eval_metric with their counts and the random judge, a scipy recomputation from the stored scores
        /// agrees to 1e-9, and a rerun is free.
        @Test func evalJudgeStoresTable4FiguresThatScipyReproduces() async throws {
            let store = try TestSupport.makeStore()
            let root = TestSupport.packageRoot.appendingPathComponent("datasets").path
            _ = try Importer.run(store, ImportOptions(target: .ranked, path: root + "/ranked.jsonl", format: .oasst))
            _ = try Derive.run(store, name: "trained", from: "ranked", where: "ord < 12")  // the first 4 prompts' replies
            var config = EvalJudge.Config()
            config.exclude = ["trained"]
            config.samples = 2
            config.structured = true
            config.sampling.maxTokens = 128
            config.resamples = 200
            config.randomRepetitions = 50
            let context = StageContext(store: store, quiet: true)
            let (first, again) = try await ModelSession.with(ModelSpec(gguf: try EngineSupport.modelPath(), parallel: 2, contextPerSlot: 2048)) {
                (try await context.perform(EvalJudge(config: config), session: $0), try await context.perform(EvalJudge(config: config), session: $0))
            }
            #expect(again.reused && again.runID == first.runID)
            let metrics = Dictionary(uniqueKeysWithValues: try EvalRecords.metrics(store, run: first.runID).map { ($0.metric, $0) })
            #expect(metrics["prompts"]?.value == 12 && metrics["comparable_pairs"]?.value == 36)
            // The parse rate is the stored rows' (a constrained output cut off by max tokens has no score line).
            let parsed = try store.read { try Double.fetchOne($0, sql: "SELECT avg(score IS NOT NULL) FROM judgment WHERE version_id = ?", arguments: [first.version.id]) }
            #expect(first.version.rowCount == 12 * 3 * 2 && metrics["sampleParseRate"]?.value == parsed)
            #expect(metrics["random.pairwiseAccuracy"]?.value != nil && metrics["pairwiseAccuracy"]?.lo != nil)

            // Recompute from the stored scores with scipy.
            let rows = try store.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT j.prompt, r.human_rank, avg(j.score) AS score, length(json_extract(srlm_text(j.response), '$[#-1].content')) AS len
                    FROM judgment j JOIN ranked_reply r ON r.reply = j.response AND r.prompt = j.prompt
                    JOIN v_versions v ON v.version_id = r.version_id AND v.ref = 'ranked@1'
                    WHERE j.version_id = ? GROUP BY j.prompt, j.response ORDER BY j.prompt
                    """, arguments: [first.version.id])
            }
            let grouped = Dictionary(grouping: rows, by: { $0["prompt"] as Int64 }).values.map { replies in
                ["replies": replies.map { ["rank": $0["human_rank"] as Int, "score": $0["score"] as Double? as Any, "length": $0["len"] as Int] }]
            }
            let file = TestSupport.writeTemp(String(decoding: try JSONSerialization.data(withJSONObject: grouped), as: UTF8.self), name: "ranked.json")
            let check = Process()
            check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            check.arguments = ["python3", TestSupport.packageRoot.appendingPathComponent("Tests/Fixtures/metrics_check.py").path, file]
            let out = Pipe()
            check.standardOutput = out
            try check.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            check.waitUntilExit()
            #expect(check.terminationStatus == 0, "scipy check failed: \(String(decoding: data, as: UTF8.self))")
            let scipy = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            for name in ["pairwiseAccuracy", "spearmanPerPrompt", "kendallPerPrompt", "spearmanPooled", "kendallPooled"] {
                let expected = scipy[name] as? Double, stored = metrics[name]?.value
                #expect((expected == nil && stored == nil) || abs((expected ?? .nan) - (stored ?? .nan)) < 1e-9, "\(name): scipy \(String(describing: expected)), srlm \(String(describing: stored))")
            }
        }

        /// The model against reference outputs, judged by itself in both orders: verdict rows for both orders, rates
        /// that add up, the judge named in the run, and a rerun that makes no call.
        @Test func winRateAgainstReferenceOutputs() async throws {
            let store = try TestSupport.makeStore()
            let root = TestSupport.packageRoot.appendingPathComponent("datasets").path
            _ = try Importer.run(store, ImportOptions(target: .ift, path: root + "/ift.jsonl", format: .alpaca, name: "all-ift"))
            _ = try Derive.run(store, name: "reference", from: "all-ift", where: "ord < 4")
            let spec = ModelSpec(gguf: try EngineSupport.modelPath(), label: "M0", parallel: 2, contextPerSlot: 4096)
            let context = StageContext(store: store, quiet: true)
            var answers = EvalAnswers.Config(prompts: "reference")
            answers.sampling.maxTokens = 48
            var compare = EvalCompare.Config()
            compare.kind = "winrate"
            compare.structured = true
            compare.sampling.maxTokens = 160
            compare.resamples = 200
            let (result, calls) = try await ModelSession.with(spec) { session in
                let mine = try await context.perform(EvalAnswers(config: answers), session: session)
                (compare.a, compare.aModel, compare.b, compare.bModel) = (mine.version.ref, "M0", "reference", "reference")
                let first = try await context.perform(EvalCompare(config: compare), session: session)
                let calls = try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM model_call") } ?? 0
                let again = try await context.perform(EvalCompare(config: compare), session: session)
                #expect(again.reused && again.runID == first.runID)
                return (first, calls)
            }
            #expect(calls == 4 + 8 && result.version.rowCount == 8)
            let metrics = Dictionary(uniqueKeysWithValues: try EvalRecords.metrics(store, run: result.runID).map { ($0.metric, $0) })
            // A prompt is decided when both orders' verdicts parsed (a verdict cut off by max tokens did not).
            let bothParsed = try store.read { try Int.fetchOne($0, sql: """
                SELECT count(*) FROM (SELECT prompt FROM judgment WHERE version_id = ? GROUP BY prompt HAVING count(score) = 2)
                """, arguments: [result.version.id]) }
            #expect(metrics["decided"]?.value == bothParsed.map(Double.init) && metrics["items"]?.value == 4)
            let rates = ["win", "tie", "loss"].compactMap { metrics[$0]?.value }
            #expect(rates.count == 3 && abs(rates.reduce(0, +) - 1) < 1e-12)
            #expect(metrics["lc_win_rate"]?.value != nil && metrics["consistency"]?.value != nil)
            let judge = try store.read { try String.fetchOne($0, sql: "SELECT json_extract(config, '$.model') FROM run WHERE id = ?", arguments: [result.runID]) }
            #expect(judge == "M0")
            let h2h = try NamedQuery.run(store, "eval-h2h", experiment: "default").records
            #expect(h2h.count == 1 && h2h.first?.text("kind") == "winrate" && h2h.first?.text("judge") == "M0")
        }
    }
}

@Suite struct JudgeAgreementTests {
    /// Two judges over one candidates version: the query pairs their judgments, correlates the mean scores and counts
    /// the same-prompt candidate pairs both order alike; the second judge's run leaves the round's judgments alone.
    @Test func twoJudgesOnTheSameCandidates() throws {
        let store = try TestSupport.makeStore()
        let candidates = try store.write { db -> DatasetVersion in
            let writer = try VersionWriter(db, experiment: "default", name: "candidates", kind: .candidates, runID: nil)
            for c in 0..<3 {
                try writer.append(["prompt": .text(Blobs.text([.user("q")])), "response": .text(Blobs.text([.assistant("answer \(c)")])),
                                   "model": .text("M1"), "sample_index": .int(Int64(c))])
            }
            return try writer.finish()
        }
        let responses = try StageRows.responses(store, candidates)
        func judge(_ model: String, _ scores: [Double], recordsRound: Bool) throws {
            var config = Judge.Config(round: 2)
            config.model = model
            let run = try RunLifecycle.begin(store, experiment: "default", stage: Judge.name, config: config, inputs: [candidates.id], seed: 0)
            _ = try RunLifecycle.commit(store, experiment: "default", run: run,
                                        to: .init(dataset: Judge.dataset, kind: .judgments, round: recordsRound ? 2 : nil,
                                                  role: recordsRound ? .judgments : nil), stats: [:]) { writer in
                for (item, score) in zip(responses, scores) {
                    try writer.append(["prompt": .blob(item.prompt), "response": .blob(item.response), "judge_model": .text(model),
                                       "sample_index": .int(0), "output": .text("Score: \(Int(score))"), "score": .real(score),
                                       "mode": .text("free")])
                }
            }
        }
        try judge("M2", [5, 3, 1], recordsRound: true)
        let round = try Rounds.version(store, experiment: "default", iteration: 2, role: .judgments)
        try judge("M1", [4, 4, 2], recordsRound: false)
        #expect(try Rounds.version(store, experiment: "default", iteration: 2, role: .judgments)?.id == round?.id)
        let row = try #require(try NamedQuery.run(store, "judge-agreement", experiment: "default").records.first)
        // Pairs (0,1): M2 5>3, M1 4=4 → unlike; (0,2): alike; (1,2): alike → 2 of 3.
        #expect(row.int("candidates") == 3 && row.int("candidate_pairs") == 3)
        #expect(abs((row.double("order_agreement_pct") ?? 0) - 66.7) < 0.05)
        // Pearson of (5,3,1) and (4,4,2): 0.866.
        #expect(abs((row.double("score_r") ?? 0) - 0.866) < 0.0005)
        #expect(Set([row.text("judge_a"), row.text("judge_b")]) == Set(["M1", "M2"]))
    }
}
