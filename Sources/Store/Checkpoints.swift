import Foundation
import GRDB

/// How a checkpoint file holds the weights.
public enum CheckpointFormat: String, Codable, Sendable, CaseIterable {
    /// A Hugging Face model folder's weight file (*.safetensors, *.bin).
    case hf
    /// A llama.cpp model.
    case gguf
    /// A PEFT LoRA adapter's weight file.
    case lora
    /// A LoRA adapter converted for llama.cpp.
    case loraGGUF = "lora-gguf"
}

/// One file of a checkpoint, with the SHA-256 and size it had when registered. `path` is always a full path here; the
/// store records a file inside its run folder relative to that folder (`RunFolder.record`).
public struct CheckpointFile: Codable, Hashable, Sendable {
    public let path: String
    public let format: CheckpointFormat
    public let sha256: String
    public let size: Int64

    public init(path: String, format: CheckpointFormat, sha256: String, size: Int64) {
        self.path = path
        self.format = format
        self.sha256 = sha256
        self.size = size
    }
}

/// A named model of an experiment (`M0`, `SFT`, `M1`, …): where it is, what it was trained from and on, and its files.
public struct Checkpoint: Codable, Sendable {
    public let id: Int64
    public let experiment: String
    public let name: String
    /// The model's location: a Hugging Face folder (trainable), else a .gguf file (servable only). A full path here;
    /// recorded relative to the store's run folder when inside it, like the files.
    public let uri: String
    public let base: String?
    public let trainRunID: Int64?
    /// The main training data version (DPO: the pairs; SFT: the IFT data); the run's inputs list every version.
    public let dataVersion: String?
    public let config: String?
    public let metrics: String?
    public let created: String
    public let files: [CheckpointFile]

    public func files(_ format: CheckpointFormat) -> [CheckpointFile] { files.filter { $0.format == format } }

    /// The GGUF llama.cpp serves (the first by path, when several were converted).
    public var gguf: CheckpointFile? { files(.gguf).first }

    /// The identity of the weights: SHA-256 over the sorted (format, sha256) of the files that hold them.
    public var weightsKey: String {
        let parts = files.filter { $0.format == .hf || $0.format == .lora }.map { "\($0.format.rawValue):\($0.sha256)" }.sorted()
        return ContentHash(of: Data(parts.joined(separator: "\n").utf8)).hex
    }
}

/// What `Checkpoints.register` writes.
public struct NewCheckpoint: Sendable {
    public var name: String
    public var uri: String
    public var baseID: Int64?
    public var trainRunID: Int64?
    public var dataVersionID: Int64?
    /// Canonical JSON texts.
    public var config: String?
    public var metrics: String?
    public var files: [CheckpointFile]

    public init(name: String, uri: String, baseID: Int64? = nil, trainRunID: Int64? = nil, dataVersionID: Int64? = nil,
                config: String? = nil, metrics: String? = nil, files: [CheckpointFile]) {
        self.name = name
        self.uri = uri
        self.baseID = baseID
        self.trainRunID = trainRunID
        self.dataVersionID = dataVersionID
        self.config = config
        self.metrics = metrics
        self.files = files
    }
}

public enum Checkpoints {
    /// Checkpoint names follow dataset names (ASCII letters, digits, '-', '_', '.', ':'), so they never read as paths.
    public static func validate(name: String) throws {
        do { try DatasetRef.validate(name: name) } catch {
            throw SRLMError.invalid("checkpoint name '\(name)' may hold only ASCII letters, digits, '-', '_', '.', ':'")
        }
    }

