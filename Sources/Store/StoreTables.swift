import GRDB

/// The store's records that are not dataset versions, as tables `srlm export` writes: runs, checkpoints, the model
/// call journal, evaluation figures, the prompts the generation filters threw away and the rows imports refused, and
/// the views that set versions side by side (each candidate with its scores and pair flags, each pairwise verdict
/// with its human label). Each is one query with a fixed column list and types; texts are decoded, JSON columns
/// (configs, provenance, lists) stay JSON text.
public enum StoreTable: String, CaseIterable, Sendable, Codable {
    /// Every dataset version with where it came from (what `srlm datasets` lists, and the round that holds it).
    case versions
    /// Each round's members: the versions and checkpoints it used and made, by role.
    case rounds
    case runs, checkpoints
    case modelCalls = "model_calls"
    case evalMetrics = "eval_metrics"
    case promptRejections = "prompt_rejections"
    case importRejections = "import_rejections"
    /// v_prompt_candidates: each candidate of a round with every judge sample's score and rationale and its pair flags.
    case promptCandidates = "prompt_candidates"
    /// v_pairwise_verdicts: each labelled pair a pairwise eval judged, both orders' verdicts beside the human label.
    case pairwiseVerdicts = "pairwise_verdicts"

    public var columns: [TableColumn] {
        switch self {
        case .versions:
            return [TableColumn("experiment", .string), TableColumn("dataset", .string), TableColumn("kind", .string),
                    TableColumn("version", .int64), TableColumn("ref", .string), TableColumn("rows", .int64),
                    TableColumn("content_hash", .string), TableColumn("parent", .string), TableColumn("run_id", .int64),
                    TableColumn("stage", .string), TableColumn("model", .string), TableColumn("round", .int64),
                    TableColumn("created", .string)]
        case .rounds:
            return [TableColumn("experiment", .string), TableColumn("round", .int64), TableColumn("role", .string),
                    TableColumn("ref", .string), TableColumn("kind", .string), TableColumn("checkpoint", .string),
                    TableColumn("created", .string)]
        case .runs:
            return [TableColumn("run_id", .int64), TableColumn("experiment", .string), TableColumn("stage", .string),
                    TableColumn("status", .string), TableColumn("seed", .int64), TableColumn("command", .string),
                    TableColumn("config", .string), TableColumn("config_hash", .string), TableColumn("provenance", .string),
                    TableColumn("tool_version", .string), TableColumn("error", .string), TableColumn("started", .string),
                    TableColumn("ended", .string), TableColumn("inputs", .string), TableColumn("outputs", .string),
                    TableColumn("round", .int64)]
        case .checkpoints:
            return [TableColumn("checkpoint_id", .int64), TableColumn("experiment", .string), TableColumn("name", .string),
                    TableColumn("uri", .string), TableColumn("base", .string), TableColumn("train_run_id", .int64),
                    TableColumn("data_ref", .string), TableColumn("config", .string), TableColumn("metrics", .string),
                    TableColumn("files", .string), TableColumn("round", .int64), TableColumn("created", .string)]
        case .modelCalls:
            return [TableColumn("request_hash", .string), TableColumn("experiment", .string), TableColumn("run_id", .int64),
                    TableColumn("model_key", .string), TableColumn("status", .string), TableColumn("error", .string),
                    TableColumn("finish_reason", .string), TableColumn("prompt_tokens", .int64),
                    TableColumn("completion_tokens", .int64), TableColumn("latency_ms", .double), TableColumn("attempts", .int64),
                    TableColumn("created", .string), TableColumn("request_json", .string), TableColumn("response_text", .string)]
        case .evalMetrics:
            return [TableColumn("run_id", .int64), TableColumn("experiment", .string), TableColumn("stage", .string),
                    TableColumn("status", .string), TableColumn("model", .string), TableColumn("data", .string),
                    TableColumn("template", .string), TableColumn("metric", .string), TableColumn("value", .double),
                    TableColumn("lo", .double), TableColumn("hi", .double), TableColumn("n", .int64), TableColumn("ended", .string)]
        case .promptRejections:
            return [TableColumn("run_id", .int64), TableColumn("experiment", .string), TableColumn("outputs", .string),
                    TableColumn("reason", .string), TableColumn("detail", .string), TableColumn("prompt_text", .string),
                    TableColumn("prompt_json", .string)]
        case .importRejections:
            return [TableColumn("run_id", .int64), TableColumn("experiment", .string), TableColumn("ref", .string),
                    TableColumn("file", .string), TableColumn("line", .int64), TableColumn("field", .string),
                    TableColumn("reason", .string), TableColumn("row_json", .string)]
        case .promptCandidates:
            return [TableColumn("experiment", .string), TableColumn("round", .int64), TableColumn("model", .string),
                    TableColumn("ref", .string), TableColumn("ord", .int64), TableColumn("judgments_ref", .string),
                    TableColumn("pairs_ref", .string), TableColumn("sample_index", .int64), TableColumn("prompt_text", .string),
                    TableColumn("response_text", .string), TableColumn("scores", .string), TableColumn("rationales", .string),
                    TableColumn("judges", .string), TableColumn("mean_score", .double), TableColumn("chosen", .int64),
                    TableColumn("rejected", .int64), TableColumn("completion_tokens", .int64), TableColumn("finish_reason", .string)]
        case .pairwiseVerdicts:
            return [TableColumn("experiment", .string), TableColumn("round", .int64), TableColumn("model", .string),
                    TableColumn("ref", .string), TableColumn("run_id", .int64), TableColumn("labeled_ref", .string),
                    TableColumn("ord", .int64), TableColumn("judge_model", .string), TableColumn("verdict_ab", .string),
                    TableColumn("verdict_ba_shown", .string), TableColumn("verdict_ba", .string), TableColumn("verdict", .string),
                    TableColumn("label", .string), TableColumn("votes", .string), TableColumn("agree", .int64),
                    TableColumn("prompt_text", .string), TableColumn("response_a_text", .string),
                    TableColumn("response_b_text", .string), TableColumn("output_ab", .string), TableColumn("output_ba", .string)]
        }
    }

