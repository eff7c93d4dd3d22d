import ArgumentParser
import Foundation
import SRLMEngines
import SRLMEval
import SRLMLoop
import SRLMStages
import SRLMStore

/// What `loop` and `round` share: the loop's knobs, each a field of a stage's config whose default it shows, and the
/// local server's shape.
struct LoopOptions: ParsableArguments {
    static let defaults = LoopPlan.Options()
    @OptionGroup var store: StoreOptions
    @Option(help: "Prompts accepted per round (gen-prompts --count).") var promptsPerRound = defaults.genPrompts.count
    @Option(help: "Candidates per prompt.") var candidates = defaults.genCandidates.candidates
    @Option(help: "Judge samples per candidate.") var judgeSamples = defaults.judge.samples
    @Flag(help: "Judge with output constrained to end in a score line (so small models give scores).") var structured = false
    @Option(help: "Most tokens per generated prompt.") var promptMaxTokens = defaults.genPrompts.sampling.maxTokens
    @Option(help: "Most tokens per candidate.") var candidateMaxTokens = defaults.genCandidates.sampling.maxTokens
    @Option(help: "Most tokens per judgment (the loop's judge and EFT judging).") var judgeMaxTokens = defaults.judge.sampling.maxTokens
    @Option(help: "A round with fewer pairs stops instead of training.") var minPairs = defaults.minPairs
    @Option(help: "EFT targets: judge (by the IFT-only SFT model), structured or human (from the ranks).") var eftTargets = defaults.buildEFT.targets
    @Option(help: "IFT data.") var ift = defaults.ift
    @Option(help: "Human-ranked replies for EFT ('' for none: M1 trains on IFT alone).") var ranked = defaults.buildEFT.ranked
    @Option(help: "Seed pool for gen-prompts.") var seeds = defaults.genPrompts.seeds
    @Option(help: "Probe set (ift rows) for the judge's free-form parse rate before and after EFT ('' for none).")
    var probe = defaults.probe
    @Option(parsing: .upToNextOption, help: "Evaluation prompt sets generated prompts must not copy.") var decontaminate: [String] = []
    @Option(help: "Trainer steps per SFT run (-1: one epoch).") var sftMaxSteps = defaults.sft.hyper.maxSteps
    @Option(help: "Trainer steps per DPO run (-1: one epoch).") var dpoMaxSteps = defaults.dpo.hyper.maxSteps
    @Option(help: "Longest training sequence, tokens.") var maxLength = defaults.sft.hyper.maxLength
    @Option(help: "Examples per optimizer step.") var trainBatchSize = defaults.sft.hyper.batchSize
    @Option(help: "One seed for every stage's sampling, splits and training (default: each stage's own).") var seed: Int64?
    @OptionGroup var server: ServerOptions
    @Flag(help: "No progress bars.") var quiet = false

    func options(iterations: Int) -> LoopPlan.Options {
        var o = LoopPlan.Options()
        o.iterations = iterations
        o.genPrompts.count = promptsPerRound
        o.genPrompts.sampling.maxTokens = promptMaxTokens
        o.genPrompts.seeds = seeds
        o.genPrompts.decontaminate = decontaminate
        o.genCandidates.candidates = candidates
        o.genCandidates.sampling.maxTokens = candidateMaxTokens
        o.judge.samples = judgeSamples
        o.judge.structured = structured
        o.judge.sampling.maxTokens = judgeMaxTokens
        o.buildEFT.sampling.maxTokens = judgeMaxTokens
        o.buildEFT.targets = eftTargets
        o.buildEFT.ranked = ranked
        o.ift = ift
        o.minPairs = minPairs
        o.probe = probe
        o.sft.hyper.maxSteps = sftMaxSteps
        o.dpo.hyper.maxSteps = dpoMaxSteps
        (o.sft.hyper.maxLength, o.dpo.hyper.maxLength) = (maxLength, maxLength)
        (o.sft.hyper.batchSize, o.dpo.hyper.batchSize) = (trainBatchSize, trainBatchSize)
        if let seed { o.setSeed(seed) }
        return o
    }

    /// Saves and runs a plan, one line per step.
    func run(_ plan: LoopPlan) async throws {
        let store = try self.store.open()
        let experiment = self.store.experiment
        try plan.save(store, experiment: experiment)
        let server = self.server
        let runner = LoopRunner(models: { name in
            let local = try CheckpointModels.localModel(name, experiment: experiment, store: { store })
            return server.spec(gguf: local.gguf, label: local.label)
        })
        let total = plan.steps.count
        let context = StageContext(store: store, experiment: experiment, quiet: quiet)
        _ = try await runner.run(plan, context) { n, step, outcome in
            // Written straight away (print buffers when stdout is a file): a long loop shows each step as it ends.
            FileHandle.standardOutput.write(Data("[\(n + 1)/\(total)] \(step.summary): \(outcome.reused ? "reused" : "done") \(outcome.summary)\n".utf8))
            // Once a round's pairs are made, its judge's health is known: say so when it shows a known collapse.
            if case .pairs = step.action, let health = try? JudgeHealth.rounds(store, experiment: experiment) {
                for warning in JudgeHealth.warnings(health) where warning.hasPrefix("round \(step.round):") {
                    FileHandle.standardError.write(Data("warning: judge health, \(warning)\n".utf8))
                }
            }
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
        try await loop.run(LoopPlan.loop(loop.options(iterations: iterations)))
    }
}

struct RoundCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "round", abstract: "One self-rewarding round N: gen-prompts → gen-candidates → judge → pairs → train dpo (M_N → M_N+1).")
    @OptionGroup var loop: LoopOptions
    @Argument(help: "The round (1 uses M1, the model SFT made).") var n: Int

    func run() async throws {
        guard n >= 1 else { throw ValidationError("rounds start at 1 (round 0 is SFT: `srlm train sft --round 0`)") }
        try await loop.run(LoopPlan(steps: LoopPlan.round(n, loop.options(iterations: n))))
    }
}
