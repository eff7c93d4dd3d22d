import ArgumentParser
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
            Derive.self, Log.self, Fsck.self,
            Serve.self, GenPromptsCommand.self, GenCandidatesCommand.self, JudgeCommand.self, PairsCommand.self,
            BuildEFTCommand.self, JudgeProbeCommand.self, Train.self, CheckpointsCommand.self, CheckpointCommand.self,
            LoopCommand.self, RoundCommand.self, BatchCommand.self,
        ])
}

/// Where the store is and which experiment a command works in.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "The store file (default: $SRLM_STORE, else ./srlm.sqlite).")
    var store: String?

    @Option(name: .long, help: "The experiment: several loops can share one store.")
    var experiment: String = Experiment.defaultName

    var path: String { Store.defaultPath(store) }

    func open(create: Bool = false) throws -> Store {
        try Store(path: path, create: create)
    }

    func openReadOnly() throws -> Store {
        try Store(path: path, readOnly: true)
    }
}

/// Prints library errors as plain messages with a non-zero exit, not as Swift dumps.
struct UserError: Error, CustomStringConvertible {
    let description: String
}
