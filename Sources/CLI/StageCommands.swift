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
    @OptionGroup var server: ServerOptions

    func run() async throws {
        let path = try model.map { try CheckpointModels.localModel($0, experiment: store.experiment, store: { try store.open() }).gguf }
        let options = LocalServer.Options(model: try path ?? EngineHome.locate().defaultGGUF, port: port,
                                          parallel: self.server.parallel, contextPerSlot: self.server.ctxPerSlot,
                                          threads: self.server.threads)
        let server = LocalServer(options: options)
        let ready = try server.start(home: try EngineHome.locate())
        // Written unbuffered: a script reading the URL from a pipe or a file sees it now, not at exit.
        FileHandle.standardOutput.write(Data("serving \(ready.model_path) at \(ready.url) (sha256 \(ready.model_sha256.prefix(12)), \(options.parallel) slots); Ctrl-C stops it\n".utf8))
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
    @Option(help: "Most model calls the stage may send (answers from the journal are free; default: no limit).") var maxCalls: Int?
    @Option(help: "Most prompt + completion tokens the stage's calls may use (default: no limit).") var maxTotalTokens: Int?

    func context() throws -> StageContext {
        StageContext(store: try store.open(), experiment: store.experiment, quiet: quiet,
                     budget: CallBudget(maxCalls: maxCalls, maxTotalTokens: maxTotalTokens))
    }
}

func printResult(_ stage: String, _ result: StageResult) {
    let verb = result.reused ? "reused" : "wrote"
    let stats = result.stats.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.formatted())" }.joined(separator: ", ")
    print("\(stage): \(verb) \(result.version.ref) (\(result.version.rowCount) rows, run \(result.runID))\(stats.isEmpty ? "" : ": " + stats)")
}

/// A comma-separated list of numbers given to `option` ("0.05,0.95"); `expected` says its shape in the error.
func numbers(_ text: String, option: String, expected: String) throws -> [Double] {
    try text.split(separator: ",").map { part in
        guard let value = Double(part.trimmingCharacters(in: .whitespaces)) else { throw ValidationError("\(option): '\(text)' is not \(expected)") }
        return value
    }
}

/// Runs a stage with its model open (a local server when needed), as every model stage command does.
func perform<S: Stage>(_ stage: S, _ context: StageContext, model: ModelOptions) async throws -> StageResult {
    try await model.withSession(store: context.store, experiment: context.experiment) {
        try await context.perform(stage, session: $0, concurrency: model.concurrency)
    }
}

