import Foundation
import GRDB

/// What `srlm rm` removes.
public enum RemovalTarget: Sendable, CustomStringConvertible {
    /// One version no run, version, checkpoint or round depends on.
    case version(DatasetRef)
    /// A round with the versions and checkpoint it made, the runs that made them and the evaluations of its
    /// checkpoint; nothing outside it may depend on them (in practice: the experiment's last round).
    case round(Int)
    /// The experiment and everything in it.
    case experiment

    public var description: String {
        switch self {
        case .version(let ref): return ref.description
        case .round(let n): return "round \(n)"
        case .experiment: return "experiment"
        }
    }
}

/// What a removal took (or, as a dry run, would take) out of the store. Blob bytes are reclaimed by `srlm gc`.
public struct RemovalReport: Codable, Sendable {
    public var experiment = ""
    public var what = ""
    public var versions: [String] = []
    public var checkpoints: [String] = []
    public var runs: [Int64] = []
    public var rounds: [Int] = []
    public var rows = 0
    /// Journal entries of the removed runs that no kept row names (kept ones stay, detached from the run).
    public var journalCalls = 0
    /// Model files of removed checkpoints, now waiting for `srlm gc`, and their recorded bytes.
    public var files: [String] = []
    public var fileBytes: Int64 = 0
    public var dryRun = false

    public func summary() -> String {
        var parts: [String] = []
        if !versions.isEmpty { parts.append("\(versions.count) version(s) (\(versions.joined(separator: ", "))) with \(rows) rows") }
        if !checkpoints.isEmpty { parts.append("checkpoint(s) \(checkpoints.joined(separator: ", "))") }
        if !rounds.isEmpty { parts.append("round(s) \(rounds.map(String.init).joined(separator: ", "))") }
        if !runs.isEmpty { parts.append("\(runs.count) run(s)") }
        if journalCalls > 0 { parts.append("\(journalCalls) journaled call(s)") }
        let head = (dryRun ? "would remove " : "removed ") + (parts.isEmpty ? "nothing" : parts.joined(separator: ", "))
        let files = self.files.isEmpty ? "" : String(format: "; %d model file(s), %.1f MB, %@ `srlm gc`", self.files.count,
                                                      Double(fileBytes) / 1e6, dryRun ? "would wait for" : "wait for")
        return "\(experiment): " + head + files + (dryRun ? "" : "; `srlm gc` reclaims the blobs no kept row uses")
    }
}

/// `srlm rm`: finds what a target takes with it, refuses (naming them) when anything kept depends on it, and
/// otherwise deletes it in one transaction. The immutability triggers are lifted only inside that transaction, and
/// the deferred foreign-key check at commit backs up the dependency check. Content hashes of everything kept are
/// untouched: nothing kept is rewritten.
public enum Remover {
    struct Selection {
        var versions: Set<Int64> = []
        var checkpoints: Set<Int64> = []
        var runs: Set<Int64> = []
        var rounds: Set<Int64> = []
    }

    public static func run(_ store: Store, experiment: String, target: RemovalTarget, dryRun: Bool = false) throws -> RemovalReport {
        let work = { (db: Database) throws -> RemovalReport in
            guard let experimentID = try Experiment.existingID(db, experiment) else {
                throw SRLMError.notFound("no experiment '\(experiment)'")
            }
            let selection = try select(db, experimentID: experimentID, experiment: experiment, target)
            let dependents = try Dependents.find(db, selection)
            if !dependents.isEmpty {
                throw SRLMError.inUse(what: "\(experiment)/\(target)", by: dependents)
            }
            let freed = try freedFiles(db, selection)
            var report = try describe(db, selection, freed: freed)
            report.experiment = experiment
            report.what = target.description
            report.dryRun = dryRun
            if !dryRun { try delete(db, selection, experimentID: experimentID, target: target, report: report, freed: freed) }
            return report
        }
        return dryRun ? try store.read(work) : try store.write(work)
    }

