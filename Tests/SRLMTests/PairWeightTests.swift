import Foundation
import GRDB
import Testing
@testable import SRLMExport
@testable import SRLMImport
@testable import SRLMLoop
@testable import SRLMStages
@testable import SRLMStore

/// Issue 14, item 4: per-pair weights — ScPO's vote margin and CREAM's consistency — worked by hand, stored on the
/// pairs, carried through the TRL export (and back in through import).
@Suite struct PairWeightTests {
    @Test func voteMarginByHand() {
        #expect(PairWeights.vote(chosen: [5, 4], rejected: [2, 2]) == 1)
        // 3 vs 3 ties; 3 > 2, 4 > 3, 4 > 2: (3 − 0) / 4.
        #expect(PairWeights.vote(chosen: [3, 4], rejected: [3, 2]) == 0.75)
        // A higher mean that most sample pairs contradict: (3 − 6) / 9, floored at 0.
        #expect(PairWeights.vote(chosen: [5, 0, 0], rejected: [1, 1, 1]) == 0)
        #expect(PairWeights.vote(chosen: [], rejected: [1]) == nil)
    }

    @Test func consistencyByHand() throws {
        #expect(PairWeights.consistency([4.5, 2, 3], [5, 1, 2]) == 1)
        #expect(PairWeights.consistency([4.5, 2, 3], [1, 3, 2]) == 0)
        // x = [4, 4, 1.5], y = [4, 3, 1]: 2 concordant of 3 pairs, one tied in x: τ-b = 2/√(2·3).
        let c = try #require(PairWeights.consistency([4, 4, 1.5], [4, 3, 1]))
        #expect(abs(c - (2 / 6.0.squareRoot() + 1) / 2) < 1e-12)
        // A judge that scores every candidate the same has no ranking to agree with.
        #expect(PairWeights.consistency([4, 2, 1], [3, 3, 3]) == nil)
        #expect(PairWeights.consistency([4], [3]) == nil)
    }

    /// The round's judgments of `PairPolicyTests.storeWithJudgments` (means: prompt 0 4.5, 2, 3; prompt 1 4, 4, 1.5;
    /// prompt 2 a tie) plus M0's judgments of the same candidates: prompt 0 ranked the reverse way, prompt 1 alike
    /// but for the tie, prompt 2 not scored.
    static func storeWithTwoJudges() throws -> Store {
        let store = try PairPolicyTests.storeWithJudgments()
        let reference: [[Double]] = [[1, 3, 2], [4, 3, 1]]
        let lengths = [[40, 300, 20], [10, 200, 90]]
        try store.write { db in
            let w = try VersionWriter(db, experiment: "default", name: "judgments-m0", kind: .judgments, runID: nil)
            for p in 0..<2 {
                for k in 0..<3 {
                    try w.append(["prompt": .text(Blobs.text([.user("prompt \(p)")])),
                                  "response": .text(Blobs.text([.assistant(String(repeating: "x", count: lengths[p][k]) + "\(k)")])),
                                  "judge_model": .text("M0"), "sample_index": .int(0), "output": .text("Score: \(reference[p][k])"),
                                  "score": .real(reference[p][k]), "mode": .text("structured")])
                }
            }
            _ = try w.finish()
        }
        return store
    }

    static func weights(_ store: Store, _ ref: String) throws -> [[Double?]] {
        try store.read { db in
            try Row.fetchAll(db, sql: "SELECT weight, confidence FROM v_pairs WHERE ref = ? ORDER BY ord", arguments: [ref]).map { [$0[0], $0[1]] }
        }
    }

    @Test func policiesStoreWeightsAndSoftLabels() async throws {
        let store = try Self.storeWithTwoJudges()
        let context = StageContext(store: store, quiet: true)
        let plain = try await context.perform(Pairs(config: Pairs.Config(round: 1)))
        var config = Pairs.Config(round: 1)
        config.weighting = PairWeighting.none
        config.name = "pairs-none"
        let none = try await context.perform(Pairs(config: config))
        // No weight asked: the same rows and hash as the paper's, and the same recorded config.
        #expect(none.version.contentHash == plain.version.contentHash)
        #expect(try Self.weights(store, "pairs-none@1") == [[nil, nil], [nil, nil]])

        config.weighting = .vote
        config.consistencyWith = "judgments-m0"
        config.name = "pairs-cream"
        let cream = try await context.perform(Pairs(config: config))
        let tau1 = (2 / 6.0.squareRoot() + 1) / 2
        let stored = try Self.weights(store, "pairs-cream@1")
        #expect(stored.count == 2 && stored[0] == [1, 0] && stored[1][0] == 1 && abs((stored[1][1] ?? 0) - tau1) < 1e-12)
        #expect(cream.version.contentHash != plain.version.contentHash)
        #expect(abs((cream.stats["mean_confidence"] ?? 0) - tau1 / 2) < 1e-12 && cream.stats["mean_weight"] == 1)
        // The other judge's version is an input of the run, recorded resolved.
        let recorded = try store.read { try String.fetchOne($0, sql: "SELECT config FROM run WHERE id = ?", arguments: [cream.runID]) } ?? ""
        #expect(recorded.contains(#""consistencyWith":"judgments-m0@1""#) && recorded.contains(#""weighting":"vote""#))
        let inputs = try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM run_input WHERE run_id = ?", arguments: [cream.runID]) }
        #expect(inputs == 2)

        config.weighting = nil
        config.consistencyScope = .set
        config.name = "pairs-cream-set"
        _ = try await context.perform(Pairs(config: config))
        #expect(try Self.weights(store, "pairs-cream-set@1").map { $0[1].map { abs($0 - tau1 / 2) < 1e-12 } } == [true, true])
        // The named query sets the weights beside the policies.
        let compare = try NamedQuery.run(store, "policy-compare", experiment: "default").records
        #expect(compare.map { $0.text("pairs") } == ["pairs@1", "pairs-none@1", "pairs-cream@1", "pairs-cream-set@1"])
        #expect(compare[0].double("mean_weight") == nil && compare[2].double("mean_weight") == 1)
        #expect(abs((compare[3].double("mean_confidence") ?? 0) - tau1 / 2) < 1e-3)
    }

