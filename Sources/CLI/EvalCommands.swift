import ArgumentParser
import Foundation
import SRLMEngines
import SRLMEval
import SRLMReport
import SRLMStages
import SRLMStore

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval", abstract: "Did the round work? The judge against human rankings, and policies head to head.",
        subcommands: [EvalJudgeCommand.self, EvalH2HCommand.self, EvalWinrateCommand.self])
}

struct EvalJudgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "judge",
        abstract: "The judge against human labels: rankings (the paper's Table 4; pairwise accuracy, 5-best, exact match, Spearman, Kendall, with intervals and the random judge), or pairwise verdicts (--mode pairwise).",
        discussion: """
            pointwise (default): judges every reply of a ranked version with the loop's rubric, template and sampling. \
            Leave out what training saw: `--exclude ift eft` drops prompts of the IFT data and of the EFT train split.
            pairwise: the judge sees both replies of each labelled pair (`srlm import labeled-pairs`) and names the \
            better one, in both orders; a verdict that flips with the order is a tie. Figures: accuracy over the \
            pairs people did not call a tie, three-class agreement, Cohen's κ, unparsed rate, position consistency.
            pointwise on labelled pairs (`--data` a labeled-pairs version): the rubric scores each reply alone and \
            the higher mean score is the verdict; the same figures but position consistency, and the parse rate.
            """)
    static let defaults = EvalJudge.Config()
    static let pairwiseDefaults = EvalPairwise.Config()
    @OptionGroup var store: StoreOptions
    @OptionGroup var model: ModelOptions
    @Option(help: "pointwise (score each reply with the rubric) or pairwise (name the better of two replies).") var mode = "pointwise"
    @Option(help: "The human labels: a ranked version (pointwise; default \(defaults.data)) or a labeled-pairs version (pairwise, default \(pairwiseDefaults.data); or pointwise).")
    var data: String?
    @Option(parsing: .upToNextOption, help: "Versions whose prompts were trained on (eft: its train split) and are left out (pointwise).")
    var exclude: [String] = defaults.exclude
    @Option(help: "Judge samples per reply, averaged (pointwise).") var samples = defaults.samples
    @Option(help: "Sampling temperature (default \(defaults.sampling.temperature); pairwise \(pairwiseDefaults.sampling.temperature)).")
    var temperature: Double?
    @Option(help: "Nucleus sampling top-p (default \(defaults.sampling.topP); pairwise \(pairwiseDefaults.sampling.topP)).") var topP: Double?
    @Option(help: "Most tokens per judgment (default \(defaults.sampling.maxTokens); pairwise \(pairwiseDefaults.sampling.maxTokens)).")
    var maxTokens: Int?
    @Option(help: "Base seed (sample k uses seed + k).") var seed = defaults.sampling.seed
    @Flag(help: "Constrain the output to end with a valid 'Score: N' line (pairwise: a [[A]] / [[B]] / [[C]] verdict line).")
    var structured = false
    @Flag(help: "Also every figure per prompt category (metric@category; the stored category, else keyword rules; pointwise).")
    var byCategory = false
    @Option(help: "A judge template file replacing the built-in rubric (pointwise).") var template: String?
    @Option(help: "Bootstrap resamples for the 95 % intervals.") var resamples = defaults.resamples
    @Flag(help: "No progress output.") var quiet = false
    @OptionGroup var output: EvalFormatOption

    func validate() throws {
        guard ["pointwise", "pairwise"].contains(mode) else { throw ValidationError("--mode must be pointwise or pairwise") }
        if mode == "pairwise" {
            guard exclude.isEmpty, samples == Self.defaults.samples, template == nil else {
                throw ValidationError("--exclude, --samples and --template apply to --mode pointwise only")
            }
        }
    }

    func sampling(_ base: Sampling) -> Sampling {
        Sampling(temperature: temperature ?? base.temperature, topP: topP ?? base.topP, maxTokens: maxTokens ?? base.maxTokens, seed: seed)
    }

    func run() async throws {
        let context = StageContext(store: try store.open(), experiment: store.experiment, quiet: quiet)
        if mode == "pairwise" {
            var config = EvalPairwise.Config()
            config.data = data ?? config.data
            config.sampling = sampling(config.sampling)
            config.structured = structured
            config.resamples = resamples
            let result = try await perform(EvalPairwise(config: config), context, model: model)
            return try printMetrics("eval judge (pairwise)", result, context.store, format: output.format)
        }
        if let data, try context.version(data).kind == .labeledPairs {
            guard exclude.isEmpty else { throw ValidationError("--exclude applies to ranked data only") }
            var config = EvalPointwisePairs.Config()
            config.data = data
            config.samples = samples
            config.sampling = sampling(config.sampling)
            config.structured = structured
            config.resamples = resamples
            let result = try await perform(EvalPointwisePairs(config: config, templateFile: template), context, model: model)
            return try printMetrics("eval judge (pointwise, on labelled pairs)", result, context.store, format: output.format)
        }
        var config = EvalJudge.Config()
        config.data = data ?? config.data
        config.exclude = exclude
        config.samples = samples
        config.sampling = sampling(config.sampling)
        config.structured = structured
        if byCategory { config.byCategory = true }
        config.resamples = resamples
        let result = try await perform(EvalJudge(config: config, templateFile: template), context, model: model)
        try printMetrics("eval judge", result, context.store, format: output.format)
    }
}

