import ArgumentParser
import Foundation
import SRLMStore

/// `srlm store copy SRC DST`
struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "Copy a store with its run folder (model files included).",
        subcommands: [StoreCopyCommand.self])
}

struct StoreCopyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy a store and its run folder (srlm-runs/NAME/) to a new path: two independent stores.",
        discussion: """
            The store file is copied with SQLite's online backup (commands may keep writing to SRC), the run folder \
            file by file; both are written aside and renamed into place. Model files are recorded relative to each \
            store's own run folder, so `srlm rm` and `srlm gc` on one never touch the other's. Model files outside \
            the run folder (a base model) are shared, and gc deletes them in neither.
            """)
    @Argument(help: "The store to copy.") var source: String
    @Argument(help: "The new store's path (must not exist, nor its run folder).") var destination: String

    func run() throws {
        let store = try Store(path: source)
        print(try StoreCopy.copy(store, to: destination).summary())
    }
}

/// `srlm bundle OUT.tar[.zst] [--no-weights]`
struct BundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Pack the store and its run folder (checkpoints included) into one tar archive to move or share.",
        discussion: """
            The archive holds NAME.sqlite and srlm-runs/NAME.sqlite/…, compressed by its name (.tar, .tar.zst, \
            .tar.gz); plain `tar -xf` unpacks it too. `srlm unbundle OUT DIR` unpacks it elsewhere and checks it. \
            Model files outside the run folder (a base model from `make setup`) are not in it: they are listed.
            """)
    @OptionGroup var options: StoreOptions
    @Argument(help: "The archive to write (.tar, .tar.zst or .tar.gz; must not exist).") var output: String
    @Flag(help: "Leave the weight files out (fsck where it is unpacked names them as missing).") var noWeights = false
    @Flag(help: "Replace an existing archive (the new one is written aside first).") var force = false

    func run() throws {
        let store = try options.open()
        print(try StoreBundle.bundle(store, to: output, weights: !noWeights, force: force).summary())
    }
}

/// `srlm unbundle IN DIR`
struct UnbundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unbundle",
        abstract: "Unpack an archive `srlm bundle` wrote into a folder, then fsck the store there.")
    @Argument(help: "The archive.") var input: String
    @Argument(help: "The folder to put the store and its run folder in (made if missing).") var directory: String

    func run() throws {
        let report = try StoreBundle.unbundle(input, into: directory)
        print(report.summary())
        if !report.fsck.ok { throw ExitCode(1) }
    }
}