    /// A prompt the other judge did not rank has no consistency: per pair it is dropped, by its reason.
    @Test func promptsWithoutAConsistencyAreDroppedByReason() async throws {
        let store = try Self.storeWithTwoJudges()
        try store.write { db in
            let w = try VersionWriter(db, experiment: "default", name: "judgments-flat", kind: .judgments, runID: nil)
            for k in 0..<3 {
                try w.append(["prompt": .text(Blobs.text([.user("prompt 0")])),
                              "response": .text(Blobs.text([.assistant(String(repeating: "x", count: [40, 300, 20][k]) + "\(k)")])),
                              "judge_model": .text("M0"), "sample_index": .int(0), "output": .text("Score: 3"), "score": .real(3), "mode": .text("structured")])
            }
            _ = try w.finish()
        }
        var config = Pairs.Config(round: 1)
        config.consistencyWith = "judgments-flat"
        config.name = "pairs-flat"
        let result = try await StageContext(store: store, quiet: true).perform(Pairs(config: config))
        #expect(result.version.rowCount == 0 && result.stats["dropped.consistency: the two judges do not both rank 2+ candidates"] == 2)
        config.consistencyWith = "judgments@1"
        await #expect(throws: SRLMError.self) { try await StageContext(store: store, quiet: true).perform(Pairs(config: config)) }
        var scopeOnly = Pairs.Config(round: 1)
        scopeOnly.consistencyScope = .set
        #expect(throws: SRLMError.self) { try scopeOnly.validate() }
    }

    /// The TRL export writes weight and confidence under sorted keys; importing the file gives back the same version.
    @Test func trlExportCarriesTheWeightsAndImportKeepsThem() async throws {
        let store = try Self.storeWithTwoJudges()
        var config = Pairs.Config(round: 1)
        config.weighting = .vote
        config.consistencyWith = "judgments-m0"
        config.name = "weighted"
        let made = try await StageContext(store: store, quiet: true).perform(Pairs(config: config))
        let path = TestSupport.writeTemp("", name: "weighted.jsonl")
        #expect(try Exporter.run(store, version: made.version, format: .trl, to: FileSink(path: path)) == 2)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines[0].contains(#"]],"confidence":0,"prompt":[{"#) || lines[0].contains(#"],"confidence":0,"prompt":["#))
        #expect(lines[0].hasSuffix(#","score_chosen":4.5,"score_rejected":2,"weight":1}"#))
        for line in lines {
            let keys = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]).keys
            #expect(Set(keys) == ["chosen", "confidence", "prompt", "rejected", "score_chosen", "score_rejected", "weight"])
        }
        let imported = try #require(try Importer.run(store, ImportOptions(target: .pairs, path: path, format: .trl, name: "reimported")).version)
        #expect(imported.contentHash == made.version.contentHash)
    }

    /// A plan file weights every round's pairs; a plan without the field keeps the paper's (and its config hashes).
    @Test func planFilesCarryTheWeighting() throws {
        let plan = try LoopPlan.Options(yaml: "iterations: 2\npairs:\n  weighting: vote\n", file: "plan.yaml")
        let weightings = LoopPlan.loop(plan).steps.compactMap { step -> PairWeighting?? in
            if case .pairs(let c) = step.action { return c.weighting }
            return nil
        }
        #expect(weightings == [.vote, .vote])
        let plain = try LoopPlan.Options(yaml: "iterations: 1\n", file: "plan.yaml")
        let encoded = String(decoding: try CanonicalJSON.encode(plain.pairs), as: UTF8.self)
        #expect(plain.pairs.weighting == nil && !encoded.contains("weighting"))
    }

    @Test func importRefusesAWeightOutOfRangeByFileLineAndField() throws {
        let good = #"{"prompt": "q", "chosen": "c", "rejected": "r", "weight": 0.5, "confidence": 1}"#
        for (bad, field) in [(#"{"prompt": "q", "chosen": "c", "rejected": "r", "weight": -1}"#, "weight"),
                             (#"{"prompt": "q", "chosen": "c", "rejected": "r", "confidence": 1.5}"#, "confidence"),
                             (#"{"prompt": "q", "chosen": "c", "rejected": "r", "weight": "heavy"}"#, "weight")] {
            let store = try TestSupport.makeStore()
            let path = TestSupport.writeTemp(good + "\n" + bad + "\n", name: "weights.jsonl")
            let error = try #require(throws: ImportError.self) { try Importer.run(store, ImportOptions(target: .pairs, path: path, format: .trl)) }
            #expect(error.description.contains("weights.jsonl:2") && error.description.contains(field), "\(error.description)")
            #expect(try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM pair") } == 0)
        }
    }
}
