import ArgumentParser
import Foundation
import SRLMImport
import SRLMStore

extension ImportFormat: ExpressibleByArgument {}

/// `srlm import TARGET FILE`: a subcommand per target, so that `srlm import TARGET --help` lists the fields each
/// format reads for that target.
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import a file as a new dataset version (one transaction; identical content is a no-op).",
        discussion: "srlm import TARGET --help lists the fields each format reads for that target.",
        subcommands: [ImportIFT.self, ImportRanked.self, ImportPrompts.self, ImportPairs.self, ImportEFT.self,
                      ImportLabeledPairs.self])

    static func configuration(_ target: ImportTarget, _ abstract: String) -> CommandConfiguration {
        CommandConfiguration(commandName: target.rawValue, abstract: abstract, discussion: ImportFields.help(target))
    }
}

struct ImportIFT: ParsableCommand {
    static let configuration = Import.configuration(.ift, "Import instruction-following examples: a prompt and its reply.")
    @OptionGroup var arguments: ImportArguments
    func run() throws { try arguments.run(.ift) }
}

struct ImportRanked: ParsableCommand {
    static let configuration = Import.configuration(.ranked, "Import human-ranked replies (OpenAssistant trees).")
    @OptionGroup var arguments: ImportArguments
    func run() throws { try arguments.run(.ranked) }
}

struct ImportPrompts: ParsableCommand {
    static let configuration = Import.configuration(.prompts, "Import prompts (seeds for generation).")
    @OptionGroup var arguments: ImportArguments
    func run() throws { try arguments.run(.prompts) }
}

struct ImportPairs: ParsableCommand {
    static let configuration = Import.configuration(.pairs, "Import preference pairs: a prompt, the chosen and the rejected reply.")
    @OptionGroup var arguments: ImportArguments
    func run() throws { try arguments.run(.pairs) }
}

struct ImportEFT: ParsableCommand {
    static let configuration = Import.configuration(.eft, "Import judged examples (a prompt, a reply and its score) for judge training.")
    @OptionGroup var arguments: ImportArguments
    func run() throws { try arguments.run(.eft) }
}

struct ImportLabeledPairs: ParsableCommand {
    static let configuration = Import.configuration(.labeledPairs, "Import human pairwise verdicts: a prompt, replies A and B, and who won.")
    @OptionGroup var arguments: ImportArguments
    func run() throws { try arguments.run(.labeledPairs) }
}

/// What every target's import takes.
struct ImportArguments: ParsableArguments {
    @OptionGroup var options: StoreOptions
    @Argument(help: "The file (.json, .jsonl, .jsonl.gz, .txt), a FIFO, or - for standard input.") var file: String
    @Option(help: "oasst, alpaca, messages, sharegpt, self-instruct, alpaca-eval, lines, trl, hh-rlhf, pairwise, mt-bench-human, or auto.")
    var format: ImportFormat = .auto
    @Option(help: "Dataset name (default: the target).") var name: String?
    @Option(help: ArgumentHelp("Map a field to a JSON path (prompt=instruction, prompt=conversation.0.text) or build it from several: 'prompt={instruction}\\n\\n{input}' (an empty part is left out with the text before it). Repeatable.",
                               valueName: "NAME=PATH|TEMPLATE"))
    var field: [String] = []
    @Flag(help: "Import the valid rows and keep the refused ones with file, line, field and reason (v_import_rejections); without it the first bad row stops the import and says how many more fail.")
    var skipInvalid = false
    @Flag(help: "OpenAssistant: keep messages marked synthetic.") var includeSynthetic = false
    @Option(help: ArgumentHelp("pairwise: the annotators' vote columns (JSON paths, comma-separated); the label is their strict majority, tie without one.",
                               valueName: "col1,col2,..."))
    var votes: String?

    func run(_ target: ImportTarget) throws {
        var fields: [String: String] = [:]
        for mapping in field {
            let parts = mapping.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw ValidationError("--field takes NAME=PATH or NAME=TEMPLATE, got '\(mapping)'")
            }
            fields[parts[0]] = parts[1]
        }
        let result = try Importer.run(try options.open(), ImportOptions(
            target: target, path: file, format: format, name: name, experiment: options.experiment,
            fields: fields, includeSynthetic: includeSynthetic,
            votes: votes.map { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } } ?? [],
            skipInvalid: skipInvalid))
        // What was left out goes to stderr once, so stdout stays the one line a script reads.
        for line in result.leftOut { FileHandle.standardError.write(Data((TerminalText.escaped(line, keepingNewlinesAndTabs: false) + "\n").utf8)) }
        if let version = result.version {
            print("imported \(result.rows) rows as \(version.ref) (format \(result.format.rawValue), content \(version.contentHash.prefix(16)))")
        } else if let ref = result.unchangedRef {
            print("unchanged: identical to \(ref); nothing written")
        }
    }
}
