import ArgumentParser
import Foundation
import SRLMEngines
import SRLMLoop
import SRLMStages
import SRLMStore

/// What `loop` and `round` share: the loop's knobs (paper defaults elsewhere) and the local server's shape.
struct LoopOptions: ParsableArguments {
    @OptionGroup var store: StoreOptions
    @Option(help: "Prompts accepted per round (gen-prompts --count).") var promptsPerRound = 8
    @Option(help: "Candidates per prompt.") var candidates = 4
    @Option(help: "Judge samples per candidate.") var judgeSamples = 3
    @Flag(help: "Judge with output constrained to end in a score line (so small models give scores).") var structured = false
    @Option(help: "Most tokens per generated prompt.") var promptMaxTokens = 128
    @Option(help: "Most tokens per candidate.") var candidateMaxTokens = 256
    @Option(help: "Most tokens per judgment.") var judgeMaxTokens = 256
    @Option(help: "A round with fewer pairs stops instead of training.") var minPairs = 1
    @Option(help: "EFT targets: judge (by the IFT-only SFT model), structured or human (from the ranks).") var eftTargets = "judge"
    @Option(help: "IFT data.") var ift = "ift"
    @Option(help: "Human-ranked replies for EFT ('' for none: M1 trains on IFT alone).") var ranked = "ranked"
    @Option(help: "Seed pool for gen-prompts.") var seeds = "ift"
    @Option(help: "Probe set (ift rows) for the judge's free-form parse rate before and after EFT ('' for none).")
    var probe = ""
    @Option(parsing: .upToNextOption, help: "Evaluation prompt sets generated prompts must not copy.") var decontaminate: [String] = []
    @Option(help: "Trainer steps per SFT run (-1: one epoch).") var sftMaxSteps = -1
    @Option(help: "Trainer steps per DPO run (-1: one epoch).") var dpoMaxSteps = -1
    @Option(help: "Longest training sequence, tokens.") var maxLength = 1024
    @Option(help: "Examples per optimizer step.") var trainBatchSize = 16
    @Option(help: "Seed for sampling, splits and training.") var seed: Int64 = 0
    @Option(help: "Local server slots (parallel sequences).") var parallel = 4
    @Option(help: "Local server context per slot, tokens.") var ctxPerSlot = 4096
    @Option(help: "Local server threads (default: all cores).") var threads: Int?
    @Flag(help: "No progress bars.") var quiet = false

    func options(iterations: Int) throws -> LoopPlan.Options {
        guard let targets = BuildEFT.Targets(rawValue: eftTargets) else {
            throw ValidationError("--eft-targets must be one of \(BuildEFT.Targets.allCases.map(\.rawValue))")
        }
        var o = LoopPlan.Options()
        o.iterations = iterations
        o.promptsPerRound = promptsPerRound
        o.candidates = candidates
        o.judgeSamples = judgeSamples
        o.structured = structured
        o.promptMaxTokens = promptMaxTokens
        o.candidateMaxTokens = candidateMaxTokens
        o.judgeMaxTokens = judgeMaxTokens
        o.minPairs = minPairs
        o.eftTargets = targets
        o.ift = ift
        o.ranked = ranked
        o.seeds = seeds
        o.probe = probe
        o.decontaminate = decontaminate
        o.sftMaxSteps = sftMaxSteps
        o.dpoMaxSteps = dpoMaxSteps
        o.maxLength = maxLength
        o.trainBatchSize = trainBatchSize
        o.seed = seed
        return o
    }

    /// Saves and runs a plan, one line per step.
    func run(_ plan: LoopPlan) async throws {
        let store = try self.store.open()
        let experiment = self.store.experiment
        try plan.save(store, experiment: experiment)
        let (parallel, ctx, threads) = (self.parallel, ctxPerSlot, self.threads)
        let runner = LoopRunner(models: { name in
            let local = try CheckpointModels.localModel(name, experiment: experiment, store: { store })
            return ModelSpec(gguf: local.gguf, label: local.label, parallel: parallel, contextPerSlot: ctx, threads: threads)
        })
        let total = plan.steps.count
        let context = StageContext(store: store, experiment: experiment, quiet: quiet)
        _ = try await runner.run(plan, context) { n, step, outcome in
            // Written straight away (print buffers when stdout is a file): a long loop shows each step as it ends.
            FileHandle.standardOutput.write(Data("[\(n + 1)/\(total)] \(step.summary): \(outcome.reused ? "reused" : "done") \(outcome.summary)\n".utf8))
        }
    }
}

struct LoopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loop",
        abstract: "SFT (M0 → M1 on IFT + EFT), then K self-rewarding rounds (M_r makes pairs, DPO gives M_r+1).",
        discussion: """
            The plan (stages and their options) is stored in the store's `plan` table before it runs. Rerunning the \
            same command resumes: steps already finished with the same config and inputs are reused, and an \
            interrupted stage asks only the calls its journal lacks. `srlm query round-history` shows the rounds.
            """)
    @OptionGroup var loop: LoopOptions
    @Option(help: "Self-rewarding rounds after SFT.") var iterations = 2

    func run() async throws {
        try await loop.run(LoopPlan.loop(try loop.options(iterations: iterations)))
    }
}

struct RoundCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "round", abstract: "One self-rewarding round N: gen-prompts → gen-candidates → judge → pairs → train dpo (M_N → M_N+1).")
    @OptionGroup var loop: LoopOptions
    @Argument(help: "The round (1 uses M1, the model SFT made).") var n: Int

    func run() async throws {
        guard n >= 1 else { throw ValidationError("rounds start at 1 (round 0 is SFT: `srlm train sft --round 0`)") }
        try await loop.run(LoopPlan(steps: LoopPlan.round(n, try loop.options(iterations: n))))
    }
}
