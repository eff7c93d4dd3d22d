import Foundation
import GRDB
import Testing
@testable import SRLMLoop
@testable import SRLMStages
@testable import SRLMStore

/// Issue 14: pair policies and filters, worked by hand, and replayed on stored judgments without a model.
private func c(_ id: BlobID, _ scores: [Double], length: Int) -> PairCandidate { PairCandidate(response: id, scores: scores, length: length) }

@Suite struct PairPolicyTests {

    // Smax 5, Smin 1. Means: A 5, B 4.5, C 2, D 2, E 1.
    static let five = [c(1, [5, 5], length: 300), c(2, [4, 5], length: 100), c(3, [2, 2], length: 50),
                       c(4, [1, 3], length: 400), c(5, [1, 1], length: 200)]

    @Test func bestWorstIsThePaper() {
        #expect(PairPick.pick(.bestWorst, rho: 0, Self.five) == .pair(chosen: Self.five[0], rejected: Self.five[4]))
        #expect(PairPick.pick(.bestWorst, rho: 0, [c(1, [3], length: 1), c(2, [3], length: 9)]) == .dropped("tie"))
        #expect(PairPick.pick(.bestWorst, rho: 0, [c(1, [3], length: 1), c(2, [], length: 9)]) == .dropped("fewer than 2 scored candidates"))
    }

    /// ρ 0.25: chosen band ≥ 0.75·5 + 0.25·1 = 4 → {A 5 (300 chars), B 4.5 (100)}: the shortest, B. Rejected band
    /// ≤ 0.75·1 + 0.25·5 = 2 → {C 2 (50), D 2 (400), E 1 (200)}: the longest, D.
    @Test func lengthControlTakesTheShortestHighAndTheLongestLow() {
        #expect(PairPick.pick(.lengthControl, rho: 0.25, Self.five) == .pair(chosen: Self.five[1], rejected: Self.five[3]))
        // ρ 0: the bands are the top and bottom scores alone (A and E here), whatever their lengths.
        #expect(PairPick.pick(.lengthControl, rho: 0, Self.five) == .pair(chosen: Self.five[0], rejected: Self.five[4]))
    }

    /// ρ 0 with equal scores: the candidate whose judge samples agree most wins, not the first or the shortest.
    @Test func lengthControlAtRhoZeroBreaksTiesByTheLeastSpread() {
        let spread = [c(1, [3, 5], length: 5), c(2, [4, 4], length: 10), c(3, [1, 3], length: 7), c(4, [2, 2], length: 1)]
        #expect(PairPick.pick(.lengthControl, rho: 0, spread) == .pair(chosen: spread[1], rejected: spread[3]))
        // best-worst keeps the first of equal means.
        #expect(PairPick.pick(.bestWorst, rho: 0, spread) == .pair(chosen: spread[0], rejected: spread[2]))
    }

    @Test func lengthControlDropsWhenTheBandsPickOneCandidate() {
        let two = [c(1, [5], length: 10), c(2, [1], length: 10)]
        #expect(PairPick.pick(.lengthControl, rho: 1, two) == .dropped("same candidate chosen and rejected"))
        #expect(PairPick.pick(.lengthControl, rho: 0.5, [c(1, [2], length: 1), c(2, [2], length: 2)]) == .dropped("tie"))
    }

    @Test func anchoredRejectsTheEarlierModelsWorst() {
        let current = [c(1, [4, 5], length: 10), c(2, [3, 3], length: 10)]
        let earlier = [c(7, [2, 2], length: 10), c(8, [1, 2], length: 10)]
        #expect(PairPick.pick(.anchored, rho: 0, current, anchor: earlier) == .pair(chosen: current[0], rejected: earlier[1]))
        #expect(PairPick.pick(.anchored, rho: 0, current, anchor: []) == .dropped("no judged anchor candidate"))
        #expect(PairPick.pick(.anchored, rho: 0, current, anchor: [c(9, [5, 5], length: 1)]) == .dropped("anchor not beaten"))
    }

