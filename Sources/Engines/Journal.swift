import Foundation
import GRDB
import SRLMStore

/// The store's journal of model calls. The invariant: an answer already stored is never requested again, and an
/// answer is reused only for the identical request (same hash) to the identical model weights.
public struct Journal: Sendable {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    /// The stored answer for this request hash, if a call succeeded before.
    public func answer(_ hash: ContentHash) throws -> ChatResponse? {
        try store.read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT response, finish_reason, prompt_tokens, completion_tokens, latency_ms
                FROM model_call WHERE request_hash = ? AND status = 'ok'
                """, arguments: [hash.bytes]) else { return nil }
            let text = try BlobReader.text(db, row["response"] as BlobID)
            return ChatResponse(text: text, finishReason: row["finish_reason"], promptTokens: row["prompt_tokens"],
                                completionTokens: row["completion_tokens"], latencyMs: row["latency_ms"] ?? 0,
                                fromJournal: true)
        }
    }

    /// Hashes among `hashes` that already have an answer.
    public func answered(_ hashes: [ContentHash]) throws -> Set<ContentHash> {
        try store.read { db in
            var found = Set<ContentHash>()
            let statement = try db.cachedStatement(sql: "SELECT 1 FROM model_call WHERE request_hash = ? AND status = 'ok'")
            for hash in hashes where try Bool.fetchOne(statement, arguments: [hash.bytes]) == true {
                found.insert(hash)
            }
            return found
        }
    }

    /// Records an answer (committed at once, so a killed stage does not ask again).
    public func record(_ request: ChatRequest, modelKey: String, response: ChatResponse, attempts: Int, runID: Int64?) async throws {
        try await store.pool.write { db in
            let blobs = try BlobWriter.in(db)
            let requestBlob = try blobs.put(request.canonical(modelKey: modelKey))
            let responseBlob = try blobs.put(response.text)
            try blobs.flush()
            try db.execute(sql: """
                INSERT OR REPLACE INTO model_call(request_hash, model_key, request, response, status, error, finish_reason,
                    prompt_tokens, completion_tokens, latency_ms, attempts, run_id)
                VALUES (?, ?, ?, ?, 'ok', NULL, ?, ?, ?, ?, ?, ?)
                """, arguments: [request.hash(modelKey: modelKey).bytes, modelKey, requestBlob, responseBlob,
                                 response.finishReason, response.promptTokens, response.completionTokens,
                                 response.latencyMs, attempts, runID])
        }
    }

    /// Records a failure: kept for the record, retried by the next run (only answers are final).
    public func recordFailure(_ request: ChatRequest, modelKey: String, failure: CallFailure, runID: Int64?) async throws {
        try await store.pool.write { db in
            let blobs = try BlobWriter.in(db)
            let requestBlob = try blobs.put(request.canonical(modelKey: modelKey))
            try blobs.flush()
            try db.execute(sql: """
                INSERT OR REPLACE INTO model_call(request_hash, model_key, request, response, status, error, attempts, run_id)
                VALUES (?, ?, ?, NULL, 'failed', ?, ?, ?)
                """, arguments: [request.hash(modelKey: modelKey).bytes, modelKey, requestBlob,
                                 failure.message, failure.attempts, runID])
        }
    }
}

/// Batch files: requests sent offline wait in the journal as `pending` until their results are imported.
extension Journal {
    public static func recordPending(_ db: Database, _ request: ChatRequest, modelKey: String) throws {
        let blobs = try BlobWriter.in(db)
        let requestBlob = try blobs.put(request.canonical(modelKey: modelKey))
        try blobs.flush()
        try db.execute(sql: """
            INSERT INTO model_call(request_hash, model_key, request, status) VALUES (?, ?, ?, 'pending')
            ON CONFLICT (request_hash) DO UPDATE SET status = 'pending' WHERE status <> 'ok'
            """, arguments: [request.hash(modelKey: modelKey).bytes, modelKey, requestBlob])
    }

    public static func isKnown(_ db: Database, _ hash: ContentHash) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM model_call WHERE request_hash = ?", arguments: [hash.bytes]) ?? false
    }

    public static func recordBatchAnswer(_ db: Database, _ hash: ContentHash, _ answer: ChatResponse) throws {
        let blobs = try BlobWriter.in(db)
        let responseBlob = try blobs.put(answer.text)
        try blobs.flush()
        try db.execute(sql: """
            UPDATE model_call SET status = 'ok', response = ?, error = NULL, finish_reason = ?, prompt_tokens = ?,
                completion_tokens = ?, latency_ms = NULL, attempts = 1 WHERE request_hash = ? AND status <> 'ok'
            """, arguments: [responseBlob, answer.finishReason, answer.promptTokens, answer.completionTokens, hash.bytes])
    }

    public static func recordBatchFailure(_ db: Database, _ hash: ContentHash, _ error: String) throws {
        try db.execute(sql: "UPDATE model_call SET status = 'failed', error = ? WHERE request_hash = ? AND status <> 'ok'",
                       arguments: [error, hash.bytes])
    }
}
