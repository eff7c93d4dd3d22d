import ArgumentParser
import Foundation
import SRLMEngines
import SRLMExport
import SRLMStore

extension ExportFormat: ExpressibleByArgument {}

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
