import ArgumentParser
import Foundation
import SRLMEngines
import SRLMEval
import SRLMStages
import SRLMStore

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run llama.cpp's server on 127.0.0.1 until Ctrl-C (stops with srlm, also when srlm is killed).")
    @OptionGroup var store: StoreOptions
    @Option(help: "A .gguf file or a checkpoint name (default: the SmolLM2 model from `make setup`).") var model: String?
    @Option(help: "Port (0: any free port).") var port = 8179
    @Option(help: "Parallel slots.") var parallel = 4
    @Option(help: "Context per slot, tokens.") var ctxPerSlot = 4096
    @Option(help: "Threads (default: all cores).") var threads: Int?

    func run() async throws {
        let path = try model.map { try CheckpointModels.localModel($0, experiment: store.experiment, store: { try store.open() }).gguf }
        var options = LocalServer.Options(model: try path ?? EngineHome.locate().defaultGGUF, port: port,
                                          parallel: parallel, contextPerSlot: ctxPerSlot, threads: threads)
        options.port = port
        let server = LocalServer(options: options)
        let ready = try server.start(home: try EngineHome.locate())
        print("serving \(ready.model_path) at \(ready.url) (sha256 \(ready.model_sha256.prefix(12)), \(parallel) slots); Ctrl-C stops it")
        // SIGINT/SIGTERM end srlm; the launcher sees its stdin close and exits with us.
        let signals = [SIGINT, SIGTERM].map { number -> DispatchSourceSignal in
            Foundation.signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler { server.stop(); Foundation.exit(0) }
            source.resume()
            return source
        }
        _ = signals
        while true { try await Task.sleep(for: .seconds(3600)) }
    }
}

/// --round and --experiment/--store, shared by the stage verbs.
struct RoundOptions: ParsableArguments {
    @OptionGroup var store: StoreOptions
    @Option(help: "The iteration: round N uses model M_N and makes the data for M_N+1.") var round: Int
    @Flag(help: "No progress output.") var quiet = false

    func context() throws -> StageContext {
        StageContext(store: try store.open(), experiment: store.experiment, quiet: quiet)
    }
}

func printResult(_ stage: String, _ result: StageResult) {
    let verb = result.reused ? "reused" : "wrote"
    let stats = result.stats.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.formatted())" }.joined(separator: ", ")
    print("\(stage): \(verb) \(result.version.ref) (\(result.version.rowCount) rows, run \(result.runID))\(stats.isEmpty ? "" : ": " + stats)")
}

struct GenPromptsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gen-prompts",
        abstract: "New prompts by 8-shot self-instruct prompting, filtered as Self-Instruct does (paper: 6 IFT + 2 generated shots, T 0.6, top-p 0.9).")
    @OptionGroup var round: RoundOptions
    @OptionGroup var model: ModelOptions
    @Option(help: "Prompts to accept.") var count: Int
    @Option(help: "The seed pool: any version with prompts.") var seeds = "ift"
    @Option(help: "Shots from the seed pool.") var seedShots = 6
    @Option(help: "Shots from earlier generated prompts (seeds fill in while there are fewer).") var generatedShots = 2
    @Option(help: "Sampling temperature.") var temperature = 0.6
    @Option(help: "Nucleus sampling top-p.") var topP = 0.9
    @Option(help: "Most tokens per completion.") var maxTokens = 128
    @Option(help: "Base seed (attempt i uses seed + i, and draws its shots from it).") var seed: Int64 = 0
    @Option(help: "Reject prompts with ROUGE-L F at or above this to an earlier prompt or an evaluation prompt.") var rougeThreshold = 0.7
    @Option(help: "Reject instructions of this many words or fewer.") var minWords = 3
    @Option(help: "Reject instructions of more words than this.") var maxWords = 150
    @Option(help: "Requests per batch; each batch's shots see the prompts accepted before it.") var batch = 8
    @Flag(help: "Keep instructions that open like a chat reply (\"Sure, here are...\"); Self-Instruct has no such filter.")
    var keepChatPreambles = false
    @Option(help: "Give up after this many attempts (0: 20 per prompt asked for).") var maxAttempts = 0
    @Option(parsing: .upToNextOption, help: "Evaluation prompt sets (dataset names) that generated prompts must not copy.")
    var decontaminate: [String] = []

    func run() async throws {
        var config = GenPrompts.Config(round: round.round, count: count)
        config.seedShots = seedShots
        config.generatedShots = generatedShots
        config.sampling = Sampling(temperature: temperature, topP: topP, maxTokens: maxTokens, seed: seed)
        config.filter.rougeThreshold = rougeThreshold
        config.filter.minWords = minWords
        config.filter.maxWords = maxWords
        if keepChatPreambles { config.filter.preambles = [] }
        config.batch = batch
        config.maxAttempts = maxAttempts
        let stage = GenPrompts(config: config, seedsRef: seeds, decontaminate: decontaminate, concurrency: model.concurrency)
        let context = try round.context()
        let result = try await model.withSession(store: context.store, experiment: context.experiment) { try await stage.run(context, session: $0) }
        printResult("gen-prompts", result)
    }
}

