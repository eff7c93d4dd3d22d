import Foundation
import GRDB
import Testing
@testable import SRLMEngines
@testable import SRLMImport
@testable import SRLMStages
@testable import SRLMStore

extension EngineBacked {
    @Suite struct GenPromptsRound {
        /// 8-shot self-instruct on SmolLM2 with the OASST IFT prompts as seeds and AlpacaEval as the evaluation set.
        @Test func selfInstructPromptsAreFilteredRecordedAndReproducible() async throws {
            let store = try TestSupport.makeStore()
            for experiment in ["default", "replay"] {
                _ = try Importer.run(store, ImportOptions(target: .ift, path: TestSupport.sharedData("oasst/en_trees_60.jsonl"),
                                                          format: .oasst, experiment: experiment))
                _ = try Importer.run(store, ImportOptions(target: .prompts, path: TestSupport.sharedData("alpaca-eval/gpt4_1106_preview_model_outputs.json"),
                                                          format: .alpacaEval, name: "alpaca-eval", experiment: experiment))
            }
            var config = GenPrompts.Config(round: 1, count: 3)
            config.sampling.maxTokens = 48
            config.batch = 4
            config.maxAttempts = 12
            config.decontaminate = ["alpaca-eval"]
            let stage = GenPrompts(config: config)
            let spec = ModelSpec(gguf: try EngineSupport.modelPath(), parallel: 2, contextPerSlot: 2048)
            let (first, again) = try await ModelSession.with(spec) { session in
                let first = try await StageContext(store: store, quiet: true).perform(stage, session: session)
                // The same stage in another experiment rebuilds the same requests: every answer comes from the journal.
                let again = try await StageContext(store: store, experiment: "replay", quiet: true).perform(stage, session: session)
                return (first, again)
            }

            let accepted = try store.read { db in
                try String.fetchAll(db, sql: "SELECT prompt_text FROM v_prompts WHERE version_id = ? ORDER BY ord", arguments: [first.version.id])
            }
            let replayed = try store.read { db in
                try String.fetchAll(db, sql: "SELECT prompt_text FROM v_prompts WHERE version_id = ? ORDER BY ord", arguments: [again.version.id])
            }
            #expect(accepted == replayed)
            #expect(first.version.ref == "generated-prompts@1")
            let stats = try store.read { db in
                try String.fetchAll(db, sql: "SELECT stats FROM run WHERE stage = 'gen-prompts' ORDER BY id")
            }.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
            #expect(stats.count == 2)
            #expect(stats[0]["calls"] as? Int == stats[0]["attempts"] as? Int)
            #expect((stats[0]["from_journal"] as? Int) == 0)
            #expect(stats[1]["from_journal"] as? Int == stats[1]["calls"] as? Int)
            #expect(stats[0]["accepted"] as? Int == accepted.count)
            // Every rejection is recorded with a known reason; accepted and rejected never exceed the answers.
            let reasons = try store.read { db in
                try String.fetchAll(db, sql: "SELECT reason FROM v_prompt_rejections WHERE run_id = ?", arguments: [first.runID])
            }
            let known = Set(RejectReason.allCases.map(\.rawValue) + ["unparsable"])
            #expect(reasons.allSatisfy(known.contains))
            #expect(reasons.count == stats[0]["rejected"] as? Int)
            #expect(accepted.count + reasons.count <= (stats[0]["calls"] as? Int ?? 0))
            // What was accepted passes the filter against the seeds and the evaluation set.
            let seeds = try StageRows.promptTexts(store, try StageContext(store: store).version("ift"))
            let evaluation = try StageRows.promptTexts(store, try StageContext(store: store).version("alpaca-eval"))
            let filter = PromptFilter(config: PromptFilterConfig(), existing: seeds, evaluationSets: evaluation)
            for prompt in accepted { #expect(filter.check(prompt).accepted, "\(prompt)") }
            // The rows say where they came from, and the round records them.
            let origins = try store.read { db in
                try Row.fetchAll(db, sql: "SELECT DISTINCT origin, source_run_id FROM prompt WHERE version_id = ?", arguments: [first.version.id])
            }
            if !accepted.isEmpty { #expect(origins.map { [$0[0] as String, String($0[1] as Int64)] } == [["generated", String(first.runID)]]) }
            let roundPrompts = try store.read { try Rounds.version($0, experiment: "default", iteration: 1, role: .prompts) }
            #expect(roundPrompts?.id == first.version.id)
        }
    }
}

@Suite struct GenPromptsUnitTests {
    /// The 8-shot prompt: 6 seeds, then 2 generated ones once there are any; seeds fill in before that.
    @Test func shotsAndPrompt() {
        let seeds = (0..<20).map { "seed task \($0)" }
        var config = GenPrompts.Config(round: 1, count: 1)
        config.sampling.seed = 7
        let early = GenPrompts.shots(config: config, attempt: 0, seeds: seeds, generated: [])
        #expect(early.count == 8 && Set(early).count == 8 && early.allSatisfy(seeds.contains))
        let later = GenPrompts.shots(config: config, attempt: 0, seeds: seeds, generated: ["gen a", "gen b", "gen c"])
        #expect(later.count == 8 && later.prefix(6).allSatisfy(seeds.contains) && later.suffix(2).allSatisfy { $0.hasPrefix("gen") })
        #expect(GenPrompts.shots(config: config, attempt: 3, seeds: seeds, generated: []) == GenPrompts.shots(config: config, attempt: 3, seeds: seeds, generated: []))
        #expect(GenPrompts.shots(config: config, attempt: 3, seeds: seeds, generated: []) != early)
        let prompt = GenPrompts.prompt(header: config.header, shots: ["Say  hi.\nNow", "Count to 3."])
        #expect(prompt.last?.content == "Come up with a series of tasks:\n\nTask 1: Say hi. Now\nTask 2: Count to 3.\nTask 3:")
    }
}
