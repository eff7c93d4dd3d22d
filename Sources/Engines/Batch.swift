import Foundation
import GRDB
import SRLMStore

/// Offline inference through batch files. `export` writes a stage's unanswered requests as OpenAI Batch JSONL (what
/// the OpenAI Batch API and vLLM's `run_batch` read) and notes them in the journal as pending; `importResults` reads
/// the results file back into the journal, so the stage then completes with no server (`--offline`).
/// Each line's custom_id is the request's journal hash.
public enum Batch {
    public struct ExportSummary: Sendable {
        public let written: Int
        public let alreadyAnswered: Int
    }

    public static func export(_ store: Store, requests: [ChatRequest], modelKey: String, endpoint: Endpoint,
                              to path: String) throws -> ExportSummary {
        let journal = Journal(store: store)
        let answered = try journal.answered(requests.map { $0.hash(modelKey: modelKey) })
        var lines = Data()
        var pending: [ChatRequest] = []
        var seen = Set<ContentHash>()
        for request in requests {
            let hash = request.hash(modelKey: modelKey)
            guard !answered.contains(hash), seen.insert(hash).inserted else { continue }
            let body = try JSONSerialization.jsonObject(with: endpoint.body(for: request))
            let line: [String: Any] = ["custom_id": hash.hex, "method": "POST", "url": "/v1/chat/completions", "body": body]
            lines.append(try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys, .withoutEscapingSlashes]))
            lines.append(0x0a)
            pending.append(request)
        }
        try store.write { db in
            for request in pending { try Journal.recordPending(db, request, modelKey: modelKey) }
        }
        try lines.write(to: URL(fileURLWithPath: path), options: .atomic)
        return ExportSummary(written: pending.count, alreadyAnswered: answered.count)
    }

    public struct ImportSummary: Sendable {
        public let answered: Int
        public let failed: Int
    }

    /// Reads an OpenAI Batch output file: `{"custom_id", "response": {"status_code", "body"}, "error"}` per line.
    /// All or nothing: a line that is not such a result, or names no exported request, fails the import and names
    /// the line.
    public static func importResults(_ store: Store, path: String) throws -> ImportSummary {
        guard let data = FileManager.default.contents(atPath: path) else { throw SRLMError.notFound("\(path): cannot read the file") }
        return try store.write { db in
            var answered = 0, failed = 0
            for (n, raw) in data.split(separator: 0x0a, omittingEmptySubsequences: false).enumerated() where !raw.isEmpty {
                let line = n + 1
                func bad(_ why: String) -> SRLMError { .invalid("\(path):\(line): \(why)") }
                guard let object = try? JSONSerialization.jsonObject(with: Data(raw)) as? [String: Any] else { throw bad("not a JSON object") }
                guard let id = object["custom_id"] as? String, let hash = ContentHash(hex: id) else {
                    throw bad("field custom_id: missing or not a request hash")
                }
                guard try Journal.isKnown(db, hash) else {
                    throw bad("field custom_id: \(hash.short) is not a request srlm exported to this store")
                }
                let response = object["response"] as? [String: Any]
                let status = response?["status_code"] as? Int
                if status == 200, let body = response?["body"],
                   let bodyData = try? JSONSerialization.data(withJSONObject: body),
                   let answer = ChatClient.parse(bodyData, latencyMs: 0) {
                    try Journal.recordBatchAnswer(db, hash, answer)
                    answered += 1
                } else {
                    let error = (object["error"] as? [String: Any])?["message"] as? String
                        ?? status.map { "status \($0)" } ?? "no response"
                    try Journal.recordBatchFailure(db, hash, error)
                    failed += 1
                }
            }
            if answered + failed == 0 { throw SRLMError.invalid("\(path): no results") }
            return ImportSummary(answered: answered, failed: failed)
        }
    }
}