    /// Registers a checkpoint with its files; the name must be new in the experiment.
    @discardableResult
    public static func register(_ db: Database, experiment: String, _ new: NewCheckpoint) throws -> Checkpoint {
        try validate(name: new.name)
        if let existing = try find(db, experiment: experiment, name: new.name) {
            throw SRLMError.invalid("checkpoint '\(new.name)' already exists in experiment '\(experiment)' (\(existing.uri))")
        }
        try db.execute(sql: """
            INSERT INTO checkpoint(experiment_id, name, uri, base_id, train_run_id, data_version_id, config, metrics)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [try Experiment.id(db, experiment), new.name, RunFolder.record(new.uri, root: try RunFolder.root(db)),
                             new.baseID, new.trainRunID,
                             new.dataVersionID, new.config, new.metrics])
        let id = db.lastInsertedRowID
        try addFiles(db, checkpoint: id, new.files)
        return try byID(db, id)
    }

    /// Adds files to a checkpoint (a conversion's GGUF); a path registered again gets its new hash and size.
    public static func addFiles(_ db: Database, checkpoint: Int64, _ files: [CheckpointFile]) throws {
        let root = try RunFolder.root(db)
        for file in files {
            try db.execute(sql: """
                INSERT OR REPLACE INTO checkpoint_file(checkpoint_id, path, format, sha256, size) VALUES (?, ?, ?, ?, ?)
                """, arguments: [checkpoint, RunFolder.record(file.path, root: root), file.format.rawValue, file.sha256, file.size])
        }
    }

    static let select = """
        SELECT c.id, e.name AS experiment, c.name, c.uri, b.name AS base, c.train_run_id,
               d.name || '@' || dv.version AS data_version, c.config, c.metrics, c.created
        FROM checkpoint c JOIN experiment e ON e.id = c.experiment_id
        LEFT JOIN checkpoint b ON b.id = c.base_id
        LEFT JOIN dataset_version dv ON dv.id = c.data_version_id
        LEFT JOIN dataset d ON d.id = dv.dataset_id
        """

    static func load(_ db: Database, _ row: Row) throws -> Checkpoint {
        let id: Int64 = row["id"]
        let root = try RunFolder.root(db)
        let files = try Row.fetchAll(db, sql: """
            SELECT path, format, sha256, size FROM checkpoint_file WHERE checkpoint_id = ? ORDER BY path
            """, arguments: [id]).map { file -> CheckpointFile in
                let format: String = file["format"]
                guard let parsed = CheckpointFormat(rawValue: format) else {
                    throw SRLMError.invalid("checkpoint \(id): file \(file["path"] as String? ?? "?") has unknown format '\(format)'")
                }
                return CheckpointFile(path: RunFolder.resolve(file["path"], root: root), format: parsed, sha256: file["sha256"], size: file["size"])
            }
        return Checkpoint(id: id, experiment: row["experiment"], name: row["name"], uri: RunFolder.resolve(row["uri"], root: root), base: row["base"],
                          trainRunID: row["train_run_id"], dataVersion: row["data_version"], config: row["config"],
                          metrics: row["metrics"], created: row["created"], files: files)
    }

    public static func byID(_ db: Database, _ id: Int64) throws -> Checkpoint {
        guard let row = try Row.fetchOne(db, sql: select + " WHERE c.id = ?", arguments: [id]) else {
            throw SRLMError.notFound("no checkpoint with id \(id)")
        }
        return try load(db, row)
    }

    public static func find(_ db: Database, experiment: String, name: String) throws -> Checkpoint? {
        try Row.fetchOne(db, sql: select + " WHERE e.name = ? AND c.name = ?", arguments: [experiment, name])
            .map { try load(db, $0) }
    }

    /// The checkpoint of that name, or an error that lists the experiment's checkpoints.
    public static func resolve(_ db: Database, experiment: String, name: String) throws -> Checkpoint {
        if let found = try find(db, experiment: experiment, name: name) { return found }
        let known = try all(db, experiment: experiment).map(\.name)
        throw SRLMError.notFound("no checkpoint '\(name)' in experiment '\(experiment)'"
            + (known.isEmpty ? " (none registered: see `srlm checkpoint add`)" : " (known: \(known.joined(separator: ", ")))"))
    }

    /// The name of the experiment's checkpoint whose GGUF a model key (`sha256:` + the file's SHA-256, what a run
    /// served from it records) points at, so a model answering offline under that key keeps its checkpoint's name.
    public static func name(forModelKey key: String, _ db: Database, experiment: String) throws -> String? {
        guard key.hasPrefix("sha256:") else { return nil }
        return try String.fetchOne(db, sql: """
            SELECT c.name FROM checkpoint c JOIN experiment e ON e.id = c.experiment_id
            JOIN checkpoint_file f ON f.checkpoint_id = c.id
            WHERE e.name = ? AND f.format = 'gguf' AND f.sha256 = ? ORDER BY c.id LIMIT 1
            """, arguments: [experiment, String(key.dropFirst("sha256:".count))])
    }

    /// The checkpoint a training run produced, if any.
    public static func made(byRun run: Int64, _ db: Database) throws -> Checkpoint? {
        try Row.fetchOne(db, sql: select + " WHERE c.train_run_id = ? ORDER BY c.id DESC LIMIT 1", arguments: [run])
            .map { try load(db, $0) }
    }

    public static func all(_ db: Database, experiment: String) throws -> [Checkpoint] {
        try Row.fetchAll(db, sql: select + " WHERE e.name = ? ORDER BY c.id", arguments: [experiment]).map { try load(db, $0) }
    }
}
