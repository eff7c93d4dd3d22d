import Foundation
import Testing
@testable import SRLMEval
@testable import SRLMMetrics

/// The diff summary's intervals resample prompts, the unit that was sampled, not rows.
@Suite struct PromptClustersTests {
    /// Two prompts, rows [0, 0] and [4]: a resample draws {1,1} (mean 0), {2,2} (mean 4) or one of each (4/3, the
    /// row mean), each pure draw with chance 1/4, far beyond the 2.5 % tails: the interval is exactly [0, 4].
    @Test func handComputedTwoPrompts() throws {
        let c = PromptClusters(values: [0, 4, 0], prompts: [1, 2, 1])
        #expect(c.prompts == [1, 2] && c.sums == [0, 4] && c.counts == [2, 1])
        #expect(c.mean == 4.0 / 3)
        #expect(c.meanInterval() == Interval(low: 0, high: 4))
        // One prompt has nothing to resample; a missing value is left out, a row without a prompt is its own unit.
        #expect(PromptClusters(values: [1, 2, 3], prompts: [7, 7, 7]).meanInterval() == nil)
        let loose = PromptClusters(values: [1, nil, 3], prompts: [nil, 5, nil])
        #expect(loose.prompts.count == 2 && loose.counts == [1, 1])
    }

    /// Same seed, same interval; a prompt holding k identical rows is one row of that prompt; bounds stay within
    /// the values (a length or a score never gets a bound outside its range).
    @Test func exactProperties() throws {
        var generator = SplitMix64(seed: 7)
        let perPrompt = (0..<12).map { _ in Double(generator.next(below: 6)) }
        let once = PromptClusters(values: perPrompt, prompts: perPrompt.indices.map { Int64($0) })
        let thrice = PromptClusters(values: perPrompt.flatMap { [$0, $0, $0] }, prompts: perPrompt.indices.flatMap { [Int64($0), Int64($0), Int64($0)] })
        let interval = try #require(once.meanInterval())
        #expect(thrice.meanInterval() == interval && thrice.mean == once.mean)
        #expect(once.meanInterval() == interval)
        #expect(interval.low >= perPrompt.min()! && interval.high <= perPrompt.max()!)
        // Skewed lengths near 0: a normal interval would go below 0 here, the percentile one cannot.
        let lengths = PromptClusters(values: [0, 0, 0, 0, 0, 0, 0, 0, 0, 400], prompts: (0..<10).map { Int64($0) })
        #expect(try #require(lengths.meanInterval()).low >= 0)
    }

    /// Shared prompts are drawn on both sides together: B = A + 1 on every prompt gives the change exactly [1, 1],
    /// the prompt effect cancelling; the same values under disjoint prompts are two samples and the interval is wide.
    @Test func changePairsSharedPrompts() throws {
        let values: [Double?] = [0, 1, 5, 9, 2, 7]
        let prompts: [Int64?] = [1, 1, 2, 3, 4, 5]
        let a = PromptClusters(values: values, prompts: prompts)
        let b = PromptClusters(values: values.map { $0.map { $0 + 1 } }, prompts: prompts)
        let paired = try #require(PromptClusters.change(a, b))
        let pairedInterval = try #require(paired.interval)
        #expect(paired.paired && paired.value == 1 && abs(pairedInterval.low - 1) < 1e-12 && abs(pairedInterval.high - 1) < 1e-12)
        let other = PromptClusters(values: values.map { $0.map { $0 + 1 } }, prompts: prompts.map { $0.map { $0 + 100 } })
        let apart = try #require(PromptClusters.change(a, other))
        let interval = try #require(apart.interval)
        #expect(!apart.paired && apart.value == 1 && interval.low < 0 && interval.high > 2)
        // The stratified bootstrap with one stratum draws exactly as the plain one does.
        let plain = Bootstrap.intervals(units: 5, options: BootstrapOptions()) { [0: Double($0.reduce(0, +))] }
        let strata = Bootstrap.intervals(strata: [5], options: BootstrapOptions()) { [0: Double($0[0].reduce(0, +))] }
        #expect(plain == strata)
    }

    /// 1,000 seeded data sets of 30 prompts × 4 rows with a strong prompt effect (prompt sd 1, row sd 0.5, ICC 0.8)
    /// around a known mean of 3: the interval over prompts covers it about 95 % of the time, the row-level one this
    /// summary used to print (mean ± 1.96 s/√n over the 120 rows) far less, since only about 35 of them are
    /// independent.
    @Test func coverageOverPromptsNotRows() throws {
        var generator = SplitMix64(seed: 2_026)
        func normal() -> Double {
            let u1 = (Double(generator.next() >> 11) + 1) * 0x1p-53, u2 = Double(generator.next() >> 11) * 0x1p-53
            return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
        }
        let (datasets, prompts, rows, truth) = (1_000, 30, 4, 3.0)
        let options = BootstrapOptions(resamples: 300)
        var (coveredByPrompts, coveredByRows) = (0, 0)
        for _ in 0..<datasets {
            var values: [Double?] = []
            var keys: [Int64?] = []
            for p in 0..<prompts {
                let effect = normal()
                for _ in 0..<rows {
                    values.append(truth + effect + 0.5 * normal())
                    keys.append(Int64(p))
                }
            }
            let byPrompt = try #require(PromptClusters(values: values, prompts: keys).meanInterval(options: options))
            let rowValues = values.compactMap { $0 }
            let mean = rowValues.reduce(0, +) / Double(rowValues.count)
            let variance = rowValues.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(rowValues.count - 1)
            let halfWidth = 1.96 * (variance / Double(rowValues.count)).squareRoot()
            let byRow = Interval(low: mean - halfWidth, high: mean + halfWidth)
            if byPrompt.low <= truth && truth <= byPrompt.high { coveredByPrompts += 1 }
            if byRow.low <= truth && truth <= byRow.high { coveredByRows += 1 }
        }
        let (promptCoverage, rowCoverage) = (Double(coveredByPrompts) / Double(datasets), Double(coveredByRows) / Double(datasets))
        print("coverage of the true mean: bootstrap over prompts \(promptCoverage), over rows \(rowCoverage)")
        #expect(promptCoverage >= 0.92 && promptCoverage <= 0.98)
        #expect(rowCoverage < 0.8)
    }
}
