import ArgumentParser
import Foundation
import SRLMEngines
import SRLMExport
import SRLMImport
import SRLMStore

extension ImportTarget: ExpressibleByArgument {}
extension ImportFormat: ExpressibleByArgument {}
extension ExportFormat: ExpressibleByArgument {}

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import a file as a new dataset version (one transaction; identical content is a no-op).")
    @OptionGroup var options: StoreOptions
    @Argument(help: "What the rows are: ift, ranked, prompts, pairs, eft or labeled-pairs (human pairwise verdicts).")
    var target: ImportTarget
    @Argument(help: "The file (.json, .jsonl, .jsonl.gz, .txt), a FIFO, or - for standard input.") var file: String
    @Option(help: "oasst, alpaca, messages, sharegpt, self-instruct, alpaca-eval, lines, trl, hh-rlhf, pairwise, mt-bench-human, or auto.")
    var format: ImportFormat = .auto
    @Option(help: "Dataset name (default: the target).") var name: String?
    @Option(help: "Map a field to a JSON path, e.g. prompt=instruction or prompt=conversation.0.text (repeatable).")
    var field: [String] = []
    @Flag(help: "OpenAssistant: keep messages marked synthetic.") var includeSynthetic = false
    @Option(help: ArgumentHelp("pairwise: the annotators' vote columns (JSON paths, comma-separated); the label is their strict majority, tie without one.",
                               valueName: "col1,col2,..."))
    var votes: String?

    func run() throws {
        var fields: [String: String] = [:]
        for mapping in field {
            let parts = mapping.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw ValidationError("--field takes NAME=PATH, got '\(mapping)'")
            }
            fields[parts[0]] = parts[1]
        }
        let result = try Importer.run(try options.open(), ImportOptions(
            target: target, path: file, format: format, name: name, experiment: options.experiment,
            fields: fields, includeSynthetic: includeSynthetic,
            votes: votes.map { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } } ?? []))
        if let version = result.version {
            print("imported \(result.rows) rows as \(version.ref) (format \(result.format.rawValue), content \(version.contentHash.prefix(16)))")
            for (reason, count) in result.skipped.sorted(by: { $0.key < $1.key }) { print("skipped \(count) \(reason)") }
        } else if let ref = result.unchangedRef {
            print("unchanged: identical to \(ref); nothing written")
        }
    }
}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a version as JSONL for trainers (deterministic order, streamed).")
    @OptionGroup var options: StoreOptions
    @Argument(help: "NAME or NAME@VERSION.") var dataset: String
    @Option(help: "trl, trl-standard, sft, messages, openai-chat or openai-preference.") var format: ExportFormat
    @Option(name: [.short, .long], help: "Output file, FIFO or device; - for standard output (the default). A name ending in .parquet writes Parquet (pyarrow, zstd) with the format's columns.")
    var output = "-"
    @Flag(help: "Replace an existing output file.") var force = false

    func run() throws {
        let store = try options.openReadOnly()
        let version = try DatasetVersion.resolve(store, qualified: dataset, experiment: options.experiment)
        let sink = try ExportDestination.sink(path: output, storePath: store.path, force: force)
        if output.lowercased().hasSuffix(".parquet") {
            guard sink is FileSink else { throw UserError(description: "Parquet is written to a regular file, not to \(output)") }
            let written = try ParquetWriter.export(store, version: version, format: format, to: output, home: try EngineHome.locate())
            FileHandle.standardError.write(Data("exported \(written.rows) rows of \(version.ref) to \(output) (Parquet: \(written.columns.joined(separator: ", ")))\n".utf8))
            return
        }
        let rows = try Exporter.run(store, version: version, format: format, to: sink)
        if output != "-" {
            FileHandle.standardError.write(Data("exported \(rows) rows of \(version.ref) to \(output)\n".utf8))
        }
    }
}
