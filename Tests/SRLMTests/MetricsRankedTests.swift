import Foundation
import Testing
@testable import SRLMMetrics

extension MetricsTests {
    /// Five prompts worked by hand (score means in brackets):
    /// A: ranks 0,1,2 → [5], [4 (one sample unparsed)], [4]: pairs 0>1 ✓, 0>2 ✓, 1~2 judge tie.
    /// B: ranks 0,0,1 → [3], [4], unscored: pairs (0,2) and (1,2) have an unscored reply → wrong.
    /// C: ranks 0,1 → [4.5], [2]: 1 pair ✓.
    /// D: one reply → not used (its unparsed samples do not count either).
    /// E: ranks 1,0,2,3 → [3], [5], [1], [1]: 5 pairs ✓, 2~3 judge tie.
    static let fixture: [RankedPrompt] = [
        prompt([(0, [5, 5, 5], 120), (1, [4, nil, 4], 300), (2, [4, 3, 5], 80)]),
        prompt([(0, [3, 3, 3], 200), (0, [4, 4, 4], 90), (1, [nil, nil, nil], 400)]),
        prompt([(0, [4, 5], 150), (1, [2, 2], 60)]),
        prompt([(0, [nil, 3, nil], 10)]),
        prompt([(1, [3], 250), (0, [5], 500), (2, [1], 40), (3, [1], 35)]),
    ]

    static func prompt(_ replies: [(Int, [Double?], Int)]) -> RankedPrompt {
        RankedPrompt(replies: replies.map { RankedReply(humanRank: $0.0, scores: $0.1, length: $0.2) })
    }

    @Suite struct Ranked {
        let result = RankedAgreement.compute(MetricsTests.fixture, randomJudge: RandomJudgeOptions(repetitions: 50))

        @Test func countsLeaveOutSingleReplyPrompts() {
            let counts = result.counts
            #expect(counts.prompts == 5 && counts.promptsUsed == 4)
            #expect(counts.comparablePairs == 12)  // 3 + 2 + 1 + 6
            #expect(counts.replies == 12 && counts.scoredReplies == 11)
            #expect(counts.samples == 26 && counts.parsedSamples == 22)  // 9 + 9 + 4 + 4 samples; 8 + 6 + 4 + 4 parsed
            #expect(counts.spearmanPrompts == 3)  // B's two scored replies share rank 0: ρ undefined
        }

        @Test func pairwiseMetricsCountTiesAndUnscoredAsWrong() {
            // correct 2 + 0 + 1 + 5 = 8 of 12; judge ties: A's (1,2) and E's (2,3) = 2.
            #expect(close(result[.pairwiseAccuracy]?.value, 8.0 / 12))
            #expect(close(result[.pairwiseAccuracyTiesHalf]?.value, 9.0 / 12))  // (8 + 2·½) / 12
            #expect(close(result[.judgeTieRate]?.value, 2.0 / 12))
            #expect(close(result[.sampleParseRate]?.value, 22.0 / 26))
        }

        @Test func fiveBestAndExactMatch() {
            // 5-best: A yes (5), B no (rank-0 replies score 3 and 4: all must be 5), C no (4.5), E yes → 2 / 4.
            #expect(close(result[.fiveBest]?.value, 0.5))
            // Exact match: only C orders every comparable pair strictly right (A and E have ties, B unscored).
            #expect(close(result[.exactMatch]?.value, 0.25))
        }

        @Test func correlationsMatchScipy() {
            // Per prompt: g = negated ranks, s = mean scores of scored replies; A, C, E defined (B nan, skipped):
            // np.mean([spearmanr(g,s)[0] ...]) and the same with kendalltau.
            #expect(close(result[.spearmanPerPrompt]?.value, 0.9382362339449841))
            #expect(close(result[.kendallPerPrompt]?.value, 0.9097891700343342))
            // All 11 scored replies pooled: spearmanr(G,S)[0], kendalltau(G,S)[0]
            #expect(close(result[.spearmanPooled]?.value, 0.7139304177486643))
            #expect(close(result[.kendallPooled]?.value, 0.6246950475544243))
            // Length bias over scored replies: spearmanr(S,L)[0], pearsonr(S,L)[0]
            #expect(close(result[.lengthSpearman]?.value, 0.6328771634801108))
            #expect(close(result[.lengthPearson]?.value, 0.5600194856012516))
        }

        @Test func everyMetricHasAnIntervalAroundIt() throws {
            for metric in RankedMetric.allCases {
                let estimate = try #require(result[metric], "\(metric)")
                let interval = try #require(estimate.interval, "\(metric)")
                #expect(interval.low <= interval.high, "\(metric)")
            }
            #expect(result == RankedAgreement.compute(MetricsTests.fixture, randomJudge: RandomJudgeOptions(repetitions: 50)))
        }

