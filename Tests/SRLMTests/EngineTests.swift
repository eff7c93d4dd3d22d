import Foundation
import GRDB
import Testing
@testable import SRLMEngines
@testable import SRLMStages
@testable import SRLMStore

/// Every suite that talks to the real llama.cpp server hangs under this one, serialized: two cores are shared by the
/// server and the tests, so one engine at a time.
@Suite(.serialized) enum EngineBacked {}

extension EngineBacked {
    @Suite struct SmallRound {
        /// 6 prompts × 2 candidates × 2 structured judge samples on SmolLM2: every table of the round gets rows.
        @Test func aSmallRoundFillsEveryTable() async throws {
            let store = try TestSupport.makeStore()
            let prompts = try EngineSupport.writePrompts(store)
            let context = StageContext(store: store, quiet: true)
            let session = try ModelSession.open(ModelSpec(gguf: try EngineSupport.modelPath(), parallel: 2, contextPerSlot: 2048))
            var candidatesConfig = GenCandidates.Config(round: 1)
            candidatesConfig.candidates = 2
            candidatesConfig.sampling.maxTokens = 48
            candidatesConfig.prompts = prompts.ref
            let candidates = try await context.perform(GenCandidates(config: candidatesConfig), session: session)
            var judgeConfig = Judge.Config(round: 1)
            judgeConfig.samples = 2
            judgeConfig.structured = true
            let judgments = try await context.perform(Judge(config: judgeConfig), session: session)
            await session.close()
            let pairs = try await context.perform(Pairs(config: Pairs.Config(round: 1)))

            #expect(candidates.version.rowCount == 12)
            #expect(judgments.version.rowCount == 24)
            // Constrained judging always ends with a valid score line.
            let scored = try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM judgment WHERE score IS NOT NULL") }
            #expect(scored == 24)
            // One pair per prompt whose candidates' mean scores differ (the rest are ties), counted from the judgments.
            let untied = try store.read { try Int.fetchOne($0, sql: """
                SELECT count(*) FROM (SELECT prompt FROM (SELECT prompt, response, avg(score) AS s FROM judgment GROUP BY prompt, response)
                                      GROUP BY prompt HAVING max(s) > min(s))
                """) }
            #expect(pairs.version.rowCount == untied)
            let counts = try store.read { db in
                try ["candidate", "judgment", "model_call", "round_member", "run", "template"].map {
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM \($0)") ?? 0
                }
            }
            #expect(counts == [12, 24, 36, 3, 3, 1])
            // Each run recorded the engine's provenance and the judge records its mode.
            let provenance = try store.read { try String.fetchOne($0, sql: "SELECT provenance FROM run WHERE stage = 'judge'") } ?? ""
            #expect(provenance.contains("model_sha256") && provenance.contains("server_version"))
            let modes = try store.read { try String.fetchAll($0, sql: "SELECT DISTINCT mode FROM judgment") }
            #expect(modes == ["structured"])
            // Tokens and finish reasons of candidates are recorded.
            let tokens = try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM candidate WHERE completion_tokens > 0 AND finish_reason IS NOT NULL") }
            #expect(tokens == 12)
            // Rerunning with the same config reuses the finished run.
            let again = try await context.perform(Pairs(config: Pairs.Config(round: 1)))
            #expect(again.reused && again.version.id == pairs.version.id)
        }
    }
}

extension EngineBacked {
    @Suite struct ServerSignals {
        /// Foundation's Process, started from a Swift-concurrency thread, hands the child a signal mask with SIGTERM and
        /// SIGINT blocked; the launcher unblocks them so that `stop()`'s SIGTERM is not lost.
        @Test func launcherAcceptsSIGTERM() async throws {
            let server = try EngineSupport.startServer(parallel: 1, contextPerSlot: 512)
            defer { server.stop() }
            let pid = try #require(server.ready?.pid)
            let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
            let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("SigBlk:") })
            let blocked = try #require(UInt64(line.split(separator: "\t").last!.trimmingCharacters(in: .whitespaces), radix: 16))
            #expect(blocked & (1 << (UInt64(SIGTERM) - 1)) == 0, "SIGTERM blocked: \(line)")
            #expect(blocked & (1 << (UInt64(SIGINT) - 1)) == 0, "SIGINT blocked: \(line)")
        }
    }
}

