import GRDB

extension Remover {
    /// What outside a selection still needs something in it, in words (`short@1 is derived from hh@1`, …). Empty:
    /// the selection can go. A later version of the same dataset is not a dependent (see `Remover.reparent`).
    enum Dependents {
        static func find(_ db: Database, _ s: Selection) throws -> [String] {
            let versions = Guards.json(s.versions), checkpoints = Guards.json(s.checkpoints)
            let runs = Guards.json(s.runs), rounds = Guards.json(s.rounds)
            let label = "(SELECT d.name || '@' || v.version FROM dataset_version v JOIN dataset d ON d.id = v.dataset_id WHERE v.id = %@)"
            func ref(_ column: String) -> String { String(format: label, column) }
            let sql = """
                SELECT \(ref("c.id")) || ' is derived from ' || \(ref("c.parent_id"))
                  FROM dataset_version c JOIN dataset_version p ON p.id = c.parent_id
                  WHERE c.parent_id IN (SELECT value FROM json_each(?1)) AND c.id NOT IN (SELECT value FROM json_each(?1))
                  AND c.dataset_id <> p.dataset_id
                UNION ALL
                SELECT 'run ' || r.id || ' (' || r.stage || ') reads ' || \(ref("i.version_id"))
                  FROM run_input i JOIN run r ON r.id = i.run_id
                  WHERE i.version_id IN (SELECT value FROM json_each(?1)) AND i.run_id NOT IN (SELECT value FROM json_each(?3))
                UNION ALL
                SELECT 'checkpoint ' || c.name || ' was trained on ' || \(ref("c.data_version_id"))
                  FROM checkpoint c WHERE c.data_version_id IN (SELECT value FROM json_each(?1)) AND c.id NOT IN (SELECT value FROM json_each(?2))
                UNION ALL
                SELECT 'round ' || o.iteration || ' uses ' || \(ref("m.version_id")) || ' as its ' || m.role
                  FROM round_member m JOIN round o ON o.id = m.round_id
                  WHERE m.version_id IN (SELECT value FROM json_each(?1)) AND m.round_id NOT IN (SELECT value FROM json_each(?4))
                UNION ALL
                SELECT 'checkpoint ' || c.name || ' starts from ' || b.name
                  FROM checkpoint c JOIN checkpoint b ON b.id = c.base_id
                  WHERE c.base_id IN (SELECT value FROM json_each(?2)) AND c.id NOT IN (SELECT value FROM json_each(?2))
                UNION ALL
                SELECT 'round ' || o.iteration || ' uses checkpoint ' || c.name || ' as its ' || m.role
                  FROM round_member m JOIN round o ON o.id = m.round_id JOIN checkpoint c ON c.id = m.checkpoint_id
                  WHERE m.checkpoint_id IN (SELECT value FROM json_each(?2)) AND m.round_id NOT IN (SELECT value FROM json_each(?4))
                UNION ALL
                SELECT 'run ' || r.id || ' (' || r.stage || ') used checkpoint ' || c.name
                  FROM run r JOIN checkpoint c ON c.experiment_id = r.experiment_id
                    AND (json_extract(r.config, '$.model') = c.name OR json_extract(r.config, '$.base') = c.name)
                  WHERE c.id IN (SELECT value FROM json_each(?2)) AND r.id NOT IN (SELECT value FROM json_each(?3))
                UNION ALL
                SELECT DISTINCT \(ref("p.version_id")) || ' holds prompts made by run ' || p.source_run_id
                  FROM prompt p WHERE p.source_run_id IN (SELECT value FROM json_each(?3)) AND p.version_id NOT IN (SELECT value FROM json_each(?1))
                """
            return try String.fetchAll(db, sql: sql, arguments: [versions, checkpoints, runs, rounds])
        }
    }
}
