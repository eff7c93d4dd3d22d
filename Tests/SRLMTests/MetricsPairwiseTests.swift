import Testing
@testable import SRLMMetrics

extension MetricsTests {
    @Suite struct Pairwise {
        /// (human, judge): 8 decisive human labels, 2 human ties, 1 unparsed judge verdict.
        let items: [PairwiseItem] = [(Verdict.a, Verdict?.some(.a)), (.a, .b), (.b, .b), (.tie, .tie), (.a, .tie),
                                     (.b, .a), (.tie, .a), (.a, nil), (.b, .b), (.a, .a)]
            .map { PairwiseItem(human: $0.0, judge: $0.1) }

        @Test func accuracyAgreementAndKappa() {
            let result = PairwiseAgreement.compute(items)
            #expect(result.items == 10 && result.decisiveItems == 8 && result.unparsed == 1)
            // Decisive: (a,a) ✓ (a,b) ✗ (b,b) ✓ (a,tie) ✗ (b,a) ✗ (a,nil) ✗ (b,b) ✓ (a,a) ✓ → 4 / 8.
            #expect(close(result.accuracy?.value, 0.5))
            // Three classes over all 10: (a,a) (b,b) (tie,tie) (b,b) (a,a) → 5 / 10.
            #expect(close(result.agreement?.value, 0.5))
            #expect(close(result.unparsedRate?.value, 0.1))
            // κ on the 9 parsed: pₒ = 5/9; human a,b,tie = 4,3,2, judge 4,3,2 of 9 → pₑ = (16+9+4)/81 = 29/81;
            // κ = (5/9 − 29/81)/(1 − 29/81) = 16/52 = 0.3076923… (Python: (po-pe)/(1-pe) = 0.30769230769230776)
            #expect(close(result.kappa?.value, 0.30769230769230776))
            #expect(result.kappa?.interval != nil)
        }

        @Test func kappaIsUndefinedWhenChanceAgreementIsCertain() {
            #expect(PairwiseAgreement.cohensKappa([(.a, .a), (.a, .a)]) == nil)
            #expect(PairwiseAgreement.cohensKappa([]) == nil)
            // Perfect agreement on two classes: pₒ = 1, pₑ = ½ → κ = 1.
            #expect(PairwiseAgreement.cohensKappa([(.a, .a), (.b, .b)]) == 1)
        }

        @Test(arguments: [
            ([Verdict.a, .a, .tie], Verdict?.some(.a)),
            ([.a, .b, .tie], .tie),
            ([.a, .a, .b, .b], .tie),
            ([.b], .b),
            ([.tie, .tie, .a], .tie),
            ([], nil),
        ])
        func majorityNeedsMoreThanHalf(votes: [Verdict], expected: Verdict?) {
            #expect(Verdict.majority(of: votes) == expected)
        }
    }

    @Suite struct Position {
        @Test func consistencyAndCombinedVerdicts() {
            let pairs = [PositionPair(inOrder: .a, swapped: .a), PositionPair(inOrder: .a, swapped: .b),
                         PositionPair(inOrder: .tie, swapped: .tie), PositionPair(inOrder: .b, swapped: nil),
                         PositionPair(inOrder: .b, swapped: .tie)]
            let result = PositionConsistency.compute(pairs)
            // Both parsed: 4; consistent: (a,a) and (tie,tie) → 2 / 4.
            #expect(result.items == 5 && result.bothParsed == 4 && result.consistent == 2)
            #expect(close(result.consistentShare?.value, 0.5))
            #expect(result.combined == [.a, .tie, .tie, nil, .tie])
            #expect(Verdict.b.swapped == .a && Verdict.tie.swapped == .tie)
        }
    }

    @Suite struct WinRates {
        @Test func headToHeadRates() {
            // 3 wins, 1 tie, 1 loss of 5; ties half: (3 + 0.5) / 5 = 0.7.
            let result = HeadToHead.compute(verdicts: [.a, .a, .tie, .b, .a])
            #expect(result.prompts == 5)
            #expect(close(result.winRate?.value, 0.6) && close(result.tieRate?.value, 0.2))
            #expect(close(result.lossRate?.value, 0.2) && close(result.winRateTiesHalf?.value, 0.7))
            #expect(HeadToHead.compute(outcomes: []).winRate == nil)
        }

        /// 40 prompts; the reference is always 700 characters, the model 500 + (97·i mod 600). The model wins when it
        /// is > 100 characters longer, ties within 100, loses otherwise, with every 7th outcome flipped (noise).
        static let modelLengths = (0..<40).map { 500 + ($0 * 97) % 600 }
        static let outcomes: [Double] = (0..<40).map { index in
            let difference = modelLengths[index] - 700
            let outcome: Double = difference > 100 ? 1 : difference > -100 ? 0.5 : 0
            return index % 7 == 0 ? 1 - outcome : outcome
        }

        @Test func lengthControlRemovesTheLengthAdvantage() throws {
            let result = try #require(LengthControlledWinRate.fit(
                outcomes: Self.outcomes, modelLengths: Self.modelLengths, referenceLengths: Array(repeating: 700, count: 40)))
            // numpy: d = mod − ref; x = tanh(d / d.std(ddof=1)); 50 Newton steps on the ridge (1e-6) log-likelihood,
            // gradient 4e-16 at the end: θ = 0.16029476600174233, φ = 1.945783251844954, sd = 178.9406147014802,
            // σ(θ) = 0.5399881055733784; raw = y.mean() = 0.625; np.mean(mod) = 786.5.
            #expect(close(result.theta, 0.16029476600174233) && close(result.phi, 1.945783251844954))
            #expect(close(result.lengthScale, 178.9406147014802))
            #expect(close(result.lengthControlledWinRate.value, 0.5399881055733784))
            #expect(close(result.rawWinRate.value, 0.625))
            #expect(result.meanModelLength == 786.5 && result.meanReferenceLength == 700)
            #expect(result.phi > 0 && result.lengthControlledWinRate.value < result.rawWinRate.value)
            let interval = try #require(result.lengthControlledWinRate.interval)
            #expect(interval.low < 0.54 && 0.54 < interval.high)
        }

        @Test func equalLengthsLeaveTheRawRate() throws {
            // No length variation: the feature is 0, φ stays 0 and σ(θ) is the mean outcome, log-odds log 3 for ¾.
            let result = try #require(LengthControlledWinRate.fit(
                outcomes: [1, 1, 1, 0], modelLengths: [50, 50, 50, 50], referenceLengths: [50, 50, 50, 50],
                bootstrap: BootstrapOptions(resamples: 50)))
            #expect(result.phi == 0 && result.lengthScale == 0)
            #expect(close(result.theta, 1.0986122886681098, 1e-5))  // log(3); the ridge moves it by ~1e-6
            #expect(close(result.lengthControlledWinRate.value, 0.75, 1e-6))
            #expect(LengthControlledWinRate.fit(outcomes: [], modelLengths: [], referenceLengths: []) == nil)
        }

        @Test func separableDataStaysFinite() throws {
            // The model wins everything: without the ridge θ would run to infinity.
            let result = try #require(LengthControlledWinRate.fit(
                outcomes: [1, 1, 1], modelLengths: [10, 20, 30], referenceLengths: [15, 15, 15]))
            #expect(result.theta.isFinite && result.phi.isFinite && result.lengthControlledWinRate.value > 0.99)
        }
    }
}
