import Foundation
import SRLMStore

/// The one JSON contract of `--format json` (docs/JSON.md): exactly one document on stdout, keys in snake_case as the
/// views name their columns, sorted, integers as integers, nested values as JSON; titles and progress go to stderr.
/// Control characters of stored text are \u escapes, so a document printed to a terminal cannot drive it.
enum JSONOutput {
    static func document<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        // JSON has no infinities: written as strings, as `srlm sql` writes SQLite's.
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return TerminalText.escapedJSON(String(decoding: try encoder.encode(value), as: UTF8.self)) + "\n"
    }

    static func print<T: Encodable>(_ value: T) throws {
        Swift.print(try document(value), terminator: "")
    }

    /// A line for people (a title, a summary) that must not mix into a machine-readable stdout.
    static func note(_ line: String) {
        FileHandle.standardError.write(Data((TerminalText.escaped(line, keepingNewlinesAndTabs: true) + "\n").utf8))
    }
}
