import GRDB

/// What the CLI's listing verbs show, as library calls over the views: the versions, a version's rows, the runs,
/// the checkpoints. The SQL stays here, beside the views it reads.
public enum Listings {
    /// Every dataset version (of one experiment, or all): rows, content hash, parent, the run that made it.
    public static func versions(_ store: Store, experiment: String?, fullHashes: Bool) throws -> QueryResult {
        let hash = fullHashes ? "content_hash" : "substr(content_hash, 1, 16) AS content_hash"
        let filter = experiment == nil ? "" : " WHERE experiment = ?"
        return try SQLQuery.run(store, """
            SELECT experiment, ref, dataset, version, kind, row_count, \(hash), parent, run_id, made_by, created FROM v_versions\(filter)
            ORDER BY experiment, dataset, version
            """, arguments: StatementArguments(experiment.map { [$0] } ?? []))
    }

    /// A version's rows through its kind's view (texts included), from row `offset`.
    public static func rows(_ store: Store, _ version: DatasetVersion, offset: Int, limit: Int) throws -> QueryResult {
        try SQLQuery.run(store, "SELECT * FROM \(version.kind.view) WHERE version_id = ? AND ord >= ? ORDER BY ord LIMIT ?",
                         arguments: [version.id, offset, limit])
    }

    /// The experiment's latest runs: stage, config hash, inputs → outputs, status, duration (`full`: every column of
    /// v_runs; `nested`: inputs and outputs as JSON arrays of refs, config, stats and provenance as JSON).
    public static func runs(_ store: Store, experiment: String, limit: Int, full: Bool, nested: Bool = false) throws -> QueryResult {
        var columns = full ? "*" : "run_id, stage, substr(config_hash, 1, 12) AS config_hash, inputs, outputs, status, duration_s, started"
        if nested {
            columns = """
                v.run_id, v.experiment, v.stage, v.config_hash, v.status, v.seed, v.tool_version, v.started, v.ended, v.duration_s,
                (SELECT json_group_array(d.name || '@' || dv.version) FROM run_input i JOIN dataset_version dv ON dv.id = i.version_id
                  JOIN dataset d ON d.id = dv.dataset_id WHERE i.run_id = v.run_id) AS inputs,
                (SELECT json_group_array(d.name || '@' || dv.version) FROM dataset_version dv JOIN dataset d ON d.id = dv.dataset_id
                  WHERE dv.run_id = v.run_id) AS outputs,
                v.error, v.stats, v.provenance, v.config
                """
        }
        let result = try SQLQuery.run(store, "SELECT \(columns) FROM v_runs v WHERE v.experiment = ? ORDER BY v.run_id DESC LIMIT ?",
                                      arguments: [experiment, limit])
        return nested ? QueryResult(columns: result.columns, rows: result.rows, jsonColumns: result.jsonColumns.union(["inputs", "outputs"])) : result
    }

    /// The experiment's checkpoints: base, training data and run, steps, GGUF, location.
    public static func checkpoints(_ store: Store, experiment: String) throws -> QueryResult {
        try SQLQuery.run(store, """
            SELECT v.name, v.base, v.data_version, v.train_run_id, json_extract(v.metrics, '$.steps') AS steps,
                   (SELECT path FROM checkpoint_file f WHERE f.checkpoint_id = v.checkpoint_id AND f.format = 'gguf'
                     ORDER BY path LIMIT 1) AS gguf,
                   v.uri, v.created
            FROM v_checkpoints v WHERE v.experiment = ? ORDER BY v.checkpoint_id
            """, arguments: [experiment])
    }

    /// Every checkpoint of the experiment, with files, config and metrics.
    public static func allCheckpoints(_ store: Store, experiment: String) throws -> [Checkpoint] {
        try store.read { try Checkpoints.all($0, experiment: experiment) }
    }

    /// Every checkpoint of the experiment as `checkpoints --format json` lists it.
    public static func checkpointRecords(_ store: Store, experiment: String) throws -> [CheckpointRecord] {
        try allCheckpoints(store, experiment: experiment).map(CheckpointRecord.init)
    }
}

/// A checkpoint as the JSON listing shows it: v_checkpoints' columns and the table's (steps, gguf), the weights key
/// and the model key, the config and metrics as JSON, and every file with its SHA-256 and size. Absent values are null, not left out.
public struct CheckpointRecord: Encodable, Sendable {
    public let checkpoint: Checkpoint

    public init(_ checkpoint: Checkpoint) { self.checkpoint = checkpoint }

    enum Key: String, CodingKey {
        case checkpointID = "checkpoint_id", experiment, name, uri, base, trainRunID = "train_run_id", dataVersion = "data_version"
        case steps, gguf, weightsKey = "weights_key", modelKey = "model_key", config, metrics, created, files
    }

    public func encode(to encoder: Encoder) throws {
        let c = checkpoint
        var out = encoder.container(keyedBy: Key.self)
        let metrics = c.metrics.map(JSONValue.init(parsing:))
        var steps: Int64?
        if case .int(let n)? = metrics?["steps"] { steps = n }
        try out.encode(c.id, forKey: .checkpointID)
        try out.encode(c.experiment, forKey: .experiment)
        try out.encode(c.name, forKey: .name)
        try out.encode(c.uri, forKey: .uri)
        try out.encode(c.base, forKey: .base)
        try out.encode(c.trainRunID, forKey: .trainRunID)
        try out.encode(c.dataVersion, forKey: .dataVersion)
        try out.encode(steps, forKey: .steps)
        try out.encode(c.gguf?.path, forKey: .gguf)
        // The key of its trainable weights (none for a GGUF-only model), and the key a run served from its GGUF
        // records (eval listings show it beside the name).
        try out.encode(c.files.contains { $0.format == .hf || $0.format == .lora } ? c.weightsKey : nil, forKey: .weightsKey)
        try out.encode(c.gguf.map { "sha256:" + $0.sha256 }, forKey: .modelKey)
        try out.encode(c.config.map(JSONValue.init(parsing:)), forKey: .config)
        try out.encode(metrics, forKey: .metrics)
        try out.encode(c.created, forKey: .created)
        try out.encode(c.files, forKey: .files)
    }
}
