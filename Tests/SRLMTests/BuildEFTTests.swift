import Foundation
import GRDB
import Testing
@testable import SRLMEngines
@testable import SRLMImport
@testable import SRLMStages
@testable import SRLMStore

/// OASST ranked replies as EFT data. IFT and ranked data come from the same shared trees, so these tests split them:
/// IFT from the first trees' prompts, ranked replies from the rest.
enum EFTFixture {
    static func store() throws -> Store {
        let store = try TestSupport.makeStore()
        let path = TestSupport.sharedData("oasst/en_trees_60.jsonl")
        _ = try Importer.run(store, ImportOptions(target: .ift, path: path, format: .oasst, name: "all-ift"))
        _ = try Importer.run(store, ImportOptions(target: .ranked, path: path, format: .oasst))
        _ = try Derive.run(store, name: "ift", from: "all-ift", where: "ord < 10")
        return store
    }
}

@Suite struct BuildEFTTests {
    @Test func humanTargetsFromRanksLeaveOutIFTPromptsAndSplitByPrompt() async throws {
        let store = try EFTFixture.store()
        var config = BuildEFT.Config()
        config.targets = .human
        let result = try await StageContext(store: store, quiet: true).perform(BuildEFT(config: config))
        let rows = try store.read { db in
            try Row.fetchAll(db, sql: "SELECT question, split, score, human_rank, target_origin FROM eft_example WHERE version_id = ?",
                             arguments: [result.version.id])
        }
        let iftPrompts = try store.read { try Set(BlobID.fetchAll($0, sql: "SELECT prompt FROM ift_example JOIN v_versions USING (version_id) WHERE ref = 'ift@1'")) }
        #expect(!rows.isEmpty && iftPrompts.count == 10)
        #expect(rows.allSatisfy { !iftPrompts.contains($0["question"] as BlobID) })
        #expect(rows.allSatisfy { ($0["score"] as Double) == Double(max(1, 5 - ($0["human_rank"] as Int))) && ($0["target_origin"] as String) == "human" })
        // No prompt is in both splits, and about a quarter of the prompts are held out.
        let splits = Dictionary(grouping: rows, by: { $0["question"] as BlobID }).mapValues { Set($0.map { $0["split"] as String }) }
        #expect(splits.values.allSatisfy { $0.count == 1 })
        let evalShare = Double(splits.values.filter { $0 == ["eval"] }.count) / Double(splits.count)
        #expect(evalShare > 0.15 && evalShare < 0.35)
        // Dropped rows are counted with their reason, and the round records the version for M0 → M1.
        let stats = try store.read { try String.fetchOne($0, sql: "SELECT stats FROM run WHERE id = ?", arguments: [result.runID]) } ?? ""
        #expect(stats.contains("prompt_in_ift"))
        #expect(try store.read { try Rounds.version($0, experiment: "default", iteration: 0, role: .eft) }?.id == result.version.id)
        // Targets are judge outputs in form: a rationale, then a score line the parser reads back.
        let texts = try store.read { try String.fetchAll($0, sql: "SELECT response_text FROM v_eft WHERE version_id = ?", arguments: [result.version.id]) }
        #expect(texts.allSatisfy { ScoreParser.parse($0).score != nil })
    }

    @Test func rebalancingDownSamplesTheMostCommonScore() {
        let reply = BuildEFT.Reply(prompt: 1, reply: 2, rank: 0, question: [], answer: "")
        func example(_ score: Double) -> BuildEFT.Example { .init(reply: reply, judgePrompt: [], output: "", score: score) }
        let examples = Array(repeating: example(4), count: 10) + Array(repeating: example(3), count: 4) + [example(5)]
        var dropped: [String: Int] = [:]
        let kept = BuildEFT.rebalanced(examples, seed: 1, dropped: &dropped)
        #expect(kept.filter { $0.score == 4 }.count == 4)
        #expect(kept.count == 9)
        #expect(dropped == ["rebalanced_score_4": 6])
    }
}

extension EngineBacked {
    @Suite struct BuildEFTJudged {
        /// SmolLM2 judges a few prompts' ranked replies with constrained output; only prompts whose scores strictly
        /// fall with human rank are kept.
        @Test func structuredJudgingKeepsOnlyAgreeingPrompts() async throws {
            let store = try EFTFixture.store()
            _ = try Derive.run(store, name: "few", from: "ranked", where: "ord >= 176")  // the last trees: not in IFT
            var config = BuildEFT.Config()
            config.targets = .structured
            config.ranked = "few"
            config.sampling.maxTokens = 96
            let result = try await ModelSession.with(ModelSpec(gguf: try EngineSupport.modelPath(), parallel: 2, contextPerSlot: 2048)) {
                try await StageContext(store: store, quiet: true).perform(BuildEFT(config: config), session: $0)
            }
            let judged = try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM model_call WHERE status = 'ok'") } ?? 0
            let stats = try store.read { try String.fetchOne($0, sql: "SELECT stats FROM run WHERE id = ?", arguments: [result.runID]) } ?? ""
            let object = try JSONSerialization.jsonObject(with: Data(stats.utf8)) as! [String: Any]
            let dropped = (object["dropped"] as? [String: Int] ?? [:]).values.reduce(0, +)
            // Every ranked reply of "few" outside IFT was judged once; each is kept or dropped with a reason.
            let candidates = try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM ranked_reply JOIN v_versions USING (version_id) WHERE ref = 'few@1'") } ?? 0
            #expect(result.version.rowCount + dropped == candidates)
            #expect(judged <= candidates && judged > 0)
            let rows = try store.read { db in
                try Row.fetchAll(db, sql: "SELECT question, score, human_rank FROM eft_example WHERE version_id = ? ORDER BY question, human_rank",
                                 arguments: [result.version.id])
            }
            for group in Dictionary(grouping: rows, by: { $0["question"] as BlobID }).values {
                let scores = group.sorted { ($0["human_rank"] as Int) < ($1["human_rank"] as Int) }.map { $0["score"] as Double }
                #expect(zip(scores, scores.dropFirst()).allSatisfy { $0 > $1 })
            }
            #expect(try store.read { try String.fetchAll($0, sql: "SELECT DISTINCT target_origin FROM eft_example") }.allSatisfy { $0 == "structured" })
        }
    }
}
