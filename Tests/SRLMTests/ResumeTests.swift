import Foundation
import GRDB
import Testing
@testable import SRLMEngines
@testable import SRLMStages
@testable import SRLMStore

extension EngineBacked {
    @Suite struct Resume {
        static func candidateArgs(weights: String) -> [String] {
            ["gen-candidates", "--round", "1", "--prompts", "questions@1", "--n", "2", "--max-tokens", "40",
             "--concurrency", "2", "--weights-id", weights, "--quiet"]
        }

        /// (last message, seed) of every journaled answer: the proxy logs the same pair for each request it sees.
        static func journaledKeys(_ store: Store) throws -> Set<String> {
            try store.read { db in
                let requests = try Data.fetchAll(db, sql: "SELECT srlm_blob(request) FROM model_call WHERE status = 'ok'")
                return Set(try requests.map { data in
                    let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
                    let request = object["request"] as! [String: Any]
                    let messages = request["messages"] as! [[String: Any]]
                    return "\(messages.last!["content"] as! String)|\(request["seed"] as! Int)"
                })
            }
        }

        /// SIGKILL in the middle of gen-candidates, then a rerun: exactly the rows of an uninterrupted run, and no
        /// request answered before the kill is sent again.
        @Test func killedStageResumesFromTheJournal() async throws {
            let server = try EngineSupport.startServer(parallel: 2)
            defer { server.stop() }
            let ready = try #require(server.ready)
            let args = Self.candidateArgs(weights: "sha256:" + ready.model_sha256)

            let reference = try TestSupport.makeStore("reference")
            _ = try EngineSupport.writePrompts(reference)
            let (status, output) = try EngineSupport.srlm(args + ["--endpoint", ready.url], store: reference)
            #expect(status == 0, "\(output)")

            let store = try TestSupport.makeStore("interrupted")
            _ = try EngineSupport.writePrompts(store)
            let (proxy, proxyURL, log) = try EngineSupport.startProxy(upstream: ready.url)
            defer { proxy.stop() }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: EngineSupport.srlmBinary)
            process.arguments = args + ["--endpoint", proxyURL, "--store", store.path]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let deadline = Date().addingTimeInterval(120)
            while EngineSupport.proxyLog(log).filter({ $0["status"] as? Int == 200 }).count < 4 && Date() < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let killedAt = Date().timeIntervalSince1970
            let journaled = try Self.journaledKeys(store)
            #expect(journaled.count >= 1 && journaled.count < 12, "killed after \(journaled.count) answers")
            #expect(try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM candidate") } == 0)

            let (again, againOutput) = try EngineSupport.srlm(args + ["--endpoint", proxyURL], store: store)
            #expect(again == 0, "\(againOutput)")
            let resent = EngineSupport.proxyLog(log).filter { ($0["time"] as? Double ?? 0) > killedAt }
                .map { "\($0["last"] as? String ?? "")|\($0["seed"] as? Int ?? -1)" }
            // Every call the journal lacked was asked once more; the killed process's (at most 2) calls in flight may
            // log after the kill too.
            #expect(Set(resent).count == 12 - journaled.count)
            #expect(resent.count <= 12 - journaled.count + 2)
            #expect(Set(resent).isDisjoint(with: journaled), "journaled requests were sent again")
            let hashes = try [reference, store].map { s in
                try s.read { try DatasetVersion.resolve($0, "candidates", experiment: "default").contentHash }
            }
            #expect(hashes[0] == hashes[1])
        }

        /// A stage that started its own server leaves no orphan when srlm is killed.
        @Test func killingSrlmStopsItsServer() async throws {
            let store = try TestSupport.makeStore()
            _ = try EngineSupport.writePrompts(store)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: EngineSupport.srlmBinary)
            process.arguments = ["gen-candidates", "--round", "1", "--prompts", "questions@1", "--n", "2", "--max-tokens", "40",
                                 "--model", try EngineSupport.modelPath(), "--parallel", "2", "--quiet", "--store", store.path]
            process.environment = ProcessInfo.processInfo.environment.merging(["SRLM_HOME": TestSupport.packageRoot.path]) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            var child: Int32?
            let deadline = Date().addingTimeInterval(60)
            while child == nil && Date() < deadline {
                child = Self.children(of: process.processIdentifier).first
                try await Task.sleep(for: .milliseconds(100))
            }
            let server = try #require(child, "srlm started no server process")
            // Let it answer something, then kill srlm outright.
            while (try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM model_call") } ?? 0) < 1 && Date() < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let gone = Date().addingTimeInterval(10)
            while Self.alive(server) && Date() < gone { try await Task.sleep(for: .milliseconds(100)) }
            #expect(!Self.alive(server), "the llama.cpp server outlived srlm")
        }

        static func children(of pid: Int32) -> [Int32] {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return entries.compactMap(Int32.init).filter { candidate in
                guard let stat = try? String(contentsOfFile: "/proc/\(candidate)/stat", encoding: .utf8),
                      let close = stat.lastIndex(of: ")") else { return false }
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                return fields.count > 2 && Int32(fields[1]) == pid
            }
        }

        static func alive(_ pid: Int32) -> Bool {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            // A zombie has exited; only its parent has not reaped it yet.
            return stat[stat.index(after: close)...].split(separator: " ").first != "Z"
        }
    }

    @Suite struct Faults {
        static func run(mode: String, extra: [String] = [], policy: RetryPolicy) async throws -> (Store, Result<StageResult, Error>, [[String: Any]]) {
            try await EngineSupport.genCandidatesThroughProxy(mode: mode, extra: extra, policy: policy, prompts: 2, candidates: 1, maxTokens: 16)
        }

        @Test func serverErrorsAreRetried() async throws {
            let (store, result, log) = try await Self.run(mode: "fail500", extra: ["--failures", "2"],
                                                          policy: RetryPolicy(maxAttempts: 4, baseDelay: 0.05, timeout: 60))
            let stage = try result.get()
            #expect(stage.version.rowCount == 2)
            #expect(log.filter { $0["status"] as? Int == 500 }.count == 4)
            let attempts = try store.read { try Int.fetchAll($0, sql: "SELECT attempts FROM model_call WHERE status = 'ok'") }
            #expect(attempts == [3, 3])
        }

        @Test func garbageAnswersBecomeRecordedFailures() async throws {
            let (store, result, log) = try await Self.run(mode: "garbage", policy: RetryPolicy(maxAttempts: 2, baseDelay: 0.05, timeout: 60))
            guard case .failure(let error) = result else { Issue.record("garbage was accepted"); return }
            #expect("\(error)".contains("failed"))
            #expect(log.count == 4)
            let failed = try store.read { try Row.fetchAll($0, sql: "SELECT status, error, attempts FROM model_call") }
            #expect(failed.count == 2 && failed.allSatisfy { $0["status"] == "failed" && ($0["error"] as String).contains("malformed") })
            #expect(try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM candidate") } == 0)
            #expect(try store.read { try String.fetchOne($0, sql: "SELECT status FROM run WHERE stage = 'gen-candidates'") } == "failed")
        }

        @Test func slowAnswersTimeOutAndFail() async throws {
            let (store, result, _) = try await Self.run(mode: "slow", extra: ["--delay", "3"],
                                                        policy: RetryPolicy(maxAttempts: 2, baseDelay: 0.05, timeout: 1))
            guard case .failure = result else { Issue.record("a slow server produced rows"); return }
            let errors = try store.read { try String.fetchAll($0, sql: "SELECT error FROM model_call") }
            #expect(errors.count == 2 && errors.allSatisfy { $0.contains("timed out") })
        }
    }
}
