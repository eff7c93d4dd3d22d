import ArgumentParser
import Foundation
import SRLMStore

/// `srlm`: each verb is a small command over one library call.
@main
struct SRLM: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "srlm",
        abstract: "A workbench for Self-Rewarding Language Models: every artifact of the loop in one versioned SQLite store.",
        version: Runs.toolVersion,
        subcommands: [
            Init.self, Import.self, Datasets.self, Show.self, Export.self, SQL.self, Query.self, Diff.self,
            Derive.self, Log.self, Fsck.self, Compact.self, Remove.self, GC.self, StoreCommand.self, BundleCommand.self, UnbundleCommand.self, Blame.self, DoctorCommand.self,
            Serve.self, GenPromptsCommand.self, GenCandidatesCommand.self, JudgeCommand.self, PairsCommand.self, MetaJudgeCommand.self, CategorizeCommand.self, DifficultyCommand.self,
            BuildEFTCommand.self, JudgeProbeCommand.self, Train.self, CheckpointsCommand.self, CheckpointCommand.self,
            LoopCommand.self, RoundCommand.self, PlanCommand.self, BatchCommand.self, EvalCommand.self, ReportCommand.self,
        ])

    /// Library errors print as their message plus the CLI's hint (which command or flag fixes it).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let error as SRLMError {
            var text = "Error: \(error)\n"
            if let hint = hint(for: error) { text += "Hint: \(hint)\n" }
            FileHandle.standardError.write(Data(text.utf8))
            Foundation.exit(1)
        } catch {
            exit(withError: error)
        }
    }

    static func hint(for error: SRLMError) -> String? {
        switch error {
        case let .missingRoundInput(round, _, stage):
            return "run `srlm \(stage) --round \(round)` first, or name the input version explicitly"
        case let .callsFailed(_, _, _, first) where first.contains("HTTP 401") || first.contains("HTTP 403"):
            return "put the endpoint's API key in an environment variable and name it with --api-key-env NAME, then rerun: journaled answers are reused"
        case .callsFailed:
            return "rerun the same command: answers already in the journal are reused, only the failed calls are asked again"
        case .tooFewPairs:
            return "ask for more prompts (--prompts-per-round), more candidates (--candidates), or judge with --structured so scores parse"
        case let .outOfRange(setting, _, _):
            return "see --\(setting.replacingOccurrences(of: " ", with: "-")) in the command's --help"
        case .setup:
            return "`make setup` installs the engines (engines/setup.sh); `srlm --help` lists the model options"
        case .noStore:
            return "run `srlm init` to create it (or pass --store / set SRLM_STORE)"
        case .fileExists:
            return "--force replaces it"
        case .budgetSpent:
            return "rerun with a larger --max-calls / --max-total-tokens: journaled answers are reused and cost nothing"
        case .inUse:
            return "remove those first (`srlm rm NAME@N`), or a whole round with what it made (`srlm rm --round N`, the last round first)"
        case .sql:
            return "docs/SQL.md lists every view, its columns and its keys"
        case .emptyVersion:
            return "--allow-empty writes the version with no rows anyway"
        case .badPlan:
            return "rerun `srlm loop` (or `srlm round N`) with its options: the plan is stored anew"
        default:
            return nil
        }
    }
}

/// Where the store is and which experiment a command works in.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "The store file (default: $SRLM_STORE, else ./srlm.sqlite).")
    var store: String?

    @Option(name: .customLong("experiment"), help: "The experiment: several loops can share one store (default: \(Experiment.defaultName)).")
    var experimentGiven: String?
    var experiment: String { experimentGiven ?? Experiment.defaultName }

    @Option(name: .long, help: "Cores srlm's own work may use: parsing, compression, compaction (default: all of them).")
    var cores: Int?

    var path: String { Store.defaultPath(store) }

    func open(create: Bool = false) throws -> Store {
        if let cores { Parallelism.threads = cores }
        return try Store(path: path, create: create)
    }

    /// Reads name an experiment that exists: a mistyped --experiment is an error listing the experiments, not an
    /// empty listing.
    func openReadOnly() throws -> Store {
        if let cores { Parallelism.threads = cores }
        let store = try Store(path: path, readOnly: true)
        if experimentGiven != nil { _ = try store.read { try Experiment.requireID($0, experiment) } }
        return store
    }
}

/// Prints library errors as plain messages with a non-zero exit, not as Swift dumps.
struct UserError: Error, CustomStringConvertible {
    let description: String
}
