-- srlm store, migration 008: the recipe an experiment's current plan was built from (a plan file's contents: every
-- stage's config), so `srlm plan show` prints the file back and two experiments' recipes compare by SQL.
CREATE TABLE plan_recipe (
    experiment_id INTEGER PRIMARY KEY REFERENCES experiment(id),
    recipe        TEXT NOT NULL              -- canonical JSON of the recipe
) STRICT;
