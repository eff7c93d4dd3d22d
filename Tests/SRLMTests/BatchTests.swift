import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GRDB
import Testing
@testable import SRLMEngines
@testable import SRLMStages
@testable import SRLMStore

extension EngineBacked {
    /// The batch path end to end through the srlm binary: export the pending calls, answer them with the real llama.cpp
    /// server as a batch runner would, import the results, and finish the stage with no server.
    @Suite struct BatchFiles {
        /// Plays vLLM's run_batch: sends each line's body to the server, writes OpenAI Batch output lines.
        static func answer(_ batch: String, server: LocalServer, failLast: Bool = false) throws -> String {
            let lines = try String(contentsOfFile: batch, encoding: .utf8).split(separator: "\n")
            var out: [String] = []
            for (i, line) in lines.enumerated() {
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
                let id = object["custom_id"] as! String
                if failLast && i == lines.count - 1 {
                    out.append(#"{"custom_id":"\#(id)","response":{"status_code":500,"body":{}},"error":{"message":"boom"}}"#)
                    continue
                }
                var request = URLRequest(url: URL(string: server.ready!.url + (object["url"] as! String))!)
                request.httpMethod = "POST"
                request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                request.httpBody = try JSONSerialization.data(withJSONObject: object["body"]!)
                let body = try TestSupport.fetch(request)
                let result: [String: Any] = ["id": "batch_req_\(i)", "custom_id": id,
                                             "response": ["status_code": 200, "body": try JSONSerialization.jsonObject(with: body)],
                                             "error": NSNull()]
                out.append(String(decoding: try JSONSerialization.data(withJSONObject: result), as: UTF8.self))
            }
            let path = batch + ".results"
            try out.joined(separator: "\n").appending("\n").write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        @Test func exportAnswerImportThenTheStageRunsOffline() throws {
            let store = try TestSupport.makeStore()
            _ = try EngineSupport.writePrompts(store, count: 3)
            let dir = TestSupport.temporaryDirectory("batch")
            let stageArgs = ["--round", "1", "--prompts", "questions", "--n", "2", "--max-tokens", "24", "--weights-id", "smollm2-q4"]
            let server = try EngineSupport.startServer()
            defer { server.stop() }

            let first = dir.appendingPathComponent("calls.jsonl").path
            var (status, output) = try EngineSupport.srlm(["batch", "export", "--stage", "gen-candidates", "--out", first] + stageArgs, store: store)
            #expect(status == 0, "\(output)")
            #expect(output.contains("wrote 6 calls"))
            let pending = try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM model_call WHERE status = 'pending'") }
            #expect(pending == 6)

            // A results file naming a request srlm never exported is refused, naming the line; nothing changes.
            let stray = dir.appendingPathComponent("stray.jsonl").path
            try (#"{"custom_id":"\#(String(repeating: "ab", count: 32))","response":{"status_code":200,"body":{}}}"# + "\n")
                .write(toFile: stray, atomically: true, encoding: .utf8)
            (status, output) = try EngineSupport.srlm(["batch", "import", stray], store: store)
            #expect(status != 0 && output.contains("stray.jsonl:1") && output.contains("custom_id"), "\(output)")

            // One call fails in the batch: the offline stage stops and says so.
            (status, output) = try EngineSupport.srlm(["batch", "import", try Self.answer(first, server: server, failLast: true)], store: store)
            #expect(status == 0 && output.contains("5 answers imported, 1 failed"), "\(output)")
            (status, output) = try EngineSupport.srlm(["gen-candidates", "--offline", "--quiet"] + stageArgs, store: store)
            #expect(status != 0 && output.contains("1 of 6 candidate calls failed"), "\(output)")

            // The next export holds only the failed call; once answered, the stage completes without a server.
            let second = dir.appendingPathComponent("calls2.jsonl").path
            (status, output) = try EngineSupport.srlm(["batch", "export", "--stage", "gen-candidates", "--out", second] + stageArgs, store: store)
            #expect(output.contains("wrote 1 calls") && output.contains("5 already answered"), "\(output)")
            (status, output) = try EngineSupport.srlm(["batch", "import", try Self.answer(second, server: server)], store: store)
            #expect(status == 0, "\(output)")
            (status, output) = try EngineSupport.srlm(["gen-candidates", "--offline", "--quiet"] + stageArgs, store: store)
            #expect(status == 0 && output.contains("candidates@1 (6 rows"), "\(output)")
            let keys = try store.read { try String.fetchAll($0, sql: "SELECT DISTINCT model_key FROM model_call") }
            #expect(keys == ["smollm2-q4"])
        }
    }
}