    static func select(_ db: Database, experimentID: Int64, experiment: String, _ target: RemovalTarget) throws -> Selection {
        var s = Selection()
        switch target {
        case .version(let ref):
            s.versions = [try DatasetVersion.resolve(db, ref, experiment: experiment).id]
        case .round(let iteration):
            guard let round = try Int64.fetchOne(db, sql: "SELECT id FROM round WHERE experiment_id = ? AND iteration = ?",
                                                 arguments: [experimentID, iteration]) else {
                throw SRLMError.notFound("\(experiment) has no round \(iteration)")
            }
            s.rounds = [round]
            // What only this round names is the round's own; what another round names too (the policy it started
            // from, a reused version) stays. Checkpoints srlm did not train (an imported M0) keep their record.
            let only = "NOT EXISTS (SELECT 1 FROM round_member o WHERE o.round_id <> m.round_id AND %@)"
            s.versions = Set(try Int64.fetchAll(db, sql: """
                SELECT m.version_id FROM round_member m WHERE m.round_id = ? AND m.version_id IS NOT NULL
                AND \(String(format: only, "o.version_id = m.version_id"))
                """, arguments: [round]))
            s.checkpoints = Set(try Int64.fetchAll(db, sql: """
                SELECT m.checkpoint_id FROM round_member m JOIN checkpoint c ON c.id = m.checkpoint_id
                WHERE m.round_id = ? AND c.train_run_id IS NOT NULL
                AND \(String(format: only, "o.checkpoint_id = m.checkpoint_id"))
                """, arguments: [round]))
            try addMeasurements(db, &s)
        case .experiment:
            s.versions = Set(try Int64.fetchAll(db, sql: """
                SELECT v.id FROM dataset_version v JOIN dataset d ON d.id = v.dataset_id WHERE d.experiment_id = ?
                """, arguments: [experimentID]))
            s.checkpoints = Set(try Int64.fetchAll(db, sql: "SELECT id FROM checkpoint WHERE experiment_id = ?", arguments: [experimentID]))
            s.runs = Set(try Int64.fetchAll(db, sql: "SELECT id FROM run WHERE experiment_id = ?", arguments: [experimentID]))
            s.rounds = Set(try Int64.fetchAll(db, sql: "SELECT id FROM round WHERE experiment_id = ?", arguments: [experimentID]))
        }
        // The runs that made the selected versions and checkpoints go too, when everything they made goes.
        let makers = try Int64.fetchAll(db, sql: """
            SELECT run_id FROM dataset_version WHERE id IN (SELECT value FROM json_each(?1)) AND run_id IS NOT NULL
            UNION SELECT train_run_id FROM checkpoint WHERE id IN (SELECT value FROM json_each(?2)) AND train_run_id IS NOT NULL
            """, arguments: [Guards.json(s.versions), Guards.json(s.checkpoints)])
        for run in makers where !s.runs.contains(run) {
            let otherOutputs = try Int.fetchOne(db, sql: """
                SELECT (SELECT count(*) FROM dataset_version WHERE run_id = ?1 AND id NOT IN (SELECT value FROM json_each(?2)))
                     + (SELECT count(*) FROM checkpoint WHERE train_run_id = ?1 AND id NOT IN (SELECT value FROM json_each(?3)))
                """, arguments: [run, Guards.json(s.versions), Guards.json(s.checkpoints)]) ?? 0
            if otherOutputs == 0 { s.runs.insert(run) }
        }
        return s
    }

    /// Measurements of what goes, go with it: evaluation and judge-probe runs that used a removed checkpoint or read a
    /// removed version (their figures describe a model or data that is gone), with the versions they wrote, and so on
    /// until nothing new joins (a comparison that read removed answers).
    static func addMeasurements(_ db: Database, _ s: inout Selection) throws {
        while true {
            let runs = try Int64.fetchAll(db, sql: """
                SELECT r.id FROM run r WHERE (r.stage LIKE 'eval-%' OR r.stage = 'judge-probe')
                AND r.id NOT IN (SELECT value FROM json_each(?3)) AND (
                    EXISTS (SELECT 1 FROM checkpoint c WHERE c.id IN (SELECT value FROM json_each(?2)) AND c.experiment_id = r.experiment_id
                            AND c.name IN (json_extract(r.config, '$.model'), json_extract(r.config, '$.base')))
                    OR EXISTS (SELECT 1 FROM run_input i WHERE i.run_id = r.id AND i.version_id IN (SELECT value FROM json_each(?1))))
                """, arguments: [Guards.json(s.versions), Guards.json(s.checkpoints), Guards.json(s.runs)])
            if runs.isEmpty { return }
            s.runs.formUnion(runs)
            s.versions.formUnion(try Int64.fetchAll(db, sql: "SELECT id FROM dataset_version WHERE run_id IN (SELECT value FROM json_each(?))",
                                                    arguments: [Guards.json(runs)]))
        }
    }

