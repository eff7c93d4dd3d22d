import Foundation
import GRDB
import Testing
@testable import SRLMEval
@testable import SRLMMetrics
@testable import SRLMReport
@testable import SRLMStages
@testable import SRLMStore

/// Issue 29 goals 3 and 5: below the minimum number of prompts the report makes no claim, a degenerate bootstrap
/// interval is shown as not estimable, and the random judge draws from the scores the judge can give.
@Suite struct SmallSampleTests {
    /// One `eval judge` run as the store keeps it: the model, its prompt count, pairwise accuracy with its interval,
    /// the random judge's figure and the score range it drew from.
    struct JudgeFigures {
        var model: String, prompts: Int, accuracy: Double, low: Double, high: Double, random = 0.4, randomScores = "0–5"
    }

    static func store(_ runs: [JudgeFigures]) throws -> Store {
        let store = try TestSupport.makeStore()
        for figures in runs {
            var config = EvalJudge.Config()
            config.model = figures.model
            let run = try RunLifecycle.begin(store, experiment: "default", stage: EvalJudge.name, config: config, inputs: [], seed: nil)
            _ = try RunLifecycle.commit(store, experiment: "default", run: run, to: .init(dataset: EvalJudge.dataset, kind: .judgments),
                                        stats: ["prompts": figures.prompts, "random_scores": figures.randomScores]) { writer in
                try writer.append(["prompt": .text(Blobs.text([.user("q")])), "response": .text(Blobs.text([.assistant("a")])),
                                   "judge_model": .text(figures.model), "sample_index": .int(0), "output": .text("Score: 3"),
                                   "score": .real(3), "mode": .text("free")])
                try EvalRecords.write(writer, run: run.id, [
                    EvalMetric("prompts", Double(figures.prompts), n: figures.prompts),
                    EvalMetric("pairwiseAccuracy", figures.accuracy, lo: figures.low, hi: figures.high, n: 3 * figures.prompts),
                    EvalMetric("random.pairwiseAccuracy", figures.random, lo: 0.1, hi: 0.7, n: 200)])
            }
        }
        return store
    }

    func markdown(_ runs: [JudgeFigures], minimumPrompts: Int = ReportBuilder.minimumPrompts) throws -> String {
        MarkdownRenderer.render(try ReportBuilder.build(try Self.store(runs), experiment: "default", minimumPrompts: minimumPrompts))
    }

    @Test func belowTheMinimumNoClaimIsMade() throws {
        // The demo's case: 4 held-out prompts, every resample the same accuracy.
        let few = try markdown([JudgeFigures(model: "M0", prompts: 4, accuracy: 2.0 / 3, low: 2.0 / 3, high: 2.0 / 3)])
        #expect(few.contains("M0 judges better than chance: pairwise accuracy 66.7 % [not estimable] against the random judge's 40.0 % — too few prompts to tell (n = 4)."))
        #expect(!few.contains("above chance"))
        #expect(few.contains("| M0 |") && few.contains("66.7 % [not estimable]"))

        let sft = JudgeFigures(model: "SFT", prompts: 30, accuracy: 0.55, low: 0.5, high: 0.6)
        let fewM1 = try markdown([sft, JudgeFigures(model: "M1", prompts: 4, accuracy: 0.75, low: 0.7, high: 0.8)])
        #expect(fewM1.contains("M1 75.0 % [70.0, 80.0] — too few prompts to tell (n = 4)."))
        #expect(!fewM1.contains("M1 higher"))
    }

