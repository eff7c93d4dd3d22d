import ArgumentParser
import Foundation
import SRLMEngines
import SRLMStages
import SRLMStore

struct BatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch", abstract: "Offline inference: a stage's pending calls as an OpenAI Batch file, and its results back.",
        discussion: """
            srlm batch export --stage judge --out calls.jsonl --round 1 --weights-id my-model --served-model my-model --flavor vllm
            python -m vllm.entrypoints.openai.run_batch -i calls.jsonl -o results.jsonl --model ...   (or the OpenAI Batch API)
            srlm batch import results.jsonl
            srlm judge --round 1 --offline --weights-id my-model
            """,
        subcommands: [BatchExport.self, BatchImport.self])
}

struct BatchExport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the stage's unanswered calls as OpenAI Batch JSONL; the other options are the stage's own.")
    @Option(help: "gen-candidates or judge.") var stage: String
    @Option(help: "The batch file to write.") var out: String
    @Argument(parsing: .allUnrecognized, help: "The stage's options (--round N, --weights-id, sampling ...).")
    var stageArguments: [String] = []

    func run() throws {
        // The stage's own options say which round, which model and which requests.
        switch stage {
        case GenCandidates.name:
            let command = try GenCandidatesCommand.parse(stageArguments)
            try export(command.stage, command.round, command.model)
        case Judge.name:
            let command = try JudgeCommand.parse(stageArguments)
            try export(command.stage(keepRound: command.keepRound), command.round, command.model)
        default:
            throw ValidationError("--stage must be gen-candidates or judge")
        }
    }

    func export<S: BatchableStage>(_ stage: S, _ round: RoundOptions, _ model: ModelOptions) throws {
        let context = try round.context()
        let identity = model.batchIdentity
        let requests = S.requests(try stage.plan(context, model: identity).work)
        let summary = try Batch.export(context.store, requests: requests, modelKey: identity.key,
                                       endpoint: model.batchEndpoint, to: out)
        print("batch: wrote \(summary.written) calls to \(out) (\(summary.alreadyAnswered) already answered)")
    }
}

struct BatchImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Put a batch results file's answers in the journal (all or nothing).")
    @OptionGroup var store: StoreOptions
    @Argument(help: "The OpenAI Batch output JSONL.") var results: String

    func run() throws {
        let summary = try Batch.importResults(try store.open(), path: results)
        print("batch: \(summary.answered) answers imported, \(summary.failed) failed (the next export includes them again)")
    }
}
