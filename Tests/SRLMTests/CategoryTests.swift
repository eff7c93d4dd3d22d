import Foundation
import GRDB
import Testing
@testable import SRLMEngines
@testable import SRLMStages
@testable import SRLMEval
import SRLMMetrics
@testable import SRLMStore

/// Issue 15, item 2: prompt categories (rules or the model) as a column of a new prompts version, and a judge that
/// uses each category's rubric.
@Suite struct CategoryTests {
    @Test func rulesByHand() {
        let cases: [(String, PromptCategory)] = [
            ("Write a Python function that reverses a list.", .coding), ("Solve 3x + 2 = 11 for x.", .math),
            ("Write a short poem about rain.", .writing), ("How can I sleep better?", .advice),
            ("Explain why the sky is blue.", .reasoning), ("Who painted the Mona Lisa?", .openQA),
            ("How many legs do three spiders have?", .math)]
        for (text, category) in cases { #expect(PromptCategory.byRules(text) == category, "\(text)") }
        #expect(PromptCategory.parse("Category: open-qa") == .openQA && PromptCategory.parse("nothing") == nil)
    }

    static func storeWithRound() throws -> (Store, DatasetVersion) {
        let store = try TestSupport.makeStore()
        let prompts = try store.write { db -> DatasetVersion in
            let w = try VersionWriter(db, experiment: "default", name: "generated-prompts", kind: .prompts, runID: nil)
            for text in ["Write a Python function that adds two numbers.", "Who wrote Hamlet?", "Solve 2x = 8."] {
                try w.append(["prompt": .text(Blobs.text([.user(text)])), "origin": .text("generated")])
            }
            let version = try w.finish()
            try Rounds.setVersion(db, experiment: "default", iteration: 1, role: .prompts, version: version.id)
            let c = try VersionWriter(db, experiment: "default", name: "candidates", kind: .candidates, runID: nil)
            for text in ["Write a Python function that adds two numbers.", "Who wrote Hamlet?", "Solve 2x = 8."] {
                try c.append(["prompt": .text(Blobs.text([.user(text)])), "response": .text(Blobs.text([.assistant("an answer")])),
                              "model": .text("M1"), "sample_index": .int(0)])
            }
            try Rounds.setVersion(db, experiment: "default", iteration: 1, role: .candidates, version: try c.finish().id)
            return version
        }
        return (store, prompts)
    }

    /// Categorizing writes a new prompts version (the round's now); the uncategorized one keeps its hash.
    @Test func categorizeWritesANewVersionOfThePrompts() async throws {
        let (store, before) = try Self.storeWithRound()
        let result = try await StageContext(store: store, quiet: true).perform(Categorize(config: Categorize.Config(round: 1)))
        #expect(result.version.ref == "generated-prompts@2" && result.version.contentHash != before.contentHash)
        #expect(try Rounds.version(store, experiment: "default", iteration: 1, role: .prompts)?.ref == "generated-prompts@2")
        let categories = try store.read { try String?.fetchAll($0, sql: "SELECT category FROM v_prompts ORDER BY ref, ord") }
        #expect(categories == [nil, nil, nil, "coding", "open-qa", "math"])
        #expect(try store.read { try DatasetVersion.resolve($0, "generated-prompts@1", experiment: "default") }.contentHash == before.contentHash)
        #expect(try Fsck.run(store).ok)
        // Judged rows group by category in the named query.
        try store.write { db in
            let w = try VersionWriter(db, experiment: "default", name: "judgments", kind: .judgments, runID: nil)
            for (text, score) in [("Write a Python function that adds two numbers.", 4.0), ("Who wrote Hamlet?", 2.0), ("Solve 2x = 8.", 5.0)] {
                try w.append(["prompt": .text(Blobs.text([.user(text)])), "response": .text(Blobs.text([.assistant("an answer")])),
                              "judge_model": .text("M1"), "sample_index": .int(0), "output": .text("Score: \(score)"), "score": .real(score),
                              "mode": .text("structured")])
            }
            try Rounds.setVersion(db, experiment: "default", iteration: 1, role: .judgments, version: try w.finish().id)
        }
        let rows = try NamedQuery.run(store, "category-scores", experiment: "default").records
        #expect(rows.map { $0.text("category") ?? "" } == ["coding", "math", "open-qa"])
        #expect(rows.map { $0.double("mean_score") } == [4, 5, 2])
    }

    /// With a rubrics folder, each categorized prompt's candidate is judged with its category's rubric, the others
    /// with the default; every rubric is a versioned template and each judgments row names its own.
    @Test func theJudgePicksEachPromptsRubric() async throws {
        let (store, _) = try Self.storeWithRound()
        let context = StageContext(store: store, quiet: true)
        _ = try await context.perform(Categorize(config: Categorize.Config(round: 1)))
        let folder = TestSupport.temporaryDirectory("rubrics")
        try "Judge the code.\n{{question}}\n{{response}}\nScore: N".write(to: folder.appendingPathComponent("coding.txt"), atomically: true, encoding: .utf8)
        try "Judge the maths.\n{{question}}\n{{response}}\nScore: N".write(to: folder.appendingPathComponent("math.txt"), atomically: true, encoding: .utf8)
        var config = Judge.Config(round: 1)
        config.samples = 2
        let plan = try Judge(config: config, rubricsDirectory: folder.path).plan(context, model: nil)
        #expect(plan.config.rubrics == ["coding": "judge-rubric-coding@1", "math": "judge-rubric-math@1"])
        #expect(plan.work.requests.map(\.templateVersion) == ["judge-rubric-coding@1", "judge-rubric-coding@1", "judge-additive-5@1",
                                                              "judge-additive-5@1", "judge-rubric-math@1", "judge-rubric-math@1"])
        #expect(plan.work.requests[0].messages[0].content.hasPrefix("Judge the code."))
        try "no placeholders".write(to: folder.appendingPathComponent("writing.txt"), atomically: true, encoding: .utf8)
        #expect(throws: SRLMError.self) { try Judge(config: config, rubricsDirectory: folder.path).plan(context, model: nil) }
        try FileManager.default.removeItem(at: folder.appendingPathComponent("writing.txt"))
        try "{{question}} {{response}}".write(to: folder.appendingPathComponent("poetry.txt"), atomically: true, encoding: .utf8)
        #expect(throws: SRLMError.self) { try Judge(config: config, rubricsDirectory: folder.path).plan(context, model: nil) }
    }
}