struct GenPromptsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gen-prompts",
        abstract: "New prompts by 8-shot self-instruct prompting, filtered as Self-Instruct does (paper: 6 IFT + 2 generated shots, T 0.6, top-p 0.9).")
    static let defaults = GenPrompts.Config(round: 1)
    @OptionGroup var round: RoundOptions
    @OptionGroup var model: ModelOptions
    @Option(help: "Prompts to accept.") var count: Int
    @Option(help: "The seed pool: any version with prompts.") var seeds = defaults.seeds
    @Option(help: "Shots from the seed pool.") var seedShots = defaults.seedShots
    @Option(help: "Shots from earlier generated prompts (seeds fill in while there are fewer).") var generatedShots = defaults.generatedShots
    @Option(help: "Sampling temperature.") var temperature = defaults.sampling.temperature
    @Option(help: "Nucleus sampling top-p.") var topP = defaults.sampling.topP
    @Option(help: "Most tokens per completion.") var maxTokens = defaults.sampling.maxTokens
    @Option(help: "Base seed (attempt i uses seed + i, and draws its shots from it).") var seed = defaults.sampling.seed
    @Option(help: "Reject prompts with ROUGE-L F at or above this to an earlier prompt or an evaluation prompt.")
    var rougeThreshold = defaults.filter.rougeThreshold
    @Option(help: "Reject instructions of this many words or fewer.") var minWords = defaults.filter.minWords
    @Option(help: "Reject instructions of more words than this.") var maxWords = defaults.filter.maxWords
    @Option(help: "Requests per batch; each batch's shots see the prompts accepted before it.") var batch = defaults.batch
    @Flag(help: "Keep instructions that open like a chat reply (\"Sure, here are...\"); Self-Instruct has no such filter.")
    var keepChatPreambles = false
    @Option(help: "Give up after this many attempts (0: 20 per prompt asked for).") var maxAttempts = defaults.maxAttempts
    @Option(parsing: .upToNextOption, help: "Evaluation prompt sets (dataset names) that generated prompts must not copy.")
    var decontaminate: [String] = []
    @Option(help: "self-instruct (the paper's 8-shot prompting) or evol (Evol-Instruct's rewrites of the seed pool's and earlier rounds' prompts, failed evolutions dropped by reason).")
    var strategy: Strategy = .selfInstruct

    enum Strategy: String, ExpressibleByArgument { case selfInstruct = "self-instruct", evol }

    var evol: EvolPrompts {
        var config = EvolPrompts.Config(round: round.round, count: count)
        config.seeds = seeds
        config.decontaminate = decontaminate
        config.sampling.seed = seed
        config.filter.minWords = minWords
        config.filter.maxWords = maxWords
        if keepChatPreambles { config.filter.preambles = [] }
        config.batch = batch
        config.maxAttempts = maxAttempts
        return EvolPrompts(config: config)
    }

    var stage: GenPrompts {
        var config = GenPrompts.Config(round: round.round, count: count)
        config.seeds = seeds
        config.decontaminate = decontaminate
        config.seedShots = seedShots
        config.generatedShots = generatedShots
        config.sampling = Sampling(temperature: temperature, topP: topP, maxTokens: maxTokens, seed: seed)
        config.filter.rougeThreshold = rougeThreshold
        config.filter.minWords = minWords
        config.filter.maxWords = maxWords
        if keepChatPreambles { config.filter.preambles = [] }
        config.batch = batch
        config.maxAttempts = maxAttempts
        return GenPrompts(config: config)
    }

    func run() async throws {
        switch strategy {
        case .selfInstruct: printResult("gen-prompts", try await perform(stage, try round.context(), model: model))
        case .evol: printResult("gen-prompts evol", try await perform(evol, try round.context(), model: model))
        }
    }
}

struct GenCandidatesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gen-candidates", abstract: "N candidate responses per prompt of the round (paper: 4, T 0.7, top-p 0.9).")
    static let defaults = GenCandidates.Config(round: 1)
    @OptionGroup var round: RoundOptions
    @OptionGroup var model: ModelOptions
    @Option(help: "Candidates per prompt.") var n = defaults.candidates
    @Option(help: "Sampling temperature.") var temperature = defaults.sampling.temperature
    @Option(help: "Nucleus sampling top-p.") var topP = defaults.sampling.topP
    @Option(help: "Most tokens per candidate.") var maxTokens = defaults.sampling.maxTokens
    @Option(help: "Base seed (sample i uses seed + i).") var seed = defaults.sampling.seed
    @Option(help: "Prompt version to answer (default: the round's gen-prompts output).") var prompts: String?

    var stage: GenCandidates {
        var config = GenCandidates.Config(round: round.round)
        config.candidates = n
        config.sampling = Sampling(temperature: temperature, topP: topP, maxTokens: maxTokens, seed: seed)
        config.prompts = prompts ?? ""
        return GenCandidates(config: config)
    }

    func run() async throws {
        printResult("gen-candidates", try await perform(stage, try round.context(), model: model))
    }
}