/// The judge of a comparison: a checkpoint (or .gguf) served locally, or OpenAI-compatible endpoints.
struct JudgeOptions: ParsableArguments {
    @Option(help: "The judge: a checkpoint name or a .gguf file, served locally.") var judge: String?
    @Option(help: "An OpenAI-compatible judge endpoint instead (repeatable).") var judgeEndpoint: [String] = []
    @Option(help: "The `model` name sent to the judge endpoint.") var judgeServedModel = "default"
    @Option(help: "Identity of the judge endpoint's weights (recorded with every verdict).") var judgeWeightsId: String?
    @Option(help: "Environment variable holding the judge endpoint's API key (never stored).") var judgeApiKeyEnv: String?
    @Option(help: "Judge endpoint dialect for constrained output: llamacpp, vllm or openai.") var judgeFlavor = "llamacpp"
    @Flag(help: "Constrain the judge's output to end with a verdict line ([[A]], [[B]] or [[C]]).") var structured = false

    func spec(_ store: Store, experiment: String, server: ServerOptions) throws -> ModelSpec {
        if !judgeEndpoint.isEmpty {
            guard let flavor = Endpoint.Flavor(rawValue: judgeFlavor) else {
                throw ValidationError("--judge-flavor must be one of \(Endpoint.Flavor.allCases.map(\.rawValue))")
            }
            return ModelSpec(endpoints: judgeEndpoint.map { Endpoint(baseURL: $0, modelName: judgeServedModel, flavor: flavor, apiKeyEnv: judgeApiKeyEnv) },
                             weightsID: judgeWeightsId)
        }
        guard let judge else { throw ValidationError("name the judge: --judge CHECKPOINT (or .gguf) or --judge-endpoint URL") }
        return try localSpec(judge, store, experiment: experiment, server: server)
    }
}

func localSpec(_ name: String, _ store: Store, experiment: String, server: ServerOptions) throws -> ModelSpec {
    let local = try CheckpointModels.localModel(name, experiment: experiment, store: { store })
    return server.spec(gguf: local.gguf, label: local.label)
}

/// What h2h and winrate share: answering, comparing, the judge and the local server's shape.
struct CompareOptions: ParsableArguments {
    @OptionGroup var store: StoreOptions
    @OptionGroup var judge: JudgeOptions
    @OptionGroup var server: ServerOptions
    @Option(help: "Most tokens per answer.") var maxTokens = EvalAnswers.Config().sampling.maxTokens
    @Option(help: "Most tokens per judge verdict.") var judgeMaxTokens = EvalCompare.Config().sampling.maxTokens
    @Option(help: "Bootstrap resamples for the 95 % intervals.") var resamples = EvalCompare.Config().resamples
    @Flag(help: "No progress output.") var quiet = false
    @OptionGroup var output: EvalFormatOption

    func context() throws -> StageContext {
        StageContext(store: try store.open(), experiment: store.experiment, quiet: quiet)
    }

    /// A model's answers to a version's prompts (journaled; reused when already made).
    func answers(_ model: String, prompts: String, _ context: StageContext) async throws -> StageResult {
        var config = EvalAnswers.Config(prompts: prompts)
        config.sampling.maxTokens = maxTokens
        return try await ModelSession.with(try localSpec(model, context.store, experiment: context.experiment, server: server)) {
            try await context.perform(EvalAnswers(config: config), session: $0)
        }
    }

