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
        let round: RoundOptions, model: ModelOptions
        let requests: (StageContext, _ label: String, _ modelKey: String) throws -> [ChatRequest]
        switch stage {
        case "gen-candidates":
            let command = try GenCandidatesCommand.parse(stageArguments)
            (round, model) = (command.round, command.model)
            requests = { try command.stage.plan($0, label: $1, modelKey: $2).requests }
        case "judge":
            let command = try JudgeCommand.parse(stageArguments)
            (round, model) = (command.round, command.model)
            requests = { try command.stage.plan($0, label: $1, modelKey: $2).requests }
        default:
            throw ValidationError("--stage must be gen-candidates or judge")
        }
        let context = try round.context()
        let (label, key) = model.batchIdentity
        let summary = try Batch.export(context.store, requests: try requests(context, label, key), modelKey: key,
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