        @Test func storesAsJSONKeyedByMetricName() throws {
            let json = try JSONEncoder().encode(result)
            let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
            let estimates = try #require(object["estimates"] as? [String: Any])
            #expect(Set(estimates.keys) == Set(RankedMetric.allCases.map(\.rawValue)))
            #expect(try JSONDecoder().decode(RankedAgreement.self, from: json) == result)
        }

        @Test func allEqualScoresLeaveCorrelationsUndefined() {
            let flat = RankedAgreement.compute([MetricsTests.prompt([(0, [4], 10), (1, [4], 20), (2, [4], 30)])],
                                               bootstrap: BootstrapOptions(resamples: 20),
                                               randomJudge: RandomJudgeOptions(repetitions: 0))
            #expect(flat[.spearmanPerPrompt] == nil && flat[.kendallPooled] == nil && flat[.lengthPearson] == nil)
            #expect(flat[.pairwiseAccuracy]?.value == 0 && flat[.judgeTieRate]?.value == 1)
            #expect(flat.randomJudge.spreads.isEmpty)
        }

        @Test func noUsablePromptGivesNoEstimates() {
            let empty = RankedAgreement.compute([MetricsTests.prompt([(0, [5], 10)])],
                                                randomJudge: RandomJudgeOptions(repetitions: 3))
            #expect(empty.estimates.isEmpty && empty.counts.promptsUsed == 0)
        }
    }

    @Suite struct RandomJudge {
        /// 300 prompts of two replies ranked 0 and 1, one sample each. A judge drawing uniformly from m scores orders
        /// such a pair right with P(s₀ > s₁) = (1 − 1/m)/2, ties with 1/m (ties-half 0.5), and gives the best reply
        /// the top score with 1/m. The judge's scale is 0–5 (m = 6: 41.7 %, ties 16.7 %); these figures were 40 % and
        /// 20 % while the random judge drew from 1–5, which the rubric's 0 made too high a floor for ties.
        let prompts = (0..<300).map { _ in MetricsTests.prompt([(0, [4], 100), (1, [nil], 100)]) }

        @Test(arguments: [0...5, 1...5])
        func expectationsMatchTheArithmetic(scores: ClosedRange<Int>) throws {
            let baseline = RandomJudgeBaseline.simulate(prompts, options: RandomJudgeOptions(repetitions: 200, seed: 5, scores: scores))
            let m = Double(scores.count), right = (1 - 1 / m) / 2
            // Standard error of each mean ≈ √(0.25/300)/√200 ≈ 0.002, so 0.01 is a wide margin (and 1/5 vs 1/6 is 0.033).
            #expect(baseline.scores == scores)
            #expect(close(baseline[.pairwiseAccuracy]?.mean, right, 0.01))
            #expect(close(baseline[.judgeTieRate]?.mean, 1 / m, 0.01))
            #expect(close(baseline[.pairwiseAccuracyTiesHalf]?.mean, 0.5, 0.01))
            #expect(close(baseline[.fiveBest]?.mean, 1 / m, 0.01))
            #expect(baseline[.sampleParseRate] == Spread(mean: 1, low: 1, high: 1, defined: 200))  // every draw parses
            let spread = try #require(baseline[.pairwiseAccuracy])
            #expect(spread.low < right && right < spread.high && spread.defined == 200)
        }

        @Test func drawsFromTheJudgesScaleByDefault() {
            // The parser and the structured grammar accept 0–5; the random judge draws from the same scores.
            #expect(RandomJudgeOptions().scores == 0...5)
            #expect(RankedAgreement.compute(prompts, randomJudge: RandomJudgeOptions(repetitions: 2)).randomJudge.scores == 0...5)
        }

        @Test func usesTheObservedNumberOfSamples() {
            // Three samples per reply: the mean is 5 only when all three are 5, (1/6)³ ≈ 0.0046 (it was (1/5)³ = 0.008 on 1–5).
            let three = (0..<300).map { _ in MetricsTests.prompt([(0, [4, 4, 4], 100), (1, [4, 4, 4], 100)]) }
            let baseline = RandomJudgeBaseline.simulate(three, options: RandomJudgeOptions(repetitions: 100))
            #expect(close(baseline[.fiveBest]?.mean, 1.0 / 216, 0.002))
        }

        @Test func isReproducibleFromItsSeed() {
            let options = RandomJudgeOptions(repetitions: 30, seed: 9)
            #expect(RandomJudgeBaseline.simulate(prompts, options: options)
                == RandomJudgeBaseline.simulate(prompts, options: options))
            #expect(RandomJudgeBaseline.simulate(prompts, options: options)
                != RandomJudgeBaseline.simulate(prompts, options: RandomJudgeOptions(repetitions: 30, seed: 10)))
        }
    }
}
