import Foundation
import GRDB
import Testing
@testable import SRLMEngines
@testable import SRLMEval
@testable import SRLMImport
@testable import SRLMStages
@testable import SRLMStore

extension EngineBacked {
    @Suite struct JudgeProbeRuns {
        /// SmolLM2 judges the project's probe set free-form: one judgment per row, the parse rate counted from the
        /// stored rows, and a rerun reuses the finished run.
        @Test func probeCountsParsedJudgmentsAndIsReused() async throws {
            let store = try TestSupport.makeStore()
            _ = try Importer.run(store, ImportOptions(target: .ift, path: TestSupport.packageRoot.appendingPathComponent("datasets/probe.jsonl").path,
                                                      format: .trl, name: "probe"))
            var config = JudgeProbe.Config()
            config.sampling.maxTokens = 48
            let probe = JudgeProbe(config: config)
            let context = StageContext(store: store, quiet: true)
            let (first, again) = try await ModelSession.with(ModelSpec(gguf: try EngineSupport.modelPath(), parallel: 2, contextPerSlot: 2048)) {
                session in (try await context.perform(probe, session: session), try await context.perform(probe, session: session))
            }
            #expect(first.stats["judged"] == 12 && first.version.rowCount == 12 && !first.reused)
            let scored = try store.read {
                try Int.fetchOne($0, sql: "SELECT count(score) FROM judgment WHERE version_id = ? AND mode = 'free'", arguments: [first.version.id])
            }
            #expect(first.stats["parsed"].map { Int($0) } == scored)
            #expect(again.reused && again.version.id == first.version.id && again.stats["parsed"] == first.stats["parsed"])
            let stats = try store.read { try String.fetchOne($0, sql: "SELECT stats FROM run WHERE stage = 'judge-probe'") } ?? ""
            #expect(stats.contains("\"judged\":12"))
        }
    }
}
