import ArgumentParser
import Foundation
import SRLMEngines
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

    func run() async throws {
        var config = GenCandidates.Config(round: round.round)
        config.candidates = n
        config.sampling = Sampling(temperature: temperature, topP: topP, maxTokens: maxTokens, seed: seed)
        let stage = GenCandidates(config: config, promptsRef: prompts, concurrency: model.concurrency)
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

    func run() async throws {
        var config = Judge.Config(round: round.round)
        config.samples = samples
        config.sampling = Sampling(temperature: temperature, topP: topP, maxTokens: maxTokens, seed: seed)
        config.structured = structured
        let stage = Judge(config: config, candidatesRef: candidates, templateFile: template, concurrency: model.concurrency)
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
