import ArgumentParser
import Foundation
import SRLMEngines
import SRLMStore

extension GGUFType: ExpressibleByArgument {}

struct CheckpointsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoints", abstract: "List the experiment's checkpoints: base, training data and run, GGUF, location.")
    @OptionGroup var options: StoreOptions
    @OptionGroup var output: ListingFormat

    func run() throws {
        let store = try options.openReadOnly()
        // JSON: the table's fields, the weights and model keys, every file's path, format, SHA-256 and size, the
        // config and the metrics.
        if output.resolved == .json {
            return try JSONOutput.print(try Listings.checkpointRecords(store, experiment: options.experiment))
        }
        let result = try Listings.checkpoints(store, experiment: options.experiment)
        printQuery(result, output.resolved, maxWidth: 80)
    }
}

struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint", abstract: "Register a base model, or convert a checkpoint to GGUF.",
        subcommands: [CheckpointAdd.self, CheckpointConvert.self])
}

struct CheckpointAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Register a model trained elsewhere under a name (e.g. your own M0); its weight files are hashed.")
    @OptionGroup var options: StoreOptions
    @Argument(help: "Checkpoint name (letters, digits, - _ . :).") var name: String
    @Option(help: "Hugging Face model folder (needed to train from it).") var hf: String?
    @Option(help: "GGUF file (needed to serve it with llama.cpp).") var gguf: String?
    @Option(help: "The checkpoint it was made from, if registered.") var base: String?

    func run() throws {
        let checkpoint = try CheckpointModels.add(try options.open(), experiment: options.experiment, name: name,
                                                  hf: hf, gguf: gguf, base: base)
        print("registered checkpoint \(checkpoint.name): \(checkpoint.uri)")
        for file in checkpoint.files { print("  \(file.format.rawValue) \(file.path) (\(file.size) bytes, sha256 \(file.sha256.prefix(12)))") }
    }
}

struct CheckpointConvert: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a checkpoint's Hugging Face folder to GGUF (llama.cpp's converter) and record the file on it.")
    @OptionGroup var options: StoreOptions
    @Argument(help: "Checkpoint name.") var name: String
    @Option(help: "GGUF type: q8_0, f16, bf16 or f32.") var outtype: GGUFType = .q8_0
    @Option(name: [.short, .long], help: "Output file (default: beside the folder, FOLDER.TYPE.gguf).") var output: String?
    @Flag(help: "Keep the converter's log in OUTPUT.log only.") var quiet = false

    func run() throws {
        let (checkpoint, conversion) = try CheckpointModels.convert(
            try options.open(), experiment: options.experiment, name: name, type: outtype,
            output: output.map { URL(fileURLWithPath: $0).standardizedFileURL.path }, home: try EngineHome.locate(), echo: !quiet)
        print("converted \(checkpoint.name) to \(conversion.output) (\(conversion.bytes) bytes, \(String(format: "%.1f", conversion.seconds)) s)")
    }
}