struct GenCandidatesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gen-candidates", abstract: "N candidate responses per prompt of the round (paper: 4, T 0.7, top-p 0.9).")
    @OptionGroup var round: RoundOptions
    @OptionGroup var model: ModelOptions
    @Option(help: "Candidates per prompt.") var n = 4
    @Option(help: "Sampling temperature.") var temperature = 0.7
    @Option(help: "Nucleus sampling top-p.") var topP = 0.9
    @Option(help: "Most tokens per candidate.") var maxTokens = 512
    @Option(help: "Base seed (sample i uses seed + i).") var seed: Int64 = 0
    @Option(help: "Prompt version to answer (default: the round's gen-prompts output).") var prompts: String?

    var stage: GenCandidates {
        var config = GenCandidates.Config(round: round.round)
        config.candidates = n
        config.sampling = Sampling(temperature: temperature, topP: topP, maxTokens: maxTokens, seed: seed)
        return GenCandidates(config: config, promptsRef: prompts, concurrency: model.concurrency)
    }

    func run() async throws {
        let context = try round.context()
        let result = try await model.withSession(store: context.store, experiment: context.experiment) {
            try await stage.run(context, session: $0)
        }
        printResult("gen-candidates", result)
    }
}

struct JudgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "judge", abstract: "The model judges each candidate with the additive 5-point rubric, k samples (paper: 3).")
    @OptionGroup var round: RoundOptions
    @OptionGroup var model: ModelOptions
    @Option(help: "Judge samples per candidate.") var samples = 3
    @Option(help: "Sampling temperature.") var temperature = 0.7
    @Option(help: "Nucleus sampling top-p.") var topP = 0.9
    @Option(help: "Most tokens per judgment.") var maxTokens = 256
    @Option(help: "Base seed (sample k uses seed + k).") var seed: Int64 = 0
    @Flag(help: "Constrain the output to end with a valid 'Score: N' line (llama.cpp grammar / vLLM structured outputs).")
    var structured = false
    @Option(help: "A judge template file with {{question}} and {{response}} (default: the built-in additive prompt).")
    var template: String?
    @Option(help: "Candidate version to judge (default: the round's gen-candidates output).") var candidates: String?

    var stage: Judge {
        var config = Judge.Config(round: round.round)
        config.samples = samples
        config.sampling = Sampling(temperature: temperature, topP: topP, maxTokens: maxTokens, seed: seed)
        config.structured = structured
        return Judge(config: config, candidatesRef: candidates, templateFile: template, concurrency: model.concurrency)
    }

    func run() async throws {
        let context = try round.context()
        let result = try await model.withSession(store: context.store, experiment: context.experiment) {
            try await stage.run(context, session: $0)
        }
        printResult("judge", result)
    }
}

struct PairsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pairs", abstract: "Preference pairs: highest vs lowest mean score per prompt; ties dropped.")
    @OptionGroup var round: RoundOptions
    @Option(help: "Smallest score margin kept (ties are always dropped).") var minMargin = 0.0
    @Option(help: "Judgment version (default: the round's judge output).") var judgments: String?

    func run() throws {
        var config = Pairs.Config(round: round.round)
        config.minMargin = minMargin
        let result = try Pairs(config: config, judgmentsRef: judgments).run(try round.context())
        printResult("pairs", result)
    }
}