struct JudgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "judge", abstract: "The model judges each candidate with the additive 5-point rubric, k samples (paper: 3).")
    static let defaults = Judge.Config(round: 1)
    @OptionGroup var round: RoundOptions
    @OptionGroup var model: ModelOptions
    @Option(help: "Judge samples per candidate.") var samples = defaults.samples
    @Option(help: "Sampling temperature.") var temperature = defaults.sampling.temperature
    @Option(help: "Nucleus sampling top-p.") var topP = defaults.sampling.topP
    @Option(help: "Most tokens per judgment.") var maxTokens = defaults.sampling.maxTokens
    @Option(help: "Base seed (sample k uses seed + k).") var seed = defaults.sampling.seed
    @Flag(help: "Constrain the output to end with a valid 'Score: N' line (llama.cpp grammar / vLLM structured outputs).")
    var structured = false
    @Option(help: "A judge template file with {{question}} and {{response}} (default: the built-in additive prompt).")
    var template: String?
    @Option(help: "Candidate version to judge (default: the round's gen-candidates output).") var candidates: String?
    @Option(help: "A folder of <category>.txt rubrics (with {{question}} and {{response}}): prompts categorized by `srlm categorize` get their category's; the rest the default.")
    var rubrics: String?
    @Flag(help: "Keep the round's judgments as they are: this is another judge's view (queries/judge-agreement.sql).")
    var keepRound = false
    @Option(help: """
        Several judges, comma-separated: self (the --model/--endpoint given), a checkpoint name or .gguf, or an \
        OpenAI-compatible URL (URL#MODEL names the served model; --api-key-env gives the key). Each judge's scores \
        are stored under its own name; their union becomes the round's judgments (combine with pairs --aggregate).
        """)
    var judges: String?

    func stage(keepRound: Bool) -> Judge {
        var config = Judge.Config(round: round.round)
        config.samples = samples
        config.sampling = Sampling(temperature: temperature, topP: topP, maxTokens: maxTokens, seed: seed)
        config.structured = structured
        config.candidates = candidates ?? ""
        return Judge(config: config, templateFile: template, recordsRound: !keepRound, rubricsDirectory: rubrics)
    }

    func run() async throws {
        let context = try round.context()
        guard let judges else {
            printResult("judge", try await perform(stage(keepRound: keepRound), context, model: model))
            return
        }
        var versions: [String] = []
        for spec in judges.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !spec.isEmpty {
            let result = try await perform(stage(keepRound: true), context, model: try judgeModel(spec))
            printResult("judge \(spec)", result)
            versions.append(result.version.ref)
        }
        guard !keepRound else { return }
        printResult("judge-panel", try await context.perform(JudgePanel(config: JudgePanel.Config(round: round.round, judgments: versions))))
    }

    /// A `--judges` entry as model options: self, a URL (#served model), or a checkpoint name / GGUF path.
    func judgeModel(_ spec: String) throws -> ModelOptions {
        var options = model
        if spec == "self" { return options }
        if spec.hasPrefix("http://") || spec.hasPrefix("https://") {
            let parts = spec.split(separator: "#", maxSplits: 1).map(String.init)
            options.model = nil
            options.endpoint = [parts[0]]
            if parts.count == 2 { options.servedModel = parts[1] }
            options.weightsID = nil
            return options
        }
        options.model = spec
        options.endpoint = []
        return options
    }
}

extension Categorize.Classifier: ExpressibleByArgument {}

struct CategorizeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "categorize",
        abstract: "Give the round's prompts a category (coding, math, reasoning, writing, advice, open-qa) as a new version of them.",
        discussion: """
            --classifier rules: keyword rules, no model. model: the model answers with a label (constrained to the \
            list). The categorized version becomes the round's prompts; `srlm judge --rubrics DIR` then judges each \
            prompt with DIR/<category>.txt, and SQL groups by the `category` column.
            """)
    static let defaults = Categorize.Config(round: 1)
    @OptionGroup var round: RoundOptions
    @OptionGroup var model: ModelOptions
    @Option(help: "rules or model.") var classifier = defaults.classifier
    @Option(help: "Prompt version to categorize (default: the round's).") var prompts: String?

    func run() async throws {
        var config = Categorize.Config(round: round.round)
        config.classifier = classifier
        config.prompts = prompts ?? ""
        let context = try round.context()
        let stage = Categorize(config: config)
        printResult("categorize", classifier == .rules ? try await context.perform(stage) : try await perform(stage, context, model: model))
    }
}