    /// Ten pairs: rejected scores 1…10 (gap 1 each but the last, 0.5), rejected lengths 10…100, chosen 10× as long
    /// for the first pair. q0.3 of the rejected scores is 3.7: pairs with 1, 2, 3 go.
    @Test func filtersDropByReasonWithRIPQuantiles() {
        let pairs = (1...10).map { i in
            (c(BlobID(i), [Double(i) + (i == 10 ? 0.5 : 1)], length: i == 1 ? 100 : 20), c(BlobID(100 + i), [Double(i)], length: 10 * i))
        }
        var filters = PairFilters()
        filters.ripRejectedScore = 0.3
        var (kept, dropped) = filters.apply(pairs, chosen: \.0, rejected: \.1)
        #expect(kept.map(\.1.response) == Array(104...110) && dropped == ["rip: rejected score below its q0.3 (3.7)": 3])

        filters = PairFilters()
        filters.maxLengthRatio = 5
        filters.ripGap = 0.5           // the gaps' median is 1: the 0.5 gap goes
        filters.ripRejectedLength = [0.1, 0.9]   // 19…91 chars: 10 and 100 go (10 is also the 10× ratio)
        (kept, dropped) = filters.apply(pairs, chosen: \.0, rejected: \.1)
        #expect(kept.count == 8)
        #expect(dropped == ["length ratio above 5.0": 1, "rip: rejected length outside its q0.1…q0.9 (19…91 chars)": 1])
        filters.minMargin = 1
        (kept, dropped) = filters.apply(pairs, chosen: \.0, rejected: \.1)
        #expect(dropped["margin below 1.0"] == 1 && kept.count == 8)
    }

    // MARK: replay on stored judgments

    /// Round 1 of a store: 3 prompts × 3 candidates by M1, judged twice each by M1; plus M0's candidates for the same
    /// prompts, judged by M1 too (the anchor).
    static func storeWithJudgments() throws -> Store {
        let store = try TestSupport.makeStore()
        let scores: [[[Double]]] = [[[5, 4], [2, 2], [3, 3]], [[4, 4], [4, 4], [1, 2]], [[3, 3], [3, 3], [3, 3]]]
        let lengths = [[40, 300, 20], [10, 200, 90], [5, 5, 5]]
        try store.write { db in
            func row(_ w: VersionWriter, _ p: Int, _ reply: String, _ sample: Int, _ score: Double) throws {
                try w.append(["prompt": .text(Blobs.text([.user("prompt \(p)")])), "response": .text(Blobs.text([.assistant(reply)])),
                              "judge_model": .text("M1"), "sample_index": .int(Int64(sample)), "output": .text("Score: \(score)"),
                              "score": .real(score), "mode": .text("structured")])
            }
            // One writer at a time: a version's id is taken when its writer starts.
            let judgments = try VersionWriter(db, experiment: "default", name: "judgments", kind: .judgments, runID: nil)
            for p in 0..<3 {
                for k in 0..<3 {
                    for (s, score) in scores[p][k].enumerated() { try row(judgments, p, String(repeating: "x", count: lengths[p][k]) + "\(k)", s, score) }
                }
            }
            try Rounds.setVersion(db, experiment: "default", iteration: 1, role: .judgments, version: try judgments.finish().id)
            let candidates = try VersionWriter(db, experiment: "default", name: "anchor-candidates", kind: .candidates, runID: nil)
            for p in 0..<3 {
                try candidates.append(["prompt": .text(Blobs.text([.user("prompt \(p)")])), "response": .text(Blobs.text([.assistant("old answer \(p)")])),
                                       "model": .text("M0"), "sample_index": .int(0)])
            }
            _ = try candidates.finish()
            let anchorJudgments = try VersionWriter(db, experiment: "default", name: "anchor-judgments", kind: .judgments, runID: nil)
            for p in 0..<3 { for s in 0..<2 { try row(anchorJudgments, p, "old answer \(p)", s, 2.5) } }
            _ = try anchorJudgments.finish()
        }
        return store
    }