extension EngineBacked {
    @Suite struct CategorizeEngineTests {
        /// SmolLM2 labels prompts, its answer constrained to the list: every prompt gets a category.
        @Test func theModelLabelsEachPrompt() async throws {
            let (store, _) = try CategoryTests.storeWithRound()
            var config = Categorize.Config(round: 1)
            config.classifier = .model
            let session = try ModelSession.open(ModelSpec(gguf: try EngineSupport.modelPath(), parallel: 2, contextPerSlot: 2048))
            let result = try await StageContext(store: store, quiet: true).perform(Categorize(config: config), session: session)
            await session.close()
            #expect(result.stats["unparsed"] == 0 && result.stats["prompts"] == 3)
            let labels = try store.read { try String.fetchAll($0, sql: "SELECT category FROM v_prompts WHERE category IS NOT NULL") }
            #expect(labels.count == 3 && labels.allSatisfy { PromptCategory(rawValue: $0) != nil })
            print("model categories (SmolLM2): \(labels)")
        }
    }
}

/// Issue 15, item 1: the per-prompt difficulty estimate, stored and usable by `derive --where`.
@Suite struct DifficultyTests {
    @Test func difficultyIsTheCandidatesMeanScoreAndSpread() async throws {
        let (store, before) = try CategoryTests.storeWithRound()
        try store.write { db in
            let w = try VersionWriter(db, experiment: "default", name: "judgments", kind: .judgments, runID: nil)
            // Prompt 0: one candidate scored 4 and 2 (mean 3), another 1 (mean 1) → mean 2, sd 1. Prompt 1: 5 → 5, 0.
            // Prompt 2: unparsed only → no estimate.
            let rows: [(String, String, Double?)] = [("Write a Python function that adds two numbers.", "a", 4), ("Write a Python function that adds two numbers.", "a", 2),
                                                     ("Write a Python function that adds two numbers.", "b", 1), ("Who wrote Hamlet?", "a", 5), ("Solve 2x = 8.", "a", nil)]
            for (k, (prompt, reply, score)) in rows.enumerated() {
                try w.append(["prompt": .text(Blobs.text([.user(prompt)])), "response": .text(Blobs.text([.assistant(reply)])),
                              "judge_model": .text("M1"), "sample_index": .int(Int64(k)), "output": .text("x"),
                              "score": score.map { .real($0) } ?? .null, "parse_error": score == nil ? .text("no score") : .null,
                              "mode": .text("free")])
            }
            try Rounds.setVersion(db, experiment: "default", iteration: 1, role: .judgments, version: try w.finish().id)
        }
        let result = try await StageContext(store: store, quiet: true).perform(Difficulty(config: Difficulty.Config(round: 1)))
        #expect(result.version.ref == "generated-prompts@2" && result.stats["measured"] == 2)
        let values = try store.read { try Row.fetchAll($0, sql: "SELECT difficulty, difficulty_sd FROM v_prompts WHERE ref = 'generated-prompts@2' ORDER BY ord") }
        #expect(values.map { $0[0] as Double? } == [2, 5, nil] && values.map { $0[1] as Double? } == [1, 0, nil])
        let hard = try #require(try Derive.run(store, name: "hard", from: "generated-prompts@2", where: "difficulty < 3").version)
        #expect(hard.rowCount == 1)
        #expect(try store.read { try DatasetVersion.resolve($0, "generated-prompts@1", experiment: "default") }.contentHash == before.contentHash)
        #expect(try Fsck.run(store).ok)
    }
}