struct DifficultyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "difficulty",
        abstract: "Each prompt's difficulty from the round's judgments (its candidates' mean score and spread), as a new version of the prompts.",
        discussion: "No model. Then `srlm derive hard --from PROMPTS --where \"difficulty < 2\"` keeps the prompts the model found hard.")
    @OptionGroup var round: RoundOptions

    func run() async throws {
        printResult("difficulty", try await round.context().perform(Difficulty(config: Difficulty.Config(round: round.round))))
    }
}

extension PairPolicy: ExpressibleByArgument {}
extension JudgeAggregate: ExpressibleByArgument {}
extension PairWeighting: ExpressibleByArgument {}
extension ConsistencyScope: ExpressibleByArgument {}

struct PairsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pairs", abstract: "Preference pairs from judged candidates, by a pair policy (default: the paper's highest vs lowest mean score).",
        discussion: """
            No model call: on a round whose judgments exist, another --policy makes a new pairs version from the same \
            judgments (`srlm diff pairs@A pairs@B --by-prompt` shows which prompts flipped; `srlm query policy-compare` \
            sets the policies side by side). best-worst: the paper (ties dropped). length-control: Meta-Rewarding's \
            bands, chosen the shortest scoring ≥ (1−ρ)·Smax + ρ·Smin, rejected the longest scoring ≤ (1−ρ)·Smin + ρ·Smax \
            (ρ = 0: the least spread judge samples break ties). anchored: rejected from --anchor's candidates for the \
            same prompts, judged by the round's judge (`srlm gen-candidates --model ANCHOR` and `srlm judge` make them). \
            Per-pair training weights, which `srlm train dpo` passes to the trainer: --weighting vote (ScPO: the judge \
            samples' vote margin scales the pair's loss) and --consistency-with JUDGMENTS (CREAM: the previous model's \
            judgments of the same candidates, from `srlm judge --model M_PREV --candidates … --keep-round`; the two \
            judges' ranking consistency c = (τ+1)/2 becomes a soft label, c·DPO(chosen, rejected) + (1−c)·DPO(rejected, chosen)).
            """)
    static let defaults = Pairs.Config(round: 1)
    @OptionGroup var round: RoundOptions
    @Option(help: "best-worst, length-control or anchored.") var policy = defaults.policy
    @Option(help: "length-control's ρ, 0…1.") var rho = defaults.rho
    @Option(help: "anchored: the earlier checkpoint (e.g. M1) whose candidates are rejected.") var anchor: String?
    @Option(help: "Smallest score margin kept (ties are always dropped).") var minMargin = defaults.minMargin
    @Option(help: "Largest chosen/rejected reply length ratio kept (0: no limit).") var maxLengthRatio = defaults.maxLengthRatio
    @Option(help: "RIP: drop pairs whose rejected reply scores below this quantile (0: off).") var ripRejectedScore = defaults.ripRejectedScore
    @Option(help: "RIP: drop pairs whose rejected reply's length is outside these quantiles, LOW,HIGH (e.g. 0.05,0.95).")
    var ripRejectedLength: String?
    @Option(help: "RIP: drop pairs whose score gap is below this quantile (0: off).") var ripGap = defaults.ripGap
    @Option(help: "Keep prompts whose difficulty (mean candidate score, as `srlm difficulty` stores it) is in LOW,HIGH.")
    var difficultyRange: String?
    @Option(help: "Judgment version (default: the round's judge output).") var judgments: String?
    @Option(help: "Several judges' scores combined by mean, median, vote or veto (one judge: its mean).") var aggregate = defaults.aggregate
    @Option(help: "Write to this dataset instead of the round's pairs (the round keeps its pairs).") var name: String?
    @Option(help: "Per-pair loss weight: none or vote (ScPO's vote margin of the judge samples).") var weighting: PairWeighting?
    @Option(help: "CREAM: judgments of the same candidates by another judge (e.g. the previous model); soft labels from their consistency.")
    var consistencyWith: String?
    @Option(help: "CREAM's consistency per pair (its prompt's candidates) or per set (the mean, for every pair).")
    var consistencyScope: ConsistencyScope?

    func run() async throws {
        var config = Pairs.Config(round: round.round)
        config.policy = policy
        config.rho = rho
        config.anchor = anchor ?? ""
        config.minMargin = minMargin
        config.maxLengthRatio = maxLengthRatio
        config.ripRejectedScore = ripRejectedScore
        config.ripRejectedLength = try ripRejectedLength.map { try numbers($0, option: "--rip-rejected-length", expected: "LOW,HIGH") } ?? []
        config.ripGap = ripGap
        config.difficultyRange = try difficultyRange.map { try numbers($0, option: "--difficulty-range", expected: "LOW,HIGH") } ?? []
        config.judgments = judgments ?? ""
        config.aggregate = aggregate
        config.name = name ?? ""
        config.weighting = weighting
        config.consistencyWith = consistencyWith
        config.consistencyScope = consistencyScope
        printResult("pairs", try await round.context().perform(Pairs(config: config)))
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
    static let defaults = BuildEFT.Config()
    @OptionGroup var store: StoreOptions
    @OptionGroup var model: ModelOptions
    @Option(help: "The human-ranked replies (a ranked version).") var from = defaults.ranked
    @Option(help: "IFT data whose prompts are left out (none: --ift '').") var ift = defaults.ift
    @Option(help: "Where targets come from: judge, structured or human.") var targets = defaults.targets
    @Option(help: "Share of prompts held out as the eval split.") var evalFraction = defaults.evalFraction
    @Flag(help: "Keep the most common score's examples all (no down-sampling).") var noRebalance = false
    @Option(help: "Seed of the rebalancing and the split; also the judge's sampling seed.") var seed = defaults.seed
    @Option(help: "Judge sampling temperature.") var temperature = defaults.sampling.temperature
    @Option(help: "Most tokens per judge output.") var maxTokens = defaults.sampling.maxTokens
    @Option(help: "A judge template file replacing the built-in one ({{question}}, {{response}}).") var template: String?
    @Flag(help: "No progress output.") var quiet = false

    func run() async throws {
        var config = BuildEFT.Config()
        config.targets = targets
        config.ranked = from
        config.ift = ift
        config.evalFraction = evalFraction
        config.rebalance = !noRebalance
        config.seed = seed
        config.sampling = Sampling(temperature: temperature, topP: Self.defaults.sampling.topP, maxTokens: maxTokens, seed: seed)
        let stage = BuildEFT(config: config, templateFile: template)
        let context = StageContext(store: try store.open(), experiment: store.experiment, quiet: quiet)
        guard targets != .human else { return printResult("build-eft", try await context.perform(stage)) }
        // The paper's judge for EFT targets is the IFT-only baseline: checkpoint SFT unless a model is named.
        var judge = model
        if judge.model == nil && judge.endpoint.isEmpty && !judge.offline { judge.model = "SFT" }
        printResult("build-eft", try await perform(stage, context, model: judge))
    }
}