    @Test func policiesReplayOnStoredJudgmentsWithoutAModel() async throws {
        let store = try Self.storeWithJudgments()
        let context = StageContext(store: store, quiet: true)
        var config = Pairs.Config(round: 1)
        let paper = try await context.perform(Pairs(config: config))
        // Prompt 2 is a three-way tie; prompt 0: 4.5 vs 2; prompt 1: first 4 vs 1.5.
        #expect(paper.version.ref == "pairs@1" && paper.version.rowCount == 2 && paper.stats["kept"] == 2)
        #expect(try Rounds.version(store, experiment: "default", iteration: 1, role: .pairs)?.ref == "pairs@1")

        config.policy = .lengthControl
        config.rho = 0.5
        config.name = "pairs-lc"
        let lc = try await context.perform(Pairs(config: config))
        // The round keeps its pairs; the replay is its own dataset.
        #expect(lc.version.ref == "pairs-lc@1")
        #expect(try Rounds.version(store, experiment: "default", iteration: 1, role: .pairs)?.ref == "pairs@1")
        // ρ 0.5: prompt 0's bands (≥ 3.25 / ≤ 3.25) are {4.5 (40 chars)} and {2 (300), 3 (20)}: rejected the 300-char one;
        // prompt 1: chosen the shorter 4 (10 chars), rejected 1.5 (90 chars).
        let lengths = try store.read { db in
            try Row.fetchAll(db, sql: """
                SELECT length(chosen_text), length(rejected_text)
                FROM v_pairs WHERE ref = 'pairs-lc@1' ORDER BY ord
                """).map { [$0[0] as Int, $0[1] as Int] }
        }
        #expect(lengths == [[41, 301], [11, 91]])

        config.policy = .anchored
        config.rho = 0
        config.anchor = "M0"
        config.name = "pairs-anchored"
        let anchored = try await context.perform(Pairs(config: config))
        // Every prompt's best beats M0's 2.5 except prompt 2 (3 vs 2.5 — it does) : all three kept, rejected = M0's answer.
        #expect(anchored.version.rowCount == 3)
        #expect(try store.read { try String.fetchAll($0, sql: "SELECT rejected_text FROM v_pairs WHERE ref = 'pairs-anchored@1' ORDER BY ord") }
                == ["old answer 0", "old answer 1", "old answer 2"])
        #expect(try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM model_call") } == 0)

        // Difficulty (mean candidate score): prompts 0 and 1 are 3.17, prompt 2 is 3; keeping 0…3.1 drops 0 and 1.
        var easy = Pairs.Config(round: 1)
        easy.difficultyRange = [0, 3.1]
        easy.name = "pairs-hard"
        let hard = try await context.perform(Pairs(config: easy))
        #expect(hard.version.rowCount == 0 && hard.stats["dropped.difficulty outside 0.0…3.1"] == 2 && hard.stats["dropped.tie"] == 1)