    static func describe(_ db: Database, _ s: Selection, freed: [FreedFile]) throws -> RemovalReport {
        var report = RemovalReport()
        let versions = try DatasetVersion.all(db).filter { s.versions.contains($0.id) }
        report.versions = versions.map(\.ref)
        report.rows = versions.reduce(0) { $0 + $1.rowCount }
        report.checkpoints = try String.fetchAll(db, sql: "SELECT name FROM checkpoint WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id",
                                                 arguments: [Guards.json(s.checkpoints)])
        report.runs = s.runs.sorted()
        report.rounds = try Int.fetchAll(db, sql: "SELECT iteration FROM round WHERE id IN (SELECT value FROM json_each(?)) ORDER BY iteration",
                                         arguments: [Guards.json(s.rounds)])
        report.journalCalls = try Int.fetchOne(db, sql: "SELECT count(*) FROM model_call WHERE " + unusedCalls,
                                               arguments: [Guards.json(s.runs), Guards.json(s.versions)]) ?? 0
        let root = try RunFolder.root(db)
        for file in freed {
            report.files.append(RunFolder.resolve(file.path, root: root))
            report.fileBytes += file.size ?? 0
        }
        return report
    }

    /// Journal entries of removed runs (?1) that no kept row (outside the removed versions ?2) was made from.
    static let unusedCalls = """
        run_id IN (SELECT value FROM json_each(?1))
        AND request_hash NOT IN (SELECT call_hash FROM candidate WHERE call_hash IS NOT NULL AND version_id NOT IN (SELECT value FROM json_each(?2)))
        AND request_hash NOT IN (SELECT call_hash FROM judgment WHERE call_hash IS NOT NULL AND version_id NOT IN (SELECT value FROM json_each(?2)))
        """

    struct FreedFile { let path: String; let sha256: String?; let size: Int64? }

    /// The files of removed checkpoints that srlm trained (never an imported model's) that are inside the store's run
    /// folder (recorded relative to it: files elsewhere are not the store's to delete) and no kept checkpoint lists,
    /// and the removed training runs' folders in the per-store layout.
    static func freedFiles(_ db: Database, _ s: Selection) throws -> [FreedFile] {
        var files = try Row.fetchAll(db, sql: """
            SELECT DISTINCT f.path, f.sha256, f.size FROM checkpoint_file f JOIN checkpoint c ON c.id = f.checkpoint_id
            WHERE c.id IN (SELECT value FROM json_each(?1)) AND c.train_run_id IS NOT NULL AND substr(f.path, 1, 1) <> '/'
            AND f.path NOT IN (SELECT path FROM checkpoint_file WHERE checkpoint_id NOT IN (SELECT value FROM json_each(?1)))
            ORDER BY f.path
            """, arguments: [Guards.json(s.checkpoints)]).map { FreedFile(path: $0[0], sha256: $0[1], size: $0[2]) }
        guard let root = try RunFolder.root(db) else { return files }
        let trainRuns = try Int64.fetchAll(db, sql: """
            SELECT train_run_id FROM checkpoint WHERE id IN (SELECT value FROM json_each(?)) AND train_run_id IS NOT NULL
            """, arguments: [Guards.json(s.checkpoints)])
        for run in trainRuns where FileManager.default.fileExists(atPath: root + "/\(run)") {
            files.append(FreedFile(path: String(run), sha256: nil, size: nil))
        }
        return files
    }

    /// A later version of the same dataset (the next round's answers, say) names a removed one as its parent only
    /// because it came next: it now names the nearest kept ancestor. Real derivations also have a run that read the
    /// version, and those block the removal instead (`Dependents`). Rows and content hashes do not change.
    static func reparent(_ db: Database, _ removed: Set<Int64>) throws {
        let children = try Row.fetchAll(db, sql: """
            SELECT id, parent_id FROM dataset_version WHERE parent_id IN (SELECT value FROM json_each(?1)) AND id NOT IN (SELECT value FROM json_each(?1))
            """, arguments: [Guards.json(removed)])
        for child in children {
            var parent: Int64? = child[1]
            while let p = parent, removed.contains(p) {
                parent = try Int64.fetchOne(db, sql: "SELECT parent_id FROM dataset_version WHERE id = ?", arguments: [p])
            }
            try db.execute(sql: "UPDATE dataset_version SET parent_id = ? WHERE id = ?", arguments: [parent, child[0] as Int64])
        }
    }