    func compare(kind: String, a: StageResult, aModel: String, b: String, bModel: String, _ context: StageContext) async throws -> StageResult {
        var config = EvalCompare.Config()
        config.kind = kind
        (config.a, config.aModel, config.b, config.bModel) = (a.version.ref, aModel, b, bModel)
        config.sampling.maxTokens = judgeMaxTokens
        config.structured = judge.structured
        config.resamples = resamples
        return try await ModelSession.with(try judge.spec(context.store, experiment: context.experiment, server: server)) {
            try await context.perform(EvalCompare(config: config), session: $0)
        }
    }
}

struct EvalH2HCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "h2h", abstract: "Head to head: A's and B's answers to the same prompts, compared by a judge in both orders (inconsistent = tie).")
    @OptionGroup var options: CompareOptions
    @Option(help: "Model A (a checkpoint or .gguf).") var a: String
    @Option(help: "Model B (a checkpoint or .gguf).") var b: String
    @Option(help: "The prompts both answer (any version with prompts).") var prompts: String

    func run() async throws {
        let context = try options.context()
        let answersA = try await options.answers(a, prompts: prompts, context)
        let answersB = try await options.answers(b, prompts: prompts, context)
        let result = try await options.compare(kind: "h2h", a: answersA, aModel: a, b: answersB.version.ref, bModel: b, context)
        try printMetrics("eval h2h \(a) vs \(b)", result, context.store, format: options.output.format)
    }
}

struct EvalWinrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "winrate",
        abstract: "Win rate against reference outputs (AlpacaEval style), raw and length-controlled, judged in both orders.",
        discussion: """
            Import the reference first: `srlm import ift ../shared/data/alpaca-eval/gpt4_1106_preview_model_outputs.json \
            --format alpaca-eval --name alpaca-ref`.
            """)
    @OptionGroup var options: CompareOptions
    @Option(help: "The model (a checkpoint or .gguf).") var model: String
    @Option(help: "Reference outputs: an ift version (prompt, reference response).") var reference: String

    func run() async throws {
        let context = try options.context()
        let answers = try await options.answers(model, prompts: reference, context)
        let result = try await options.compare(kind: "winrate", a: answers, aModel: model, b: reference, bModel: reference, context)
        try printMetrics("eval winrate \(model) vs \(reference)", result, context.store, format: options.output.format)
    }
}

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "One self-contained HTML file (or Markdown) with the evaluations, judge health, round history and example pairs.")
    @OptionGroup var store: StoreOptions
    @Option(name: .shortAndLong, help: "The file to write (- for standard output; default: report.html, or report.md with --format md).")
    var out: String?
    @Option(help: "html or md (default: from the --out file's extension, else html).") var format: String?
    @Option(help: "Example pairs shown.") var examples = 3
    @Option(help: "A text file of notes on this run's figures, shown after the paper's claims (paragraphs split by blank lines).")
    var notes: String?
    @Option(help: "The fewest prompts a claim (reproduced, better, above chance) may rest on; below it the report says \"too few prompts to tell\".")
    var minPrompts = ReportBuilder.minimumPrompts

    func validate() throws {
        guard minPrompts >= 1 else { throw ValidationError("--min-prompts must be 1 or more") }
    }

    func run() throws {
        let format = self.format ?? (out.map { $0.hasSuffix(".md") || $0.hasSuffix(".markdown") } == true ? "md" : "html")
        guard ["html", "md"].contains(format) else { throw ValidationError("--format must be html or md") }
        let out = self.out ?? "report.\(format)"
        let store = try self.store.openReadOnly()
        let notesText = try notes.map { file -> String in
            do { return try String(contentsOfFile: file, encoding: .utf8) } catch {
                throw SRLMError.notFound("notes file \(file): cannot read it (\(error.localizedDescription))")
            }
        }
        let report = try ReportBuilder.build(store, experiment: self.store.experiment, examples: examples, notes: notesText,
                                             minimumPrompts: minPrompts)
        let text = format == "html" ? HTMLRenderer.render(report) : MarkdownRenderer.render(report)
        if out == "-" { return print(text, terminator: "") }
        let target = URL(fileURLWithPath: out).standardizedFileURL.resolvingSymlinksInPath().path
        let storePath = URL(fileURLWithPath: store.path).standardizedFileURL.resolvingSymlinksInPath().path
        guard ![storePath, storePath + "-wal", storePath + "-shm"].contains(target) else {
            throw ValidationError("--out \(out) is the store itself: choose another file")
        }
        try Data(text.utf8).write(to: URL(fileURLWithPath: out), options: .atomic)
        print("report: wrote \(out) (\(text.utf8.count) bytes, \(report.sections.count) sections)")
    }
}
