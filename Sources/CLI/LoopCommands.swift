import ArgumentParser
import Foundation
import SRLMEngines
import SRLMEval
import SRLMLoop
import SRLMStages
import SRLMStore

/// What `loop` and `round` share: the loop's knobs, each a field of a stage's config. A plan file (`--plan`,
/// written by `srlm plan init`) or the stages' own defaults give every value; a flag given overrides it.
struct LoopOptions: ParsableArguments {
    static let defaults = LoopPlan.Options()
    @OptionGroup var store: StoreOptions
    @Option(help: "A plan file (YAML, from `srlm plan init`): the recipe the flags below override.") var plan: String?
    @Option(help: "Prompts accepted per round (gen-prompts --count; default \(defaults.genPrompts.count)).") var promptsPerRound: Int?
    @Option(help: "Candidates per prompt (default \(defaults.genCandidates.candidates)).") var candidates: Int?
    @Option(help: "Judge samples per candidate (default \(defaults.judge.samples)).") var judgeSamples: Int?
    @Flag(inversion: .prefixedNo, help: "Judge with output constrained to end in a score line (so small models give scores).")
    var structured: Bool?
    @Option(help: "Most tokens per generated prompt (default \(defaults.genPrompts.sampling.maxTokens)).") var promptMaxTokens: Int?
    @Option(help: "Most tokens per candidate (default \(defaults.genCandidates.sampling.maxTokens)).") var candidateMaxTokens: Int?
    @Option(help: "Most tokens per judgment, the loop's judge and EFT judging (default \(defaults.judge.sampling.maxTokens)).")
    var judgeMaxTokens: Int?
    @Option(help: "A round with fewer pairs stops instead of training (default \(defaults.minPairs)).") var minPairs: Int?
    @Option(help: "Pair policy of every round: best-worst, length-control or anchored (default \(defaults.pairs.policy.rawValue)).")
    var policy: PairPolicy?
    @Option(help: "length-control's ρ, one value or one per round (0,0,0.1: round 3 uses 0.1; the last repeats).") var rho: String?
    @Option(help: "anchored: the earlier checkpoint whose candidates are rejected (e.g. M1).") var anchor: String?
    @Option(help: "Per-pair loss weight of every round's pairs: none (the paper) or vote (ScPO's vote margin of the judge samples).")
    var pairWeighting: PairWeighting?
    @Option(help: "Human preference pairs (e.g. hh@1) for a round-0 DPO warm start after SFT (then M1-sft), before self-iteration.")
    var warmStart: String?
    @Option(help: "How rounds make prompts: self-instruct (the paper) or evol (Evol-Instruct's rewrites).") var promptStrategy: String?
    @Option(help: "EFT targets: judge (by the IFT-only SFT model), structured or human (from the ranks; default \(defaults.buildEFT.targets.rawValue)).")
    var eftTargets: BuildEFT.Targets?
    @Option(help: "IFT data (default \(defaults.ift)).") var ift: String?
    @Option(help: "Human-ranked replies for EFT ('' for none: M1 trains on IFT alone; default \(defaults.buildEFT.ranked)).") var ranked: String?
    @Option(help: "Seed pool for gen-prompts (default \(defaults.genPrompts.seeds)).") var seeds: String?
    @Option(help: "Probe set (ift rows) for the judge's free-form parse rate of M0 and every trained checkpoint ('' for none).")
    var probe: String?
    @Flag(inversion: .prefixedNo, help: "Train the IFT-only SFT baseline, the control for M1's EFT data (default \(defaults.baseline); always trained when it writes the EFT targets).")
    var baseline: Bool?
    @Option(help: "A judge template file for every judging step: probe, EFT targets, the loop's judge (default: the built-in additive rubric).")
    var judgeTemplate: String?
    @Option(parsing: .upToNextOption, help: "Evaluation prompt sets generated prompts must not copy.") var decontaminate: [String] = []
    @Option(help: "Trainer steps per SFT run (-1: one epoch; default \(defaults.sft.hyper.maxSteps)).") var sftMaxSteps: Int?
    @Option(help: "Trainer steps per DPO run (-1: one epoch; default \(defaults.dpo.hyper.maxSteps)).") var dpoMaxSteps: Int?
    @Option(help: "Longest training sequence, tokens (default \(defaults.sft.hyper.maxLength)).") var maxLength: Int?
    @Option(help: "Examples per optimizer step (default \(defaults.sft.hyper.batchSize)).") var trainBatchSize: Int?
    @Option(help: "One seed for every stage's sampling, splits and training (default: each stage's own).") var seed: Int64?
    @OptionGroup var server: ServerOptions
    @Flag(help: "No progress bars.") var quiet = false