struct BuildEFTCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build-eft",
        abstract: "EFT data: judge prompts over human-ranked replies with targets that agree with the human ranking.",
        discussion: """
            --targets judge: the model (default: checkpoint SFT, from `srlm train sft --data ift`) judges each reply \
            (free-form); a prompt's outputs are kept when their scores \
            strictly decrease with human rank. structured: the same with the output constrained to end in a score \
            line. human: no model; targets written from the ranks (rank 0 → 5 points, 1 → 4, 2 → 3, 3 → 2, \
            4 and below → 1).
            """)
    @OptionGroup var store: StoreOptions
    @OptionGroup var model: ModelOptions
    @Option(help: "The human-ranked replies (a ranked version).") var from = "ranked"
    @Option(help: "IFT data whose prompts are left out (none: --ift '').") var ift = "ift"
    @Option(help: "Where targets come from: judge, structured or human.") var targets = "judge"
    @Option(help: "Share of prompts held out as the eval split.") var evalFraction = 0.25
    @Flag(help: "Keep the most common score's examples all (no down-sampling).") var noRebalance = false
    @Option(help: "Seed of the rebalancing and the split; also the judge's sampling seed.") var seed: Int64 = 0
    @Option(help: "Judge sampling temperature.") var temperature = 0.7
    @Option(help: "Most tokens per judge output.") var maxTokens = 256
    @Option(help: "A judge template file replacing the built-in one ({{question}}, {{response}}).") var template: String?
    @Flag(help: "No progress output.") var quiet = false

    func run() async throws {
        guard let kind = BuildEFT.Targets(rawValue: targets) else {
            throw ValidationError("--targets must be one of \(BuildEFT.Targets.allCases.map(\.rawValue))")
        }
        var config = BuildEFT.Config()
        config.targets = kind
        config.evalFraction = evalFraction
        config.rebalance = !noRebalance
        config.seed = seed
        config.sampling = Sampling(temperature: temperature, topP: 0.9, maxTokens: maxTokens, seed: seed)
        let stage = BuildEFT(config: config, rankedRef: from, iftRef: ift.isEmpty ? nil : ift, templateFile: template,
                             concurrency: model.concurrency)
        let context = StageContext(store: try store.open(), experiment: store.experiment, quiet: quiet)
        // The paper's judge for EFT targets is the IFT-only baseline: checkpoint SFT unless a model is named.
        var judge = model
        if judge.model == nil && judge.endpoint.isEmpty && !judge.offline { judge.model = "SFT" }
        let result = kind == .human
            ? try await stage.run(context, session: nil)
            : try await judge.withSession(store: context.store, experiment: context.experiment) { try await stage.run(context, session: $0) }
        printResult("build-eft", result)
    }
}

struct JudgeProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "judge-probe",
        abstract: "How often the model's free-form judgments parse, on a fixed probe set of (question, response) rows.")
    @OptionGroup var store: StoreOptions
    @OptionGroup var model: ModelOptions
    @Option(help: "The probe set: an ift dataset of (question, response) rows.") var probe = "probe"
    @Option(help: "Most tokens per judgment.") var maxTokens = 256
    @Flag(help: "No progress output.") var quiet = false

    func run() async throws {
        var config = JudgeProbe.Config()
        config.sampling.maxTokens = maxTokens
        let stage = JudgeProbe(config: config, probeRef: probe, concurrency: model.concurrency)
        let context = StageContext(store: try store.open(), experiment: store.experiment, quiet: quiet)
        let outcome = try await model.withSession(store: context.store, experiment: context.experiment) { try await stage.run(context, session: $0) }
        print("judge-probe: \(outcome.parsed) of \(outcome.judged) free-form judgments parsed "
              + "(\(Int((outcome.parseRate * 100).rounded()))%), \(outcome.version.ref)")
    }
}
