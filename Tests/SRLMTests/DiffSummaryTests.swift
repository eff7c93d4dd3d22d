import Foundation
import Testing
@testable import CLI
@testable import SRLMEval
@testable import SRLMStages
@testable import SRLMStore

@Suite struct DiffSummaryTests {
    /// Two rounds' pairs that share no row: the summary says how lengths, margins and n-grams moved.
    @Test func pairsBetweenRoundsMoveAsWritten() throws {
        let store = try TestSupport.makeStore()
        func write(_ name: String, _ rows: [(prompt: String, chosen: String, rejected: String, scores: (Double, Double))]) throws -> DatasetVersion {
            try store.write { db in
                let writer = try VersionWriter(db, experiment: "default", name: name, kind: .pairs, runID: nil)
                for r in rows {
                    try writer.append([.text(Blobs.text([.user(r.prompt)])), .text(Blobs.text([.assistant(r.chosen)])),
                                       .text(Blobs.text([.assistant(r.rejected)])), .real(r.scores.0), .real(r.scores.1)])
                }
                return try writer.finish()
            }
        }
        let a = try write("round1", [("how do I boil an egg", "put it in boiling water", "no", (4, 2)),
                                     ("how do I fry an egg", "heat the pan first", "eggs", (5, 4))])
        let b = try write("round2", [("how do I boil an egg", "put it in boiling water for nine minutes then cool it", "no", (5, 1)),
                                     ("what is a prime number", "a number with exactly two divisors", "a number", (4, 3))])
        let diff = try Differ.diff(store, from: a, to: b, rowLimit: 0)
        let s = DiffSummary.compute(try VersionColumns.read(store, a), try VersionColumns.read(store, b), unchangedRows: diff.unchanged)
        #expect(s.rowsA == 2 && s.rowsB == 2 && s.overlap.rows == 0)
        // One prompt in both; texts in both: that prompt and "no".
        #expect(s.overlap.prompts == 1 && s.overlap.texts == 2)
        let margin = try #require(s.columns.first { $0.column == "margin" })
        #expect(margin.a.mean == 1.5 && margin.b.mean == 2.5 && margin.change?.value == 1.0)
        #expect(margin.histogramB == ["4": 1, "1": 1])
        let chosen = try #require(s.columns.first { $0.column == "chosen" })
        #expect(chosen.a.mean == Double("put it in boiling water".count + "heat the pan first".count) / 2)
        // B's chosen 3-grams: 9 + 4; of the first reply's, "put it in", "it in boiling", "in boiling water" occur in A.
        let novelty = try #require(chosen.novelty)
        #expect(abs(novelty.value - 10.0 / 13.0) < 1e-12)
        #expect(try #require(s.lengthRatioB) > (try #require(s.lengthRatioA)))
        // Two prompts a side, one shared: the change's interval (prompts drawn on both sides together) reaches 0, so
        // this drift is not told apart from noise. A resample without the shared prompt changes nothing (1 → 1), so
        // the low bound is 0 exactly; rows are no longer the unit, so it no longer dips below.
        #expect(margin.a.prompts == 2 && margin.b.prompts == 2 && margin.change?.paired == true)
        #expect(margin.change?.interval.map { $0.low <= 0 && $0.high > 0 } == true)
        #expect(DiffSummaryText.render(s).contains("intervals: bootstrap over prompts (2 in A, 2 in B); the change draws shared prompts"))
    }

    /// Another experiment's version is named exp:EXPERIMENT/NAME[@N].
    @Test func versionsOfAnotherExperiment() throws {
        let store = try TestSupport.makeStore()
        let v = try writeSamplePairs(store, name: "pairs", count: 3)
        #expect(try DatasetVersion.resolve(store, qualified: "exp:default/pairs@1", experiment: "other").id == v.id)
        #expect(throws: SRLMError.self) { try DatasetVersion.resolve(store, qualified: "exp:pairs@1", experiment: "default") }
    }

    /// Pairs matched by prompt: a reversed choice is found and sorted first; prompts in one side only are counted.
    @Test func pairsMatchedByPromptShowFlips() throws {
        let store = try TestSupport.makeStore()
        func write(_ name: String, _ rows: [(String, String, String, Double, Double)]) throws -> DatasetVersion {
            try store.write { db in
                let writer = try VersionWriter(db, experiment: "default", name: name, kind: .pairs, runID: nil)
                for r in rows {
                    try writer.append([.text(Blobs.text([.user(r.0)])), .text(Blobs.text([.assistant(r.1)])),
                                       .text(Blobs.text([.assistant(r.2)])), .real(r.3), .real(r.4)])
                }
                return try writer.finish()
            }
        }
        let a = try write("policy-a", [("q1", "long answer", "short", 5, 3), ("q2", "yes", "no", 4, 3), ("q3", "x", "y", 2, 1)])
        let b = try write("policy-b", [("q1", "short", "long answer", 4, 3), ("q2", "yes", "no", 5, 3), ("q4", "z", "w", 3, 1)])
        let d = try KeyedDiff.compute(try VersionColumns.read(store, a), try VersionColumns.read(store, b))
        #expect(d.matched == 2 && d.onlyA == 1 && d.onlyB == 1 && d.flipped == 1)
        let first = try #require(d.entries.first)
        #expect(first.prompt == "q1" && first.reversed && first.valueA == 2 && first.valueB == 1)
        #expect(d.entries.last?.flipped == false && d.entries.last?.valueB == 2)
    }

    @Test func wordDiffMarksRemovedAndAddedWords() {
        #expect(WordDiff.render("boil the egg for five minutes", "boil the egg for nine minutes then cool")
                == "boil the egg for [-five-] {+nine+} minutes {+then cool+}")
        #expect(WordDiff.render("same", "same") == "same")
    }
}

@Suite struct DiffRoundsTests {
    /// `srlm diff --rounds 1 2` summarises each role two rounds share, through the CLI command itself.
    @Test func twoRoundsRoleByRole() throws {
        let store = try HealthFixture.store(scores: [[5, 2], [4, 1]])
        try store.write { db in
            let judgments = try VersionWriter(db, experiment: "default", name: "judgments", kind: .judgments, runID: nil)
            for (p, score) in [(0, 3.0), (0, 1.0)].enumerated() {
                try judgments.append(["prompt": .text(Blobs.text([.user("question \(score.0)")])),
                                      "response": .text(Blobs.text([.assistant("round two answer \(p)")])),
                                      "judge_model": .text("M2"), "sample_index": .int(0), "output": .text("Score: \(Int(score.1))"),
                                      "score": .real(score.1), "mode": .text("free")])
            }
            try Rounds.setVersion(db, experiment: "default", iteration: 2, role: .judgments, version: try judgments.finish().id)
        }
        let a = try #require(try Rounds.version(store, experiment: "default", iteration: 1, role: .judgments))
        let b = try #require(try Rounds.version(store, experiment: "default", iteration: 2, role: .judgments))
        let s = DiffSummary.compute(try VersionColumns.read(store, a), try VersionColumns.read(store, b), unchangedRows: 0)
        let score = try #require(s.columns.first { $0.column == "score" })
        #expect(score.a.mean == 3 && score.b.mean == 2 && s.overlap.prompts == 1)
        let command = try Diff.parse(["--rounds", "1", "2", "--store", store.path, "--format", "json"])
        try command.run()
    }
}