struct JudgeProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "judge-probe",
        abstract: "How often the model's free-form judgments parse, on a fixed probe set of (question, response) rows.")
    static let defaults = JudgeProbe.Config()
    @OptionGroup var store: StoreOptions
    @OptionGroup var model: ModelOptions
    @Option(help: "The probe set: an ift dataset of (question, response) rows.") var probe = defaults.probe
    @Option(help: "Most tokens per judgment.") var maxTokens = defaults.sampling.maxTokens
    @Option(help: "A judge template file with {{question}} and {{response}} (default: the built-in additive prompt).")
    var template: String?
    @Flag(help: "No progress output.") var quiet = false

    func run() async throws {
        var config = JudgeProbe.Config()
        config.probe = probe
        config.sampling.maxTokens = maxTokens
        let context = StageContext(store: try store.open(), experiment: store.experiment, quiet: quiet)
        let result = try await perform(JudgeProbe(config: config, templateFile: template), context, model: model)
        let (parsed, judged) = (Int(result.stats["parsed"] ?? 0), Int(result.stats["judged"] ?? 0))
        let rate = judged == 0 ? 0 : Int((Double(parsed) / Double(judged) * 100).rounded())
        print("judge-probe: \(parsed) of \(judged) free-form judgments parsed (\(rate)%), \(result.version.ref)\(result.reused ? " (reused)" : "")")
    }
}