    static func delete(_ db: Database, _ s: Selection, experimentID: Int64, target: RemovalTarget, report: RemovalReport,
                       freed: [FreedFile]) throws {
        let versions = Guards.json(s.versions), checkpoints = Guards.json(s.checkpoints)
        let runs = Guards.json(s.runs), rounds = Guards.json(s.rounds)
        let datasets = Guards.json(try Int64.fetchAll(db, sql: "SELECT DISTINCT dataset_id FROM dataset_version WHERE id IN (SELECT value FROM json_each(?))",
                                                      arguments: [versions]))
        try db.execute(sql: "PRAGMA defer_foreign_keys = ON")
        try Guards.lifted(db, try Guards.versions(db) + ["dataset_version_immutable"]) {
            for kind in ArtifactKind.allCases {
                try db.execute(sql: "DELETE FROM \(kind.table) WHERE version_id IN (SELECT value FROM json_each(?))", arguments: [versions])
            }
            try db.execute(sql: "DELETE FROM version_segment WHERE version_id IN (SELECT value FROM json_each(?))", arguments: [versions])
            try db.execute(sql: "DELETE FROM round_member WHERE round_id IN (SELECT value FROM json_each(?))", arguments: [rounds])
            try db.execute(sql: "DELETE FROM round WHERE id IN (SELECT value FROM json_each(?))", arguments: [rounds])
            try db.execute(sql: "DELETE FROM run_input WHERE run_id IN (SELECT value FROM json_each(?))", arguments: [runs])
            try db.execute(sql: "DELETE FROM checkpoint_file WHERE checkpoint_id IN (SELECT value FROM json_each(?))", arguments: [checkpoints])
            try db.execute(sql: "DELETE FROM checkpoint WHERE id IN (SELECT value FROM json_each(?))", arguments: [checkpoints])
            try reparent(db, s.versions)
            try db.execute(sql: "DELETE FROM dataset_version WHERE id IN (SELECT value FROM json_each(?))", arguments: [versions])
            // A dataset whose last version went goes too, so its name can be used again.
            try db.execute(sql: """
                DELETE FROM dataset WHERE id IN (SELECT value FROM json_each(?))
                AND NOT EXISTS (SELECT 1 FROM dataset_version v WHERE v.dataset_id = dataset.id)
                """, arguments: [datasets])
            try db.execute(sql: "DELETE FROM model_call WHERE " + unusedCalls, arguments: [runs, versions])
            try db.execute(sql: "UPDATE model_call SET run_id = NULL WHERE run_id IN (SELECT value FROM json_each(?))", arguments: [runs])
            for table in ["train_metric", "prompt_rejection", "import_rejection", "eval_metric"] {
                try db.execute(sql: "DELETE FROM \(table) WHERE run_id IN (SELECT value FROM json_each(?))", arguments: [runs])
            }
            try db.execute(sql: "DELETE FROM run WHERE id IN (SELECT value FROM json_each(?))", arguments: [runs])
            if case .experiment = target {
                for table in ["plan", "plan_recipe", "dataset"] {
                    try db.execute(sql: "DELETE FROM \(table) WHERE experiment_id = ?", arguments: [experimentID])
                }
                try db.execute(sql: "DELETE FROM experiment WHERE id = ?", arguments: [experimentID])
            }
        }
        let detail = try CanonicalJSON.encode(report)
        try db.execute(sql: "INSERT INTO removal(experiment, what, detail) VALUES (?, ?, ?)",
                       arguments: [report.experiment, report.what, String(decoding: detail, as: UTF8.self)])
        let removal = db.lastInsertedRowID
        for file in freed {
            try db.execute(sql: """
                INSERT INTO removed_file(path, sha256, size, removal_id) VALUES (?, ?, ?, ?)
                ON CONFLICT(path) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size, removal_id = excluded.removal_id, deleted = NULL
                """, arguments: [file.path, file.sha256, file.size, removal])
        }
    }
}
