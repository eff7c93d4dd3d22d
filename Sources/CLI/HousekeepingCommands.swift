import ArgumentParser
import SRLMStore

/// `srlm rm NAME@N | --round N | --experiment NAME`
struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove a version, a round or (--experiment NAME alone) an experiment that nothing kept depends on (or say what does).",
        discussion: """
            A version goes only when no run read it, no version derives from it, no checkpoint was trained on it and \
            no round holds it. --round N takes the round's versions and checkpoint, the runs that made them and the \
            evaluations of that checkpoint (the last round first). The removal is logged in the store's `removal` \
            table; `srlm gc` then reclaims the texts no kept row uses and deletes the removed checkpoints' model files.
            """)
    @OptionGroup var options: StoreOptions
    @Argument(help: "The version to remove (NAME@N; a bare NAME means its latest version).") var version: String?
    @Option(help: "Remove this round of --experiment and what it made.") var round: Int?
    @Flag(help: "Only say what would go.") var dryRun = false

    func validate() throws {
        guard version == nil || round == nil else { throw ValidationError("name a version or --round N, not both") }
        guard version != nil || round != nil || options.experimentGiven != nil else {
            throw ValidationError("name what to remove: a version (NAME@N), --round N, or --experiment NAME alone for a whole experiment")
        }
    }

    func run() throws {
        let target: RemovalTarget
        if let version { target = .version(try DatasetRef(parsing: version)) }
        else if let round { target = .round(round) }
        else { target = .experiment }
        let store = try options.open()
        print(try Remover.run(store, experiment: options.experiment, target: target, dryRun: dryRun).summary())
    }
}

/// `srlm gc [--apply]`
struct GC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Reclaim texts no kept row uses and the model files of removed checkpoints (a dry run unless --apply).",
        discussion: """
            Kept blobs keep their ids and bytes, so no kept row, row hash or version hash changes; `srlm fsck` passes \
            afterwards. A model file is deleted only if it is inside the store's own run folder (srlm-runs/NAME/; files \
            elsewhere, such as another store's, are never touched) and still has the SHA-256 recorded when its \
            checkpoint was removed; the dry run lists every path it would delete.
            """)
    @OptionGroup var options: StoreOptions
    @Flag(help: "Do it (without it, only say what would go and how many bytes).") var apply = false

    func run() throws {
        let store = try options.open()
        var settings = GCOptions()
        settings.dryRun = !apply
        print(try GarbageCollector.run(store, settings).summary())
    }
}