    @Test func atOrAboveTheMinimumTheClaimStands() throws {
        let n = ReportBuilder.minimumPrompts
        let above = try markdown([JudgeFigures(model: "M0", prompts: n, accuracy: 0.7, low: 0.6, high: 0.8)])
        #expect(above.contains("against the random judge's 40.0 % — above chance."))
        let sft = JudgeFigures(model: "SFT", prompts: n + 10, accuracy: 0.55, low: 0.5, high: 0.6)
        let better = try markdown([sft, JudgeFigures(model: "M1", prompts: n + 10, accuracy: 0.75, low: 0.7, high: 0.8)])
        #expect(better.contains("SFT 55.0 % [50.0, 60.0], M1 75.0 % [70.0, 80.0] — M1 higher."))
        // The minimum is the caller's: the same figures under a higher one make no claim.
        let stricter = try markdown([sft, JudgeFigures(model: "M1", prompts: n + 10, accuracy: 0.75, low: 0.7, high: 0.8)],
                                    minimumPrompts: n + 11)
        #expect(stricter.contains("M1 75.0 % [70.0, 80.0] — too few prompts to tell (n = \(n + 10))."))
        #expect(stricter.contains("each rests on at least \(n + 11) prompts"))
    }

    @Test func aDegenerateIntervalCarriesNoClaimEvenOnEnoughPrompts() throws {
        let flat = try markdown([JudgeFigures(model: "M0", prompts: 30, accuracy: 0.7, low: 0.7, high: 0.7)])
        #expect(flat.contains("pairwise accuracy 70.0 % [not estimable] against the random judge's 40.0 % — no claim: an interval is not estimable."))
    }

    @Test func aBootstrapOnPromptsThatAllScoreAlikeIsNotEstimable() throws {
        // Each of 4 prompts orders 2 of its 3 pairs right: every resample gives 2/3, a zero-width percentile interval.
        let alike = (0..<4).map { _ in
            RankedPrompt(replies: [RankedReply(humanRank: 0, scores: [5], length: 1), RankedReply(humanRank: 1, scores: [3], length: 1),
                                   RankedReply(humanRank: 2, scores: [4], length: 1)])
        }
        let estimate = try #require(RankedAgreement.compute(alike, randomJudge: RandomJudgeOptions(repetitions: 0))[.pairwiseAccuracy])
        let interval = try #require(estimate.interval)
        #expect(abs(estimate.value - 2.0 / 3) < 1e-12 && !interval.isEstimable)
        let metric = EvalMetric("pairwiseAccuracy", estimate, n: 12)
        #expect(metric.intervalEstimable == false && metric.intervalText == "not estimable")
        #expect(Cell.estimate(estimate, .percent(places: 1)).text == "66.7 % [not estimable]")

        // Prompts that differ give a real interval, printed with its bounds.
        let varied = alike + [RankedPrompt(replies: [RankedReply(humanRank: 0, scores: [1], length: 1), RankedReply(humanRank: 1, scores: [5], length: 1)])]
        let spread = try #require(RankedAgreement.compute(varied, randomJudge: RandomJudgeOptions(repetitions: 0))[.pairwiseAccuracy])
        #expect(spread.interval?.isEstimable == true)
        let shown = EvalMetric("pairwiseAccuracy", spread, n: 13)
        #expect(shown.intervalEstimable == true && shown.intervalText.hasPrefix("["))
        #expect(EvalMetric("prompts", 4, n: 4).intervalEstimable == nil && EvalMetric("prompts", 4).intervalText == "")
    }

    @Test func theRandomJudgeDrawsTheScoresTheJudgeCanGiveAndSaysSo() throws {
        #expect(RandomJudgeOptions().scores == ScoreParser.scores)
        #expect(ScoreParser.parse("Nothing earned.\nScore: 0").score == 0)
        #expect(ScoreParser.parse("Score: 6").score == nil)
        #expect(EvalJudge.scoreRange(ScoreParser.scores) == "0–5")
        // The range is recorded with each run and shown with the report's Table 4; runs from before read 1–5.
        let store = try Self.store([JudgeFigures(model: "M1", prompts: 30, accuracy: 0.7, low: 0.6, high: 0.8)])
        let row = try #require(try NamedQuery.run(store, "eval-judge", experiment: "default").records.first)
        #expect(row.text("random_scores") == "0–5")
        let report = MarkdownRenderer.render(try ReportBuilder.build(store, experiment: "default"))
        #expect(report.contains("uniformly from the scores the judge can give (0–5)"))
    }
}
