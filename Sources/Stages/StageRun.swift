import Foundation
import GRDB
import SRLMStore
import SRLMEngines

/// What every stage shares: the store, the experiment, the round, and how a run is opened and closed.
public struct StageContext: Sendable {
    public let store: Store
    public let experiment: String
    public var quiet: Bool

    public init(store: Store, experiment: String = Experiment.defaultName, quiet: Bool = false) {
        self.store = store
        self.experiment = experiment
        self.quiet = quiet
    }

    /// A config as the JSON object the run records (and hashes).
    static func configObject<C: Encodable>(_ config: C) throws -> [String: Any] {
        let data = try CanonicalJSON.encode(config)
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    }

    /// The finished run with the same stage, config and inputs, if any: its outputs can be reused as they are.
    public func finishedRun<C: Encodable>(stage: String, config: C, inputs: [Int64]) throws -> Int64? {
        let hash = Runs.configHash(try Runs.canonicalConfig(Self.configObject(config)))
        return try store.read { try Runs.finishedRun($0, experiment: experiment, stage: stage, configHash: hash, inputs: inputs) }
    }

    /// The output of a finished run with the same stage, config and inputs, re-linked to the round's role: a step
    /// that need not run again.
    public func reuse<C: Encodable>(stage: String, config: C, inputs: [Int64], round: Int, role: String) throws -> StageResult? {
        guard let done = try finishedRun(stage: stage, config: config, inputs: inputs),
              let version = try output(ofRun: done) else { return nil }
        try store.write { try Rounds.setVersion($0, experiment: experiment, iteration: round, role: role, version: version.id) }
        return StageResult(version: version, runID: done, reused: true, stats: [:])
    }

    /// Stops a stage whose calls did not all get an answer; the failures are already in the journal.
    static func requireAnswers(_ results: [Result<ChatResponse, CallFailure>], what: String) throws {
        let failures = results.filter { if case .failure = $0 { return true }; return false }.count
        if failures > 0 {
            throw EngineError.server("\(failures) of \(results.count) \(what) calls failed (recorded in the journal); rerun to retry them")
        }
    }

    /// Opens a run (committed at once, so an interrupted stage leaves a trace); earlier runs of the same stage and
    /// config still marked running were interrupted.
    public func beginRun<C: Encodable>(stage: String, config: C, inputs: [Int64], seed: Int64?,
                                       provenance: [String: Any]? = nil) throws -> RunRecord {
        let object = try Self.configObject(config)
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

    /// Marks a run failed with the error, then rethrows it.
    public func failRun(_ run: RunRecord, _ error: Error) -> Error {
        try? store.write { try Runs.finish($0, run.id, error: "\(error)") }
        return error
    }

    /// Writes a stage's output version, its stats and its round role, and finishes the run, in one transaction.
    /// Output identical to the dataset's latest version reuses that version.
    /// `stats` is read after `write` ran, so it can report what `write` counted.
    public func commit(run: RunRecord, round: Int?, role: String, stats: () -> [String: Any],
                       write: (Database) throws -> DatasetVersion) throws -> DatasetVersion {
        func close(_ db: Database, _ version: DatasetVersion, _ stats: [String: Any]) throws {
            try Runs.setStats(db, run.id, stats)
            if let round { try Rounds.setVersion(db, experiment: experiment, iteration: round, role: role, version: version.id) }
            try Runs.finish(db, run.id)
        }
        do {
            return try store.write { db in
                let version = try write(db)
                try close(db, version, stats())
                return version
            }
        } catch StoreError.unchanged(let ref) {
            return try store.write { db in
                let version = try DatasetVersion.resolve(db, ref, experiment: experiment)
                var stats = stats()
                stats["unchanged_as"] = ref
                try close(db, version, stats)
                return version
            }
        }
    }

    /// The output version a finished run wrote under `dataset`.
    public func output(ofRun run: Int64) throws -> DatasetVersion? {
        try store.read { db in
            try Int64.fetchOne(db, sql: "SELECT id FROM dataset_version WHERE run_id = ? ORDER BY id DESC LIMIT 1", arguments: [run])
                .map { try DatasetVersion.byID(db, $0) }
        }
    }
}

/// Sampling settings shared by the generating stages; defaults follow the paper.
public struct Sampling: Codable, Hashable, Sendable {
    public var temperature: Double
    public var topP: Double
    public var maxTokens: Int
    public var seed: Int64

    public init(temperature: Double, topP: Double, maxTokens: Int, seed: Int64 = 0) {
        self.temperature = temperature
        self.topP = topP
        self.maxTokens = maxTokens
        self.seed = seed
    }
}

/// Result of a stage: the version it wrote (or reused) and what it counted.
public struct StageResult: Sendable {
    public let version: DatasetVersion
    public let runID: Int64
    public let reused: Bool
    public let stats: [String: Double]
}

/// Message lists as the store holds them: canonical JSON blobs.
public enum Blobs {
    public static func messages(_ db: Database, _ id: BlobID) throws -> Messages {
        try CanonicalJSON.decodeMessages(try BlobReader.data(db, id))
    }

    public static func text(_ messages: Messages) -> String {
        String(decoding: CanonicalJSON.messages(messages), as: UTF8.self)
    }
}
