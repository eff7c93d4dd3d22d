import Testing
@testable import SRLMMetrics

/// The evaluation statistics against hand-worked arithmetic and scipy 1.17 (the Python line that produced each
/// reference value is beside it). The nested suites live in the MetricsTests*.swift files.
@Suite struct MetricsTests {
    static func close(_ value: Double?, _ expected: Double, _ tolerance: Double = 1e-9) -> Bool {
        guard let value else { return false }
        return abs(value - expected) <= tolerance
    }

    @Suite struct Correlations {
        // x = [1,2,2,3,5,5,5,8]; y = [2.5,1,4,4,3,6,6,7]: ties on both sides.
        let x: [Double] = [1, 2, 2, 3, 5, 5, 5, 8]
        let y: [Double] = [2.5, 1, 4, 4, 3, 6, 6, 7]

        @Test func matchScipyWithTies() {
            // spearmanr(x, y)[0], kendalltau(x, y)[0], pearsonr(x, y)[0]
            #expect(close(Correlation.spearman(x, y), 0.7889568540593018))
            #expect(close(Correlation.kendallTauB(x, y), 0.6805446536716204))
            #expect(close(Correlation.pearson(x, y), 0.7859428127962065))
        }

        @Test func kendallMatchesScipyOnManyTies() {
            // X = [(i*37)%11 for i in range(200)]; Y = [(i*53)%7+(i%3) for i in range(200)]
            // spearmanr(X,Y)[0], kendalltau(X,Y)[0], pearsonr(X,Y)[0]
            let xs = (0..<200).map { Double(($0 * 37) % 11) }
            let ys = (0..<200).map { Double(($0 * 53) % 7 + $0 % 3) }
            #expect(close(Correlation.spearman(xs, ys), 0.028586660584660178))
            #expect(close(Correlation.kendallTauB(xs, ys), 0.02084451504049144))
            #expect(close(Correlation.pearson(xs, ys), 0.027536088075163608))
        }

        @Test func handWorkedThreePoints() {
            // [1,2,3] vs [1,3,2]: d² = 0+1+1 = 2, ρ = 1 − 6·2/(3·8) = 0.5; pairs: (1,2) C, (1,3) C, (2,3) D → τ = 1/3.
            #expect(close(Correlation.spearman([1, 2, 3], [1, 3, 2]), 0.5))
            #expect(close(Correlation.kendallTauB([1, 2, 3], [1, 3, 2]), 1.0 / 3))
            #expect(Correlation.averageRanks([10, 20, 20, 30]) == [1, 2.5, 2.5, 4])
            #expect(Correlation.averageRanks([3, 3, 3]) == [2, 2, 2])
        }

        @Test func undefinedIsNilNotNaN() {
            #expect(Correlation.spearman([1], [2]) == nil)
            #expect(Correlation.pearson([], []) == nil)
            #expect(Correlation.kendallTauB([4, 4, 4], [1, 2, 3]) == nil)
            #expect(Correlation.spearman([1, 2, 3], [5, 5, 5]) == nil)
            #expect(Correlation.pearson([1, 2, 3], [5, 5, 5]) == nil)
        }
    }

    @Suite struct Resampling {
        @Test func splitMixMatchesTheReferenceSequence() {
            // Vigna's splitmix64.c seeded with 1234567 (re-derived in Python with 64-bit masks).
            var generator = SplitMix64(seed: 1_234_567)
            #expect([generator.next(), generator.next(), generator.next()]
                == [6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423])
        }

        @Test func boundedDrawsStayInRangeAndCoverIt() {
            var generator = SplitMix64(seed: 3)
            let draws = (0..<5_000).map { _ in generator.next(below: 5) }
            #expect(Set(draws) == [0, 1, 2, 3, 4])
            // Each face ≈ 1,000 of 5,000; 850 is > 5 standard deviations (√(5000·0.2·0.8) ≈ 28) away.
            #expect(draws.reduce(into: [Int: Int]()) { $0[$1, default: 0] += 1 }.values.allSatisfy { $0 > 850 })
        }

        @Test func percentileInterpolatesLikeNumpy() {
            // np.percentile([1,2,3,4], 2.5) = 1.075; np.percentile([3,1,4,1,5,9,2,6], 97.5) = 8.475
            #expect(close(Bootstrap.percentile([1, 2, 3, 4], 0.025), 1.075))
            #expect(close(Bootstrap.percentile([3, 1, 4, 1, 5, 9, 2, 6].sorted(), 0.975), 8.475))
        }

        @Test func sameSeedSameIntervalsOtherSeedOtherIntervals() throws {
            let outcomes: [Double] = [1, 0, 1, 1, 0.5, 0, 1, 0, 1, 1, 0.5, 1]
            let first = HeadToHead.compute(outcomes: outcomes, bootstrap: BootstrapOptions(seed: 11))
            let again = HeadToHead.compute(outcomes: outcomes, bootstrap: BootstrapOptions(seed: 11))
            let other = HeadToHead.compute(outcomes: outcomes, bootstrap: BootstrapOptions(seed: 12))
            #expect(first == again)
            #expect(first.winRateTiesHalf?.interval != other.winRateTiesHalf?.interval)
            let interval = try #require(first.winRateTiesHalf?.interval)
            #expect(interval.low < 0.625 && 0.625 < interval.high)  // mean outcome 7.5 / 12
        }

        @Test func noResamplesNoInterval() {
            let result = HeadToHead.compute(outcomes: [1, 0], bootstrap: BootstrapOptions(resamples: 0))
            #expect(result.winRate == Estimate(value: 0.5, interval: nil))
        }
    }
}

/// The Wilson interval of a parse rate: closed forms at the edges, symmetry, and never outside [0, 1].
@Suite struct ProportionTests {
    @Test func wilsonIntervalsAtTheEdgesAndInside() throws {
        let z2 = 1.959963984540054 * 1.959963984540054
        let none = try #require(Proportion.wilson(successes: 0, trials: 33))
        #expect(none.value == 0 && none.interval?.low == 0)
        #expect(abs((none.interval?.high ?? 0) - z2 / (33 + z2)) < 1e-12)
        let all = try #require(Proportion.wilson(successes: 33, trials: 33))
        #expect(abs((all.interval?.low ?? 0) - 33 / (33 + z2)) < 1e-12 && all.interval?.high == 1)
        let some = try #require(Proportion.wilson(successes: 15, trials: 20))
        let mirror = try #require(Proportion.wilson(successes: 5, trials: 20))
        #expect(abs((some.interval?.low ?? 0) - (1 - (mirror.interval?.high ?? 0))) < 1e-12)
        #expect(abs((some.interval?.low ?? 0) - 0.5313) < 1e-4 && abs((some.interval?.high ?? 0) - 0.8881) < 1e-4)
        #expect(Proportion.wilson(successes: 1, trials: 0) == nil && Proportion.wilson(successes: 3, trials: 2) == nil)
    }
}
