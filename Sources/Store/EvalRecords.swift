import GRDB

/// One figure of an evaluation, as `eval_metric` holds it.
public struct EvalMetric: Sendable, Hashable, Codable {
    public var metric: String
    public var value: Double?
    public var lo: Double?
    public var hi: Double?
    public var n: Int?

    public init(_ metric: String, _ value: Double?, lo: Double? = nil, hi: Double? = nil, n: Int? = nil) {
        self.metric = metric
        self.value = value
        self.lo = lo
        self.hi = hi
        self.n = n
    }
}

/// Evaluation figures keyed by the run that measured them.
public enum EvalRecords {
    /// Written with the eval run's output version, in its transaction.
    public static func write(_ writer: VersionWriter, run: Int64, _ metrics: [EvalMetric]) throws {
        let insert = try writer.db.makeStatement(sql: "INSERT INTO eval_metric(run_id, metric, value, lo, hi, n) VALUES (?, ?, ?, ?, ?, ?)")
        for m in metrics {
            try insert.execute(arguments: [run, m.metric, m.value?.finiteOrNil, m.lo?.finiteOrNil, m.hi?.finiteOrNil, m.n])
        }
    }

    /// The figures a run recorded, in metric order.
    public static func metrics(_ store: Store, run: Int64) throws -> [EvalMetric] {
        try store.read { db in
            try Row.fetchAll(db, sql: "SELECT metric, value, lo, hi, n FROM eval_metric WHERE run_id = ? ORDER BY metric", arguments: [run])
                .map { EvalMetric($0[0], $0[1], lo: $0[2], hi: $0[3], n: $0[4]) }
        }
    }

    /// The model an eval run used, as listings name it: its checkpoint's name when its key is a checkpoint's GGUF
    /// (also when it ran offline under that key), else the name it ran under; and its key.
    public static func model(_ store: Store, run: Int64) throws -> (name: String?, key: String?) {
        try store.read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT e.name AS experiment, json_extract(r.config, '$.model') AS model, json_extract(r.config, '$.modelKey') AS key
                FROM run r JOIN experiment e ON e.id = r.experiment_id WHERE r.id = ?
                """, arguments: [run]) else { return (nil, nil) }
            let key: String? = row["key"], model: String? = row["model"], experiment: String = row["experiment"]
            let checkpoint = try key.flatMap { try Checkpoints.name(forModelKey: $0, db, experiment: experiment) }
            return (checkpoint ?? model, key)
        }
    }
}

extension Double {
    /// SQLite has no NaN: an undefined figure is stored as NULL.
    var finiteOrNil: Double? { isFinite ? self : nil }
}
