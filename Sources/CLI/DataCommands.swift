import ArgumentParser
import Foundation
import SRLMEngines
import SRLMExport
import SRLMImport
import SRLMStore

extension ImportTarget: ExpressibleByArgument {}
extension ImportFormat: ExpressibleByArgument {}

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