extension EngineBacked {
    /// Issue 15, item 3's spending caps: `--max-calls` / `--max-total-tokens` stop a stage from sending more; what
    /// it got is journaled, the run records what it sent, and a rerun with a larger budget pays only for the rest.
    @Suite struct CallBudgetTests {
        @Test func aBudgetStopsAStageAndARerunPaysOnlyForTheRest() async throws {
            let store = try TestSupport.makeStore()
            let prompts = try EngineSupport.writePrompts(store, count: 6)
            var config = GenCandidates.Config(round: 1)
            config.candidates = 2
            config.sampling.maxTokens = 24
            config.prompts = prompts.ref
            let session = try ModelSession.open(ModelSpec(gguf: try EngineSupport.modelPath(), parallel: 2, contextPerSlot: 2048))
            let capped = StageContext(store: store, quiet: true, budget: CallBudget(maxCalls: 3))
            let error = await #expect(throws: SRLMError.self) { try await capped.perform(GenCandidates(config: config), session: session) }
            guard case let .budgetSpent(_, unsent, total, calls, _)? = error else {
                await session.close()
                Issue.record("not budgetSpent: \(String(describing: error))")
                return
            }
            #expect(unsent == 9 && total == 12 && calls == 3)
            #expect(try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM model_call WHERE status = 'ok'") } == 3)
            #expect(try store.read { try String.fetchOne($0, sql: "SELECT status FROM run WHERE stage = 'gen-candidates'") } == "failed")

            let enough = StageContext(store: store, quiet: true, budget: CallBudget(maxCalls: 9))
            let done = try await enough.perform(GenCandidates(config: config), session: session)
            #expect(done.version.rowCount == 12 && done.stats["from_journal"] == 3 && done.stats["sent"] == 9 && done.stats["budget_calls"] == 9)
            #expect((done.stats["sent_tokens"] ?? 0) > 0)

            // A token cap stops sending once the answers in hand used it up (calls already in flight finish).
            var judge = Judge.Config(round: 1)
            judge.samples = 1
            judge.sampling.maxTokens = 24
            let tokenCapped = StageContext(store: store, quiet: true, budget: CallBudget(maxTotalTokens: 1))
            await #expect(throws: SRLMError.self) { try await tokenCapped.perform(Judge(config: judge), session: session) }
            await session.close()
            let sent = try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM model_call WHERE srlm_text(request) LIKE '%Score%'") } ?? 0
            #expect(sent >= 1 && sent <= 2, "sent \(sent) judge calls under a 1-token cap with 2 slots")
        }
    }
}

extension EngineBacked {
    /// Issue 15, item 3: `srlm judge --judges self,M0` scores the round's candidates with each judge under its own
    /// name, the union becomes the round's judgments, the agreement query sets the two side by side, and pairs
    /// combine them. (Both judges are SmolLM2 here, so M0's calls come from the journal: same weights, same key.)
    @Suite struct JudgePanelCLITests {
        @Test func severalJudgesScoreUnderTheirOwnNames() throws {
            let store = try TestSupport.makeStore()
            let prompts = try EngineSupport.writePrompts(store, count: 2)
            for arguments in [["gen-candidates", "--round", "1", "--prompts", prompts.ref, "--n", "2", "--max-tokens", "24", "--quiet"],
                              ["judge", "--round", "1", "--judges", "self,M0", "--samples", "1", "--max-tokens", "48", "--structured", "--quiet"],
                              ["pairs", "--round", "1", "--aggregate", "veto"]] {
                let (status, output) = try EngineSupport.srlm(arguments, store: store)
                #expect(status == 0, "\(output)")
            }
            let judges = try store.read { db in
                try String.fetchAll(db, sql: """
                    SELECT DISTINCT judge_model FROM judgment JOIN round_member m ON m.version_id = judgment.version_id AND m.role = 'judgments' ORDER BY 1
                    """)
            }
            #expect(judges.count == 2 && judges.contains("M0"))
            let agreement = try NamedQuery.run(store, "judge-agreement", experiment: "default").records
            #expect(agreement.count == 1 && agreement.first?.double("candidates") == 4)
            let config = try store.read { try String.fetchOne($0, sql: "SELECT config FROM run WHERE stage = 'pairs'") } ?? ""
            #expect(config.contains(#""aggregate":"veto""#))
        }