    /// The query, its columns in `columns` order, with `?1` the experiment (NULL: every experiment).
    var sql: String {
        let outputs = """
            (SELECT json_group_array(d.name || '@' || v.version) FROM dataset_version v JOIN dataset d ON d.id = v.dataset_id
             WHERE v.run_id = r.id)
            """
        switch self {
        case .versions:
            // Round and model as v_versions defines them, so this table, the views and exported rows agree.
            return """
                SELECT experiment, dataset, kind, version, ref, row_count, content_hash, parent, run_id, made_by, model,
                       round, created
                FROM v_versions WHERE ?1 IS NULL OR experiment = ?1 ORDER BY experiment, dataset, version
                """
        case .rounds:
            return """
                SELECT e.name, rd.iteration, m.role, d.name || '@' || v.version, d.kind, c.name, rd.created
                FROM round_member m JOIN round rd ON rd.id = m.round_id JOIN experiment e ON e.id = rd.experiment_id
                LEFT JOIN dataset_version v ON v.id = m.version_id LEFT JOIN dataset d ON d.id = v.dataset_id
                LEFT JOIN checkpoint c ON c.id = m.checkpoint_id
                WHERE ?1 IS NULL OR e.name = ?1 ORDER BY e.name, rd.iteration, m.role
                """
        case .runs:
            return """
                SELECT r.id, e.name, r.stage, r.status, r.seed, json_extract(r.provenance, '$.invocation'), r.config,
                       r.config_hash, r.provenance, r.tool_version, r.error, r.started, r.ended,
                       (SELECT json_group_array(d.name || '@' || v.version) FROM run_input i
                        JOIN dataset_version v ON v.id = i.version_id JOIN dataset d ON d.id = v.dataset_id WHERE i.run_id = r.id),
                       \(outputs),
                       (SELECT min(rd.iteration) FROM dataset_version v JOIN round_member m ON m.version_id = v.id
                        JOIN round rd ON rd.id = m.round_id WHERE v.run_id = r.id)
                FROM run r JOIN experiment e ON e.id = r.experiment_id
                WHERE ?1 IS NULL OR e.name = ?1 ORDER BY r.id
                """
        case .checkpoints:
            return """
                SELECT c.id, e.name, c.name, c.uri, b.name, c.train_run_id,
                       (SELECT d.name || '@' || v.version FROM dataset_version v JOIN dataset d ON d.id = v.dataset_id
                        WHERE v.id = c.data_version_id),
                       c.config, c.metrics,
                       (SELECT json_group_array(json_object('path', f.path, 'format', f.format, 'sha256', f.sha256, 'size', f.size))
                        FROM checkpoint_file f WHERE f.checkpoint_id = c.id),
                       (SELECT round FROM v_checkpoints WHERE checkpoint_id = c.id),  -- the view's definition of a checkpoint's round
                       c.created
                FROM checkpoint c JOIN experiment e ON e.id = c.experiment_id LEFT JOIN checkpoint b ON b.id = c.base_id
                WHERE ?1 IS NULL OR e.name = ?1 ORDER BY c.id
                """
        case .modelCalls:
            // Calls are kept by the run that made them; a call with no run belongs to no experiment.
            return """
                SELECT m.request_hash, e.name, m.run_id, m.model_key, m.status, m.error, m.finish_reason, m.prompt_tokens,
                       m.completion_tokens, m.latency_ms, m.attempts, m.created, srlm_text(m.request), srlm_text(m.response)
                FROM model_call m LEFT JOIN run r ON r.id = m.run_id LEFT JOIN experiment e ON e.id = r.experiment_id
                WHERE ?1 IS NULL OR e.name = ?1 ORDER BY m.created, m.request_hash
                """
        case .evalMetrics:
            return """
                SELECT r.id, e.name, r.stage, r.status, json_extract(r.config, '$.model'), json_extract(r.config, '$.data'),
                       json_extract(r.config, '$.template'), m.metric, m.value, m.lo, m.hi, m.n, r.ended
                FROM eval_metric m JOIN run r ON r.id = m.run_id JOIN experiment e ON e.id = r.experiment_id
                WHERE ?1 IS NULL OR e.name = ?1 ORDER BY r.id, m.metric
                """
        case .promptRejections:
            return """
                SELECT p.run_id, e.name, \(outputs), p.reason, p.detail,
                       json_extract(srlm_text(p.prompt), '$[#-1].content'), srlm_text(p.prompt)
                FROM prompt_rejection p JOIN run r ON r.id = p.run_id JOIN experiment e ON e.id = r.experiment_id
                WHERE ?1 IS NULL OR e.name = ?1 ORDER BY p.rowid
                """
        // The documented views (schema/017, 019), their columns by name, ordered so that a rerun writes the same rows.
        case .importRejections: return fromView("v_import_rejections", order: "run_id, file, line")
        case .promptCandidates: return fromView("v_prompt_candidates", order: "ref, round, judgments_ref, ord")
        case .pairwiseVerdicts: return fromView("v_pairwise_verdicts", order: "ref, ord")
        }
    }

