import ArgumentParser
import Foundation
import SRLMStore

/// Prints a query result; on a terminal, control characters from dataset text are shown escaped, never obeyed.
func printQuery(_ result: QueryResult, _ format: QueryResult.Format, maxWidth: Int = 60) {
    print(result.render(format, maxWidth: maxWidth, forTerminal: isatty(STDOUT_FILENO) != 0), terminator: "")
}

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create (or migrate) a store.")
    @OptionGroup var options: StoreOptions

    func run() throws {
        let store = try options.open(create: true)
        print("store ready at \(store.path)")
    }
}

struct Compact: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recompress the store's blob packs at a high zstd level in large frames (finished data: new writes use a fast level).",
        discussion: "No text, row or content hash changes; readers and writers may keep working meanwhile. Run it after a round or an import. "
            + "Versions written by an srlm without diff segments get them, so their diffs read only what changed.")
    @OptionGroup var options: StoreOptions
    @Option(help: "zstd level.") var level = CompactOptions().level
    @Option(help: "MiB of raw text per frame (larger: smaller store, slower random reads).") var frameMib = CompactOptions().frameBytes >> 20
    @Flag(help: "Only say what would be rewritten.") var dryRun = false

    func run() throws {
        let store = try options.open()  // first: --cores sets the threads the options default to
        var settings = CompactOptions()
        settings.level = level
        settings.frameBytes = frameMib << 20
        settings.dryRun = dryRun
        print(try Compactor.run(store, settings).summary())
    }
}

/// `--format table|csv|json` of the listing commands; `--json`, their older spelling, still means json.
struct ListingFormat: ParsableArguments {
    @Option(help: "table, csv or json (json and csv carry full hashes and configs; field names are stable).")
    var format: QueryResult.Format = .table
    @Flag(help: .hidden) var json = false

    var resolved: QueryResult.Format { json ? .json : format }
    /// Machine-readable output: full values, not the table's abbreviations.
    var full: Bool { resolved != .table }
}

struct Datasets: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List every dataset version: rows, content hash, parent and the run that made it.")
    @OptionGroup var options: StoreOptions
    @Flag(help: "Every experiment, not only --experiment.") var allExperiments = false
    @OptionGroup var output: ListingFormat

    func run() throws {
        let store = try options.openReadOnly()
        let result = try Listings.versions(store, experiment: allExperiments ? nil : options.experiment, fullHashes: output.full)
        printQuery(result, output.resolved)
    }
}

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the rows of a dataset version with their texts.")
    @OptionGroup var options: StoreOptions
    @Argument(help: "NAME or NAME@VERSION.") var dataset: String
    @Option(help: "Rows to show.") var limit = 10
    @Option(help: "First row (ord).") var offset = 0
    @Option(help: "table, csv or json.") var format: QueryResult.Format = .table
    @Flag(help: "Pairs: chosen and rejected side by side with every judge sample's rationale and score; a pairwise eval's judgments: each labelled pair's replies with both orders' verdicts and the human label (json with --format json).")
    var sideBySide = false
    @Option(help: "One prompt's candidates side by side, each with its judge samples' scores and rationales and the round's pair flags: the Nth prompt (from 0) of a candidates, judgments or pairs version, or row N of a prompts version.")
    var prompt: Int?
    @Option(help: "Side-by-side columns this wide (default: the terminal's; plain blocks when not a terminal).") var width: Int?

    func run() throws {
        if let prompt {
            return try ShowSideBySide.prompt(options: options, dataset: dataset, prompt: prompt, format: format, width: width)
        }
        if sideBySide {
            return try SideBySideCommand.run(options: options, dataset: dataset, limit: limit, offset: offset, format: format, width: width)
        }
        let store = try options.openReadOnly()
        let version = try DatasetVersion.resolve(store, qualified: dataset, experiment: options.experiment)
        let result = try Listings.rows(store, version, offset: offset, limit: limit)
        let title = "\(version.ref) (\(version.kind.rawValue), \(version.rowCount) rows, content \(version.contentHash.prefix(16)))"
        // csv and json are the rows only: the title would break a parser reading stdout.
        if format == .table { print(title) } else { JSONOutput.note(title) }
        printQuery(result, format)
    }
}

extension QueryResult.Format: ExpressibleByArgument {}

struct SQL: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one SQL statement on the store, read-only. srlm_text(id) returns a blob's text; views v_* are readable.")
    @OptionGroup var options: StoreOptions
    @Argument(help: "The statement (or --file).") var statement: String?
    @Option(help: "Read the statement from this file instead.") var file: String?
    @Option(help: "table, csv or json.") var format: QueryResult.Format = .table

    func validate() throws {
        if (statement == nil) == (file == nil) { throw ValidationError("give the statement or --file FILE, one of them") }
    }

    func run() throws {
        let sql = try file.map(SQLQuery.file) ?? statement ?? ""
        printQuery(try SQLQuery.run(try options.openReadOnly(), sql), format)
    }
}

struct Query: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a named query from queries/, or a SQL file of your own (no name: list them).",
        discussion: "A query that names :experiment gets --experiment bound to it.")
    @OptionGroup var options: StoreOptions
    @Argument(help: "Query name, e.g. round-history, or a path to a .sql file, e.g. ./my.sql.") var name: String?
    @Option(help: "table, csv or json.") var format: QueryResult.Format = .table

    func run() throws {
        guard let name else {
            let names = try Schema.queryNames()
            return format == .json ? try JSONOutput.print(names) : names.forEach { print($0) }
        }
        // Named queries take the experiment as :experiment.
        printQuery(try NamedQuery.run(try options.openReadOnly(), name, experiment: options.experiment), format)
    }
}

struct Derive: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make a new version from the rows of another that pass a SQL filter (curation), recorded as a run.")
    @OptionGroup var options: StoreOptions
    @Argument(help: "Name of the dataset to write.") var name: String
    @Option(help: "Source version, e.g. pairs@3.") var from: String
    @Option(name: .customLong("where"), help: "SQL condition over the source kind's view (e.g. v_pairs: margin >= 2).")
    var condition: String
    @Flag(help: "Write the version even when the condition keeps no row.") var allowEmpty = false

    func run() throws {
        let store = try options.open()
        let result = try SRLMStore.Derive.run(store, name: name, from: from, where: condition, experiment: options.experiment,
                                              allowEmpty: allowEmpty)
        if let version = result.version {
            print("wrote \(version.ref): \(version.rowCount) rows, content \(version.contentHash.prefix(16))")
        } else if let ref = result.unchanged {
            print("unchanged: identical to \(ref); nothing written")
        }
    }
}

struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Runs: stage, config hash, inputs → outputs, status, duration; --rounds: the round history.")
    @OptionGroup var options: StoreOptions
    @OptionGroup var output: ListingFormat
    @Option(help: "Most recent runs to show.") var limit = 50
    @Flag(help: "The round history instead (queries/round-history.sql): prompts, candidates, parse rate, pairs, DPO metrics.")
    var rounds = false

    func run() throws {
        let store = try options.openReadOnly()
        if rounds {
            printQuery(try NamedQuery.run(store, "round-history", experiment: options.experiment), output.resolved)
            return
        }
        printQuery(try Listings.runs(store, experiment: options.experiment, limit: limit, full: output.full,
                                     nested: output.resolved == .json), output.resolved)
    }
}

struct Fsck: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the store: SQLite integrity, every blob's SHA-256, every row and version hash.")
    @OptionGroup var options: StoreOptions

    func run() throws {
        let report = try SRLMStore.Fsck.run(path: options.path)
        print(report.summary)
        if !report.ok { throw ExitCode(1) }
    }
}
