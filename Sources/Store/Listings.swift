import GRDB

/// What the CLI's listing verbs show, as library calls over the views: the versions, a version's rows, the runs,
/// the checkpoints. The SQL stays here, beside the views it reads.
public enum Listings {
    /// Every dataset version (of one experiment, or all): rows, content hash, parent, the run that made it.
    public static func versions(_ store: Store, experiment: String?, fullHashes: Bool) throws -> QueryResult {
        let hash = fullHashes ? "content_hash" : "substr(content_hash, 1, 16) AS content_hash"
        let filter = experiment == nil ? "" : " WHERE experiment = ?"
        return try SQLQuery.run(store, """
            SELECT experiment, ref, kind, row_count AS rows, \(hash), parent, run_id, made_by, created FROM v_versions\(filter)
            ORDER BY experiment, dataset, version
            """, arguments: StatementArguments(experiment.map { [$0] } ?? []))
    }

    /// A version's rows through its kind's view (texts included), from row `offset`.
    public static func rows(_ store: Store, _ version: DatasetVersion, offset: Int, limit: Int) throws -> QueryResult {
        try SQLQuery.run(store, "SELECT * FROM \(version.kind.view) WHERE version_id = ? AND ord >= ? ORDER BY ord LIMIT ?",
                         arguments: [version.id, offset, limit])
    }

    /// The experiment's latest runs: stage, config hash, inputs → outputs, status, duration (`full`: every column).
    public static func runs(_ store: Store, experiment: String, limit: Int, full: Bool) throws -> QueryResult {
        let columns = full ? "*" : "run_id, stage, substr(config_hash, 1, 12) AS config, inputs, outputs, status, duration_s, started"
        return try SQLQuery.run(store, "SELECT \(columns) FROM v_runs WHERE experiment = ? ORDER BY run_id DESC LIMIT ?",
                                arguments: [experiment, limit])
    }

    /// The experiment's checkpoints: base, training data and run, steps, GGUF, location.
    public static func checkpoints(_ store: Store, experiment: String) throws -> QueryResult {
        try SQLQuery.run(store, """
            SELECT v.name, v.base, v.data_version, v.train_run_id AS run, json_extract(v.metrics, '$.steps') AS steps,
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
}