    private func fromView(_ view: String, order: String) -> String {
        "SELECT \(columns.map(\.name).joined(separator: ", ")) FROM \(view) WHERE ?1 IS NULL OR experiment = ?1 ORDER BY \(order)"
    }

    /// Calls `body` with each row's cells, in `columns` order, of one experiment or (nil) all of them.
    public func forEachRow(_ db: Database, experiment: String?, _ body: ([TableCell]) throws -> Void) throws {
        let width = columns.count
        let rows = try Row.fetchCursor(db, sql: sql, arguments: [experiment])
        var cells: [TableCell] = []
        while let row = try rows.next() {
            cells.removeAll(keepingCapacity: true)
            for i in 0..<width { cells.append(VersionTable.cell(row[i])) }
            try body(cells)
        }
    }

    /// The experiments that have rows in this table (for `export --all`, one folder each).
    public func experiments(_ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT name FROM experiment ORDER BY name").filter { name in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM (\(sql)))", arguments: [name]) ?? false
        }
    }

    /// Refuses an experiment the store does not have, naming those it has (a mistyped name must not export nothing).
    public static func requireExperiment(_ db: Database, _ name: String) throws {
        let names = try String.fetchAll(db, sql: "SELECT name FROM experiment ORDER BY name")
        guard names.contains(name) else {
            throw SRLMError.notFound("no experiment '\(name)' in this store (it has: \(names.isEmpty ? "none" : names.joined(separator: ", ")))")
        }
    }
}