    /// The plan file's recipe (or the defaults) with the flags given applied.
    func options(iterations: Int? = nil) throws -> LoopPlan.Options {
        var o = try plan.map { try LoopPlan.Options(yaml: try String(contentsOfFile: $0, encoding: .utf8), file: $0) } ?? LoopPlan.Options()
        func set<T>(_ value: T?, _ apply: (inout LoopPlan.Options, T) -> Void) { if let value { apply(&o, value) } }
        set(iterations) { $0.iterations = $1 }
        set(promptsPerRound) { $0.genPrompts.count = $1 }
        set(promptMaxTokens) { $0.genPrompts.sampling.maxTokens = $1 }
        set(seeds) { $0.genPrompts.seeds = $1 }
        if !decontaminate.isEmpty { o.genPrompts.decontaminate = decontaminate }
        set(candidates) { $0.genCandidates.candidates = $1 }
        set(candidateMaxTokens) { $0.genCandidates.sampling.maxTokens = $1 }
        set(judgeSamples) { $0.judge.samples = $1 }
        set(structured) { $0.judge.structured = $1 }
        set(judgeMaxTokens) { $0.judge.sampling.maxTokens = $1; $0.buildEFT.sampling.maxTokens = $1 }
        set(eftTargets) { $0.buildEFT.targets = $1 }
        set(ranked) { $0.buildEFT.ranked = $1 }
        set(ift) { $0.ift = $1 }
        set(minPairs) { $0.minPairs = $1 }
        set(policy) { $0.pairs.policy = $1 }
        set(warmStart) { $0.warmStart = $1 }
        if let promptStrategy {
            guard ["self-instruct", "evol"].contains(promptStrategy) else { throw ValidationError("--prompt-strategy must be self-instruct or evol") }
            o.promptStrategy = promptStrategy
        }
        set(anchor) { $0.pairs.anchor = $1 }
        set(pairWeighting) { $0.pairs.weighting = $1 == PairWeighting.none ? nil : $1 }
        if let rho {
            let values = try numbers(rho, option: "--rho", expected: "a number or a comma-separated list")
            if values.count == 1 { o.pairs.rho = values[0]; o.rhoPerRound = [] } else { o.rhoPerRound = values }
        }
        set(probe) { $0.probe = $1 }
        set(baseline) { $0.baseline = $1 }
        set(judgeTemplate) { $0.judgeTemplate = $1 }
        set(sftMaxSteps) { $0.sft.hyper.maxSteps = $1 }
        set(dpoMaxSteps) { $0.dpo.hyper.maxSteps = $1 }
        set(maxLength) { $0.sft.hyper.maxLength = $1; $0.dpo.hyper.maxLength = $1 }
        set(trainBatchSize) { $0.sft.hyper.batchSize = $1; $0.dpo.hyper.batchSize = $1 }
        set(seed) { $0.setSeed($1) }
        return o
    }

    /// Saves (with its recipe) and runs a plan, one line per step.
    func run(_ plan: LoopPlan, recipe: LoopPlan.Options) async throws {
        let store = try self.store.open()
        let experiment = self.store.experiment
        try plan.save(store, experiment: experiment, recipe: recipe)
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
    @Option(help: "Self-rewarding rounds after SFT (default \(LoopOptions.defaults.iterations)).") var iterations: Int?

    func run() async throws {
        let recipe = try loop.options(iterations: iterations)
        try await loop.run(LoopPlan.loop(recipe), recipe: recipe)
    }
}

struct RoundCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "round", abstract: "One self-rewarding round N: gen-prompts → gen-candidates → judge → pairs → train dpo (M_N → M_N+1).")
    @OptionGroup var loop: LoopOptions
    @Argument(help: "The round (1 uses M1, the model SFT made).") var n: Int

    func run() async throws {
        guard n >= 1 else { throw ValidationError("rounds start at 1 (round 0 is SFT: `srlm train sft --round 0`)") }
        let recipe = try loop.options()
        try await loop.run(LoopPlan(steps: LoopPlan.round(n, recipe)), recipe: recipe)
    }
}

extension BuildEFT.Targets: ExpressibleByArgument {}

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Loop plans as files: the recipe with every default spelled out, and the stored one.",
        subcommands: [PlanInit.self, PlanShow.self])
}

struct PlanInit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Print the paper's recipe as YAML (every stage's config, every default): `srlm plan init > plan.yaml`.")
    @Option(help: "Self-rewarding rounds after SFT.") var iterations = LoopOptions.defaults.iterations

    func run() throws {
        var recipe = LoopPlan.Options()
        recipe.iterations = iterations
        print(try recipe.yaml(), terminator: "")
    }
}

struct PlanShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Print the experiment's stored recipe as the YAML file it came from (--steps: the planned steps).")
    @OptionGroup var store: StoreOptions
    @Flag(help: "The steps (stage, round, model, config) instead of the recipe, as JSON Lines.") var steps = false
    @Option(help: "yaml, or json: the recipe as one JSON document with the YAML's keys.") var format = "yaml"

    func validate() throws {
        guard ["yaml", "json"].contains(format) else { throw ValidationError("--format must be yaml or json") }
    }

    func run() throws {
        let store = try self.store.openReadOnly()
        if steps {
            guard let plan = try LoopPlan.load(store, experiment: self.store.experiment) else {
                throw SRLMError.notFound("experiment '\(self.store.experiment)' has no stored plan")
            }
            for step in plan.steps { print(String(decoding: try CanonicalJSON.encode(step), as: UTF8.self)) }
            return
        }
        guard let recipe = try LoopPlan.recipe(store, experiment: self.store.experiment) else {
            throw SRLMError.notFound("experiment '\(self.store.experiment)' has no stored plan recipe: `srlm loop` stores one")
        }
        if format == "json" {
            // The recipe file's own keys (camelCase, as plan.yaml spells them), not renamed.
            return try JSONOutput.print(JSONValue(parsing: String(decoding: try CanonicalJSON.encode(recipe), as: UTF8.self)))
        }
        print(try recipe.yaml(), terminator: "")
    }
}
