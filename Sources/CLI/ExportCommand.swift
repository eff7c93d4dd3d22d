import ArgumentParser
import Foundation
import SRLMEngines
import SRLMExport
import SRLMStore

extension StoreTable: ExpressibleByArgument {}

/// `--format`: a table (every column with lineage) or one of the training formats.
enum ExportFormatChoice: ExpressibleByArgument, Equatable {
    case table
    case training(ExportFormat)

    init?(argument: String) {
        if argument == "table" { self = .table } else if let format = ExportFormat(rawValue: argument) { self = .training(format) } else { return nil }
    }

    static var allValueStrings: [String] { ["table"] + ExportFormat.allCases.map(\.rawValue) }
}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a version of any kind, or a store table, as JSONL or Parquet with its lineage; or the whole store as a Parquet folder.",
        discussion: """
            With no --format (or --format table) a version is written with every column, texts decoded \
            (NAME_text, NAME_json), behind the lineage columns ref, ord, row_hash, round, model and run_id. \
            A training format (trl, trl-standard, sft, messages, openai-chat, openai-preference) writes a trainer's file.

            --table T exports one of the store's other tables: \(StoreTable.allCases.map(\.rawValue).joined(separator: ", ")).

            --all DIR writes every version as DIR/kind=K/experiment=E/dataset=NAME/version=N/part-0.parquet, every \
            table as DIR/table=T/experiment=E/part-0.parquet, and DIR/manifest.json; a second run writes only what \
            the manifest lacks. Parquet files carry key-value metadata: srlm.store, srlm.ref, srlm.content_hash, \
            srlm.version, srlm.command and srlm.lineage (JSON). See docs/EXPORT.md.
            """)
    @OptionGroup var options: StoreOptions
    @Argument(help: "NAME or NAME@VERSION (not with --table or --all).") var dataset: String?
    @Option(help: "table (every column with lineage columns; the default), trl, trl-standard, sft, messages, openai-chat or openai-preference.")
    var format: ExportFormatChoice = .table
    @Option(help: "Export one of the store's tables instead of a version: \(StoreTable.allCases.map(\.rawValue).joined(separator: ", ")).")
    var table: StoreTable?
    @Option(help: "Write every version and table of the store (or of --experiment) to this folder as Hive-partitioned Parquet.")
    var all: String?
    @Option(name: [.short, .long], help: "Output file, FIFO or device; - for standard output (the default). A name ending in .parquet writes Parquet (pyarrow, zstd).")
    var output = "-"
    @Flag(help: "Write Parquet whatever the output's name.") var parquet = false
    @Flag(help: "Print the columns and types of the table instead (JSON), for readers that want a fixed schema.") var schema = false
    @Flag(help: "Replace an existing output file.") var force = false

    func validate() throws {
        let targets = [dataset != nil, table != nil, all != nil].filter { $0 }.count
        guard targets == 1 else { throw ValidationError("give exactly one of a dataset (NAME[@N]), --table or --all") }
        if table != nil || all != nil, format != .table { throw ValidationError("--format applies to a dataset version, not to --table or --all") }
        if all != nil, output != "-" || parquet || schema { throw ValidationError("--all writes its own files: no -o, --parquet or --schema") }
    }

    func run() throws {
        let store = try options.openReadOnly()
        if let all {
            let done = try ParquetFolder.export(store, to: all, experiment: options.experimentGiven, home: try EngineHome.locate())
            print("wrote \(done.versionsWritten) versions and \(done.tablesWritten) tables (\(done.rowsWritten) rows) to \(all); "
                  + "skipped \(done.versionsSkipped) versions and \(done.tablesSkipped) tables already in its manifest")
            return
        }
        let version = try dataset.map { name in try store.read { try DatasetVersion.resolve($0, name, experiment: options.experiment) } }
        if schema {
            let columns = version.map { VersionTable.columns($0.kind) } ?? table!.columns
            print(String(decoding: try CanonicalJSON.encode(columns), as: UTF8.self))
            return
        }
        let sink = try ExportDestination.sink(path: output, storePath: store.path, force: force)
        let experiment = table == nil ? nil : options.experimentGiven
        if parquet || output.lowercased().hasSuffix(".parquet") {
            guard sink is FileSink else { throw UserError(description: "Parquet is written to a regular file, not to \(output)") }
            let home = try EngineHome.locate()
            let written: ParquetWriter.Written
            switch (version, format) {
            case (let version?, .training(let format)): written = try ParquetWriter.export(store, version: version, format: format, to: output, home: home)
            case (let version?, .table): written = try ParquetWriter.exportTable(store, version: version, to: output, home: home)
            case (nil, _): written = try ParquetWriter.exportTable(store, table: table!, experiment: experiment, to: output, home: home)
            }
            note("exported \(written.rows) rows of \(version?.ref ?? table!.rawValue) to \(output) (Parquet: \(written.columns.joined(separator: ", ")))")
            return
        }
        let rows: Int
        switch (version, format) {
        case (let version?, .training(let format)): rows = try Exporter.run(store, version: version, format: format, to: sink)
        case (let version?, .table): rows = try TableExport.run(store, version: version, to: sink).rows
        case (nil, _): rows = try TableExport.run(store, table: table!, experiment: experiment, to: sink).rows
        }
        if output != "-" { note("exported \(rows) rows of \(version?.ref ?? table!.rawValue) to \(output)") }
    }

    private func note(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
}