/// Issue 15, item 2: `eval judge --by-category` — every figure again within each category.
@Suite struct EvalByCategoryTests {
    @Test func figuresPerCategory() {
        // A judge that ranks coding prompts as people do (human rank 0 best) and open questions backwards.
        func prompt(_ scores: [Double]) -> RankedPrompt {
            RankedPrompt(replies: scores.enumerated().map { RankedReply(humanRank: $0.offset, scores: [$0.element], length: 10) })
        }
        let prompts = [prompt([5, 3, 1]), prompt([4, 2]), prompt([1, 3, 5]), prompt([2, 4])]
        let metrics = EvalJudge.categoryMetrics(prompts, categories: ["coding", "coding", "open-qa", "open-qa"],
                                                bootstrap: BootstrapOptions(resamples: 50))
        let byName = Dictionary(uniqueKeysWithValues: metrics.map { ($0.metric, $0) })
        #expect(byName["pairwiseAccuracy@coding"]?.value == 1 && byName["pairwiseAccuracy@coding"]?.n == 4)
        #expect(byName["pairwiseAccuracy@open-qa"]?.value == 0)
        #expect(!metrics.contains { $0.metric.hasPrefix("random.") })
        #expect(EvalJudge.categoryMetrics(prompts, categories: [], bootstrap: BootstrapOptions(resamples: 50)).isEmpty)
    }

    /// The plan gives each ranked prompt its category: the stored one first, else the keyword rules.
    @Test func thePlanCategorizesTheRankedPrompts() throws {
        let store = try TestSupport.makeStore()
        try store.write { db in
            let w = try VersionWriter(db, experiment: "default", name: "ranked", kind: .ranked, runID: nil)
            for question in ["Write a Python function that sorts a list.", "Who was the first emperor of Rome?"] {
                for rank in 0..<2 {
                    try w.append(["prompt": .text(Blobs.text([.user(question)])), "reply": .text(Blobs.text([.assistant("reply \(rank)")])),
                                  "human_rank": .int(Int64(rank))])
                }
            }
            _ = try w.finish()
        }
        var config = EvalJudge.Config()
        config.byCategory = true
        let plan = try EvalJudge(config: config).plan(StageContext(store: store, quiet: true), model: nil)
        #expect(plan.work.categories == ["coding", "open-qa"])
        config.byCategory = nil
        #expect(try EvalJudge(config: config).plan(StageContext(store: store, quiet: true), model: nil).work.categories.isEmpty)
    }
}