        // The named query puts the three side by side, keyed by the judgments they paired.
        let compare = try NamedQuery.run(store, "policy-compare", experiment: "default").records
        #expect(compare.map { $0.text("policy") } == ["best-worst", "length-control", "anchored", "best-worst"])
        #expect(compare.map { $0.double("pairs_kept") } == [2, 2, 3, 0] && compare.allSatisfy { $0.text("judgments") == "judgments@1" })
        #expect(compare[1].double("rho") == 0.5 && compare[2].text("anchor") == "M0")
        // Every chosen sample beats every rejected one in the paper's pairs: agreement 1.
        #expect(compare[0].double("judge_agreement") == 1)
    }

    /// Configs stored before the policy fields existed decode to the paper's policy; ρ may differ per round.
    @Test func oldConfigsDecodeAndLoopPlansCarryRhoPerRound() throws {
        let old = try JSONDecoder().decode(Pairs.Config.self, from: Data(#"{"round":2,"minMargin":0.5,"judgments":"judgments@2"}"#.utf8))
        #expect(old.policy == .bestWorst && old.rho == 0 && old.minMargin == 0.5 && old.judgments == "judgments@2")
        var options = LoopPlan.Options()
        options.iterations = 4
        options.pairs.policy = .lengthControl
        options.rhoPerRound = [0, 0, 0.1]
        let rhos = LoopPlan.loop(options).steps.compactMap { step -> Double? in if case .pairs(let c) = step.action { return c.rho }; return nil }
        #expect(rhos == [0, 0, 0.1, 0.1])
    }
}

/// Issue 15, item 3: several judges' scores, combined as the pairs ask.
@Suite struct JudgeAggregateTests {
    // Judge 1 and judge 2 disagree about c0 and c2: c0 is 5 / 1, c1 3 / 3, c2 1 / 4.
    static let scored: [[String: [Double]]] = [["j1": [5, 5], "j2": [1]], ["j1": [3], "j2": [3]], ["j1": [1], "j2": [4]]]

    @Test func eachAggregateByHand() {
        #expect(JudgeAggregation.scores(Self.scored, judges: ["j1", "j2"], .mean) == [3, 3, 2.5])
        #expect(JudgeAggregation.scores(Self.scored, judges: ["j1", "j2"], .median) == [3, 3, 2.5])
        #expect(JudgeAggregation.scores(Self.scored, judges: ["j1", "j2"], .veto) == [1, 3, 1])
        // j1 votes c0 up and c2 down, j2 the reverse: no candidate wins.
        #expect(JudgeAggregation.scores(Self.scored, judges: ["j1", "j2"], .vote) == [0, 0, 0])
        #expect(JudgeAggregation.scores(Self.scored + [["j1": [2]]], judges: ["j1", "j2"], .median) == [3, 3, 2.5, 2])
    }

    /// Two judges' versions become the round's judgments (each under its name); the aggregate decides the pair.
    @Test func aPanelsJudgmentsPairByTheAggregate() async throws {
        let store = try TestSupport.makeStore()
        var refs: [String] = []
        try store.write { db in
            for judge in ["j1", "j2"] {
                let w = try VersionWriter(db, experiment: "default", name: "judgments-\(judge)", kind: .judgments, runID: nil)
                for (c, samples) in Self.scored.enumerated() {
                    for (k, score) in (samples[judge] ?? []).enumerated() {
                        try w.append(["prompt": .text(Blobs.text([.user("the prompt")])), "response": .text(Blobs.text([.assistant("answer \(c)")])),
                                      "judge_model": .text(judge), "sample_index": .int(Int64(k)), "output": .text("Score: \(score)"),
                                      "score": .real(score), "mode": .text("structured")])
                    }
                }
                refs.append(try w.finish().ref)
            }
        }
        let context = StageContext(store: store, quiet: true)
        let panel = try await context.perform(JudgePanel(config: JudgePanel.Config(round: 1, judgments: refs)))
        #expect(panel.version.ref == "judgments@1" && panel.version.rowCount == 7 && panel.stats["judges"] == 2)
        func pair(_ aggregate: JudgeAggregate) async throws -> [String] {
            var config = Pairs.Config(round: 1)
            config.aggregate = aggregate
            config.name = "pairs-\(aggregate.rawValue)"
            _ = try await context.perform(Pairs(config: config))
            return try store.read { try String.fetchAll($0, sql: "SELECT chosen_text || ' > ' || rejected_text FROM v_pairs WHERE ref = ?", arguments: ["pairs-\(aggregate.rawValue)@1"]) }
        }
        #expect(try await pair(.mean) == ["answer 0 > answer 2"])
        #expect(try await pair(.veto) == ["answer 1 > answer 0"])
        #expect(try await pair(.vote) == [])

        // Two judges under one label (two GGUF files both named model.q8_0.gguf) cannot make a panel.
        let twin = try store.write { db in
            let w = try VersionWriter(db, experiment: "default", name: "judgments-twin", kind: .judgments, runID: nil)
            try w.append(["prompt": .text(Blobs.text([.user("the prompt")])), "response": .text(Blobs.text([.assistant("answer 0")])),
                          "judge_model": .text("j1"), "sample_index": .int(0), "output": .text("Score: 2"), "score": .real(2), "mode": .text("structured")])
            return try w.finish().ref
        }
        do {
            _ = try await context.perform(JudgePanel(config: JudgePanel.Config(round: 2, judgments: [refs[0], twin])))
            Issue.record("a panel of two judges with one label was made")
        } catch {
            #expect("\(error)".contains("are both judged by 'j1'"), "\(error)")
        }
    }
}
