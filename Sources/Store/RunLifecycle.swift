import Foundation
import GRDB

/// A stage run's life in the store: opened (committed at once, so an interrupted stage leaves a trace), its output
/// version, stats and round role written with its finish in one transaction, or marked failed.
public enum RunLifecycle {
    /// The config as the JSON object a run records and hashes.
    public static func configObject<C: Encodable>(_ config: C) throws -> [String: Any] {
        let data = try CanonicalJSON.encode(config)
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }

    public static func configHash<C: Encodable>(_ config: C) throws -> String {
        Runs.configHash(try Runs.canonicalConfig(configObject(config)))
    }

    /// The finished run with the same stage, config and inputs, if any: its outputs can be reused as they are.
    public static func finishedRun<C: Encodable>(_ store: Store, experiment: String, stage: String, config: C,
                                                 inputs: [Int64]) throws -> Int64? {
        let hash = try configHash(config)
        return try store.read { try Runs.finishedRun($0, experiment: experiment, stage: stage, configHash: hash, inputs: inputs) }
    }

    /// The output version a run wrote, if any.
    public static func output(_ store: Store, ofRun run: Int64) throws -> DatasetVersion? {
        try store.read { db in
            try Int64.fetchOne(db, sql: "SELECT id FROM dataset_version WHERE run_id = ? ORDER BY id DESC LIMIT 1", arguments: [run])
                .map { try DatasetVersion.byID(db, $0) }
        }
    }

    /// A run's recorded stats, numbers only (what a reused run reports).
    public static func numericStats(_ store: Store, ofRun run: Int64) throws -> [String: Double] {
        let text = try store.read { try String.fetchOne($0, sql: "SELECT stats FROM run WHERE id = ?", arguments: [run]) }
        guard let text, let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return [:] }
        return numbers(object)
    }

    /// The numbers of a stats object; nested counts (e.g. `dropped` by reason) as "dropped.reason".
    public static func numbers(_ stats: [String: Any]) -> [String: Double] {
        var out: [String: Double] = [:]
        for (key, value) in stats {
            if let number = value as? NSNumber, !(value is Bool) {
                out[key] = number.doubleValue
            } else if let int = value as? Int {
                out[key] = Double(int)
            } else if let double = value as? Double {
                out[key] = double
            } else if let nested = value as? [String: Any] {
                for (inner, number) in numbers(nested) { out[key + "." + inner] = number }
            }
        }
        return out
    }

    /// Re-links a finished run's output to a round role (a reused step belongs to this round too).
    public static func link(_ store: Store, experiment: String, round: Int, role: RoundRole, version: DatasetVersion) throws {
        try store.write { try Rounds.setVersion($0, experiment: experiment, iteration: round, role: role, version: version.id) }
    }

    /// Opens a run; earlier runs of the same stage and config still marked running were interrupted.
    public static func begin<C: Encodable>(_ store: Store, experiment: String, stage: String, config: C, inputs: [Int64],
                                           seed: Int64?, provenance: [String: Any]? = nil) throws -> RunRecord {
        let object = try configObject(config)
        return try store.write { db in
            let hash = Runs.configHash(try Runs.canonicalConfig(object))
            try db.execute(sql: """
                UPDATE run SET status = 'failed', error = 'interrupted', ended = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
                WHERE status = 'running' AND stage = ? AND config_hash = ?
                  AND experiment_id = (SELECT id FROM experiment WHERE name = ?)
                """, arguments: [stage, hash, experiment])
            return try Runs.begin(db, experiment: experiment, stage: stage, config: object, seed: seed,
                                  inputs: inputs, provenance: provenance)
        }
    }

    /// Marks a run failed with the error.
    public static func fail(_ store: Store, _ run: RunRecord, _ error: Error) {
        try? store.write { try Runs.finish($0, run.id, error: "\(error)") }
    }

    /// Where a run's output goes: a dataset of a kind, and optionally a round role.
    public struct Destination: Sendable {
        public var dataset: String
        public var kind: ArtifactKind
        public var round: Int?
        public var role: RoundRole?

        public init(dataset: String, kind: ArtifactKind, round: Int? = nil, role: RoundRole? = nil) {
            self.dataset = dataset
            self.kind = kind
            self.round = round
            self.role = role
        }
    }

    /// Writes the output version (rows appended by `rows`), the stats and the round role, and finishes the run, in
    /// one transaction. Output identical to the dataset's latest version reuses that version.
    public static func commit(_ store: Store, experiment: String, run: RunRecord, to destination: Destination,
                              stats: [String: Any], rows: (VersionWriter) throws -> Void) throws -> DatasetVersion {
        func close(_ db: Database, _ version: DatasetVersion, _ stats: [String: Any]) throws {
            try Runs.setStats(db, run.id, stats)
            if let round = destination.round, let role = destination.role {
                try Rounds.setVersion(db, experiment: experiment, iteration: round, role: role, version: version.id)
            }
            try Runs.finish(db, run.id)
        }
        do {
            return try store.write { db in
                let writer = try VersionWriter(db, experiment: experiment, name: destination.dataset, kind: destination.kind, runID: run.id)
                try rows(writer)
                let version = try writer.finish()
                try close(db, version, stats)
                return version
            }
        } catch SRLMError.unchanged(let ref) {
            return try store.write { db in
                let version = try DatasetVersion.resolve(db, ref, experiment: experiment)
                var stats = stats
                stats["unchanged_as"] = ref
                try close(db, version, stats)
                return version
            }
        }
    }

    /// A prompt the self-instruct filters turned away, with why (`prompt_rejection`), written with the run's output.
    public static func recordRejection(_ writer: VersionWriter, run: Int64, text: String, reason: String, detail: String?) throws {
        try writer.db.execute(sql: "INSERT INTO prompt_rejection(run_id, prompt, reason, detail) VALUES (?, ?, ?, ?)",
                                    arguments: [run, try writer.blobs.put(text), reason, detail])
    }
}
