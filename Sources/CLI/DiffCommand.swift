import ArgumentParser
import Foundation
import SRLMStore

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Rows added, removed and modified between two versions.")
    @OptionGroup var options: StoreOptions
    @Argument(help: "The older version.") var from: String
    @Argument(help: "The newer version.") var to: String
    @Flag(help: "Totals only.") var stat = false
    @Option(help: "text or json.") var format: String = "text"
    @Option(help: "Most rows to list.") var limit = 50

    func run() throws {
        let store = try options.openReadOnly()
        let diff = try store.read { db in
            try Differ.diff(db, from: DatasetVersion.resolve(db, from, experiment: options.experiment),
                            to: DatasetVersion.resolve(db, to, experiment: options.experiment),
                            rowLimit: stat ? 0 : limit)
        }
        if format == "json" {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try encoder.encode(diff), as: UTF8.self))
            return
        }
        print(diff.statLine())
        if stat { return }
        for row in diff.rows {
            let mark = row.change == "added" ? "+" : row.change == "removed" ? "-" : "~"
            let columns = row.columns.isEmpty ? "" : " (" + row.columns.joined(separator: ", ") + ")"
            print("\(mark) \(row.key.prefix(16)) ord \(row.fromOrd.map(String.init) ?? "-") → \(row.toOrd.map(String.init) ?? "-")\(columns)")
        }
    }
}