        /// A third-party judge is any OpenAI-compatible endpoint with its key in an environment variable: here
        /// llama.cpp's own server requiring an API key, as a hosted service does. Without the key the calls are
        /// refused and the error names the variable; with it the judge's scores are stored under the served
        /// model's name, the run records its calls and tokens, and the key is nowhere in the store or the output.
        @Test func aHostedJudgeIsReachedWithItsKeyFromTheEnvironment() throws {
            let key = "sk-srlm-test-" + UUID().uuidString
            let variable = "SRLM_TEST_JUDGE_KEY"
            let serve = TestSupport.packageRoot.appendingPathComponent("engines/serve.py").path
            let server = try EngineSupport.Child(EngineSupport.home.python,
                                                 [serve, "--model", try EngineSupport.modelPath(), "--parallel", "2", "--ctx-per-slot", "2048",
                                                  "--api-key-env", variable], environment: [variable: key])
            defer { server.stop() }
            let url = try #require(server.info["url"] as? String, "\(server.info)") + "/v1"
            let store = try TestSupport.makeStore()
            let prompts = try EngineSupport.writePrompts(store, count: 2)
            let (generated, generation) = try EngineSupport.srlm(["gen-candidates", "--round", "1", "--prompts", prompts.ref, "--n", "2",
                                                                  "--max-tokens", "24", "--quiet"], store: store)
            #expect(generated == 0, "\(generation)")
            let judge = ["judge", "--round", "1", "--judges", "self,\(url)#hosted-judge", "--api-key-env", variable,
                         "--samples", "1", "--max-tokens", "48", "--structured", "--quiet"]
            let (refused, refusal) = try EngineSupport.srlm(judge, store: store, environment: [variable: ""])
            #expect(refused != 0 && refusal.contains("HTTP 401") && refusal.contains("$\(variable) is unset or empty"), "\(refusal)")
            let (wrong, wrongOutput) = try EngineSupport.srlm(judge, store: store, environment: [variable: "sk-not-the-key"])
            #expect(wrong != 0 && wrongOutput.contains("the key in $\(variable) was refused") && !wrongOutput.contains("sk-not-the-key"), "\(wrongOutput)")
            let (status, output) = try EngineSupport.srlm(judge, store: store, environment: [variable: key])
            #expect(status == 0, "\(output)")
            let hosted = try store.read { db in
                try Row.fetchOne(db, sql: """
                    SELECT count(*) AS rows, min(j.score IS NOT NULL) AS parsed FROM judgment j
                    JOIN round_member m ON m.version_id = j.version_id AND m.role = 'judgments' WHERE j.judge_model = 'hosted-judge'
                    """)
            }
            #expect(hosted?["rows"] == 4)
            let stats = try store.read { db in
                try String.fetchOne(db, sql: """
                    SELECT stats FROM run WHERE stage = 'judge' AND status = 'finished' AND config LIKE '%hosted-judge%' ORDER BY id DESC LIMIT 1
                    """)
            } ?? ""
            let numbers = try #require(try JSONSerialization.jsonObject(with: Data(stats.utf8)) as? [String: Any], "\(stats)")
            #expect((numbers["sent"] as? Int) == 4 && ((numbers["completion_tokens"] as? Int) ?? 0) > 0, "\(stats)")
            // The key itself: not in the store file, its WAL, or anything srlm printed.
            for path in [store.path, store.path + "-wal"] where FileManager.default.fileExists(atPath: path) {
                let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
                #expect(bytes.range(of: Data(key.utf8)) == nil, "the key is in \(path)")
            }
            #expect(!(output + refusal + wrongOutput).contains(key))
        }
    }
}
