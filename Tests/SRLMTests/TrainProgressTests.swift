import Foundation
import Testing
@testable import SRLMEngines

/// Issue 13, item 3: what the training bar says, from the trainer's step events and logged metrics.
@Suite struct TrainProgressTests {
    @Test func theBarShowsStepsLossMarginAndAnETAFromTheStepsDone() {
        let progress = TrainProgress(label: "train-dpo", quiet: false, live: false)
        let started = ContinuousClock.now
        progress.step(1, of: 10, at: started)
        progress.step(3, of: 10, at: started + .seconds(4))
        progress.report([TrainMetric(step: 3, values: ["loss": 0.6931, "rewards/margins": 0.0125, "rewards/accuracies": 0.5])])
        // 2 steps in 4 s since the first step (loading the model does not count): 2 s a step, 7 steps left.
        #expect(progress.line() == "train-dpo ███████················· 3/10 steps  loss 0.6931  margin 0.0125  acc 0.5  2.00 s/step  ETA 14 s")
    }

    @Test func beforeAnyStepThereIsNoETAAndQuietDrawsNothing() {
        let progress = TrainProgress(label: "train-sft", quiet: true, live: true)
        #expect(!progress.live)
        progress.step(0, of: 4)
        #expect(progress.line() == "train-sft ························ 0/4 steps")
    }
}
