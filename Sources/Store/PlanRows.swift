import GRDB

/// The `plan` table: an experiment's current loop plan, one row per step with the step's config as JSON.
public enum PlanRows {
    public static func save(_ store: Store, experiment: String, steps: [(stage: String, json: String)], recipe: String?) throws {
        try store.write { db in
            let id = try Experiment.id(db, experiment)
            try db.execute(sql: "DELETE FROM plan WHERE experiment_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM plan_recipe WHERE experiment_id = ?", arguments: [id])
            if let recipe {
                try db.execute(sql: "INSERT INTO plan_recipe(experiment_id, recipe) VALUES (?, ?)", arguments: [id, recipe])
            }
            for (n, step) in steps.enumerated() {
                try db.execute(sql: "INSERT INTO plan(experiment_id, step, stage, config) VALUES (?, ?, ?, ?)",
                               arguments: [id, n, step.stage, step.json])
            }
        }
    }

    /// The steps' JSON in order.
    public static func load(_ store: Store, experiment: String) throws -> [String] {
        try store.read { db in
            try String.fetchAll(db, sql: """
                SELECT p.config FROM plan p JOIN experiment e ON e.id = p.experiment_id WHERE e.name = ? ORDER BY p.step
                """, arguments: [experiment])
        }
    }

    /// The recipe (the plan file's contents, as JSON) the current plan was built from.
    public static func recipe(_ store: Store, experiment: String) throws -> String? {
        try store.read { db in
            try String.fetchOne(db, sql: """
                SELECT p.recipe FROM plan_recipe p JOIN experiment e ON e.id = p.experiment_id WHERE e.name = ?
                """, arguments: [experiment])
        }
    }
}
