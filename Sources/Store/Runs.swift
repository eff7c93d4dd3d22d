import Foundation
import GRDB

/// A run: one execution of a stage with its config (secrets redacted), inputs and outputs.
public struct RunRecord: Sendable, Codable {
    public let id: Int64
    public let stage: String
    public let configHash: String
}

public enum Runs {
    public static let toolVersion = "srlm 0.1.0"

    /// Keys whose values never reach the store or the logs.
    static let secretMarkers = ["key", "token", "secret", "password", "authorization"]

    /// Canonical JSON of a config with secret-looking values replaced by "<redacted>".
    public static func canonicalConfig(_ config: [String: Any]) throws -> String {
        try CanonicalJSON.canonicalize(redact(config))
    }

    static func redact(_ value: Any) -> Any {
        if let dict = value as? [String: Any] {
            var out: [String: Any] = [:]
            for (k, v) in dict {
                let lower = k.lowercased()
                let isSecret = secretMarkers.contains { lower.contains($0) } && !lower.hasSuffix("_env") && !lower.contains("max_tokens")
                out[k] = isSecret ? "<redacted>" : redact(v)
            }
            return out
        }
        if let array = value as? [Any] { return array.map(redact) }
        return value
    }

    public static func configHash(_ canonical: String) -> String { ContentHash(of: Data(canonical.utf8)).hex }

    /// Inserts a run in state `running`.
    public static func begin(_ db: Database, experiment: String, stage: String, config: [String: Any],
                             seed: Int64? = nil, inputs: [Int64] = [], provenance: [String: Any]? = nil) throws -> RunRecord {
        let canonical = try canonicalConfig(config)
        let hash = configHash(canonical)
        let experimentID = try Experiment.id(db, experiment)
        try db.execute(sql: """
            INSERT INTO run(experiment_id, stage, config, config_hash, tool_version, seed, status, provenance)
            VALUES (?, ?, ?, ?, ?, ?, 'running', ?)
            """, arguments: [experimentID, stage, canonical, hash, toolVersion, seed,
                             try provenance.map { try CanonicalJSON.canonicalize($0) }])
        let id = db.lastInsertedRowID
        for input in Set(inputs) {
            try db.execute(sql: "INSERT INTO run_input(run_id, version_id) VALUES (?, ?)", arguments: [id, input])
        }
        return RunRecord(id: id, stage: stage, configHash: hash)
    }

    public static func finish(_ db: Database, _ run: Int64, error: String? = nil) throws {
        try db.execute(sql: """
            UPDATE run SET status = ?, error = ?, ended = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?
            """, arguments: [error == nil ? "finished" : "failed", error, run])
    }

    /// Counts a run wants on record: kept and dropped with reasons, calls, tokens, throughput.
    public static func setStats(_ db: Database, _ run: Int64, _ stats: [String: Any]) throws {
        try db.execute(sql: "UPDATE run SET stats = ? WHERE id = ?", arguments: [try CanonicalJSON.canonicalize(stats), run])
    }

    public static func setProvenance(_ db: Database, _ run: Int64, _ provenance: [String: Any]) throws {
        try db.execute(sql: "UPDATE run SET provenance = ? WHERE id = ?",
                       arguments: [try CanonicalJSON.canonicalize(provenance), run])
    }

    /// A finished run of the same stage, config and inputs, if any: a step that can be skipped.
    public static func finishedRun(_ db: Database, experiment: String, stage: String, configHash: String,
                                   inputs: [Int64]) throws -> Int64? {
        guard let experimentID = try Experiment.existingID(db, experiment) else { return nil }
        let candidates = try Int64.fetchAll(db, sql: """
            SELECT id FROM run WHERE experiment_id = ? AND stage = ? AND config_hash = ? AND status = 'finished'
            ORDER BY id DESC
            """, arguments: [experimentID, stage, configHash])
        let wanted = Set(inputs)
        for id in candidates {
            let have = Set(try Int64.fetchAll(db, sql: "SELECT version_id FROM run_input WHERE run_id = ?", arguments: [id]))
            if have == wanted { return id }
        }
        return nil
    }
}
