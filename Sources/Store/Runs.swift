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

    /// Words that make a config field a secret, whose value never reaches the store or the logs.
    static let secretWords: Set<String> = ["password", "passwd", "secret", "authorization", "credential", "credentials", "bearer"]

    /// Canonical JSON of a config with secret-looking values replaced by "<redacted>".
    public static func canonicalConfig(_ config: [String: Any]) throws -> String {
        try CanonicalJSON.canonicalize(redact(config))
    }

    static func redact(_ value: Any) -> Any {
        if let dict = value as? [String: Any] {
            var out: [String: Any] = [:]
            for (k, v) in dict {
                out[k] = isSecret(k) ? "<redacted>" : redact(v)
            }
            return out
        }
        if let array = value as? [Any] { return array.map(redact) }
        return value
    }

    /// A field name names a secret: a password/secret/credential word, a (singular) token, or an api/access/private
    /// key. By words, not substrings: `modelKey` (the weights' journal identity) and `maxTokens` are part of what a
    /// run means and must stay in its config and hash; `apiKeyEnv` names a variable, not its value.
    static func isSecret(_ field: String) -> Bool {
        let words = Self.words(field)
        guard let last = words.last, last != "env" else { return false }
        if words.contains(where: secretWords.contains) { return true }
        if last == "token" { return true }
        if last == "key", words.count >= 2, ["api", "access", "private", "secret", "auth"].contains(words[words.count - 2]) { return true }
        return false
    }

    /// camelCase, snake_case, kebab-case and SCREAMING_CASE field names as lowercase words.
    static func words(_ field: String) -> [String] {
        var words: [String] = [], current = ""
        var previousLower = false
        for c in field {
            if c == "_" || c == "-" || c == "." || c == " " {
                if !current.isEmpty { words.append(current) }
                current = ""
                previousLower = false
                continue
            }
            if c.isUppercase && previousLower, !current.isEmpty {
                words.append(current)
                current = ""
            }
            current.append(Character(c.lowercased()))
            previousLower = c.isLowercase || c.isNumber
        }
        if !current.isEmpty { words.append(current) }
        return words
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
                             try CanonicalJSON.canonicalize(MachineFacts.adding(to: provenance))])
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
