import ArgumentParser
import Foundation
import SRLMEval
import SRLMMetrics
import SRLMStore

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "What changed between two versions: rows added, removed and modified, or (--summary) how the data moved.",
        discussion: """
            A version of another experiment is `exp:EXPERIMENT/NAME[@N]`. `--rounds 1 2` summarises every role of two \
            rounds (prompts, candidates, judgments, pairs) with the rounds' rejections, judge health and training figures. \
            The row diff reads only the segments of rows the two versions do not share, so its time follows the change; \
            versions written before srlm kept segments are read in full until `srlm compact` gives them theirs.
            """)
    @OptionGroup var options: StoreOptions
    @Argument(help: "The older version.") var from: String?
    @Argument(help: "The newer version.") var to: String?
    @Flag(help: "Totals only.") var stat = false
    @Flag(help: "Distributions side by side: lengths, scores, margins, overlap and novelty, with 95 % intervals.") var summary = false
    @Flag(help: "Match rows by prompt: per prompt what changed (chosen flipped, margin, score, length), largest first.")
    var byPrompt = false
    @Option(help: "With --by-prompt: print the N largest changes with a word-level diff of their texts.") var show = 0
    @Option(parsing: .upToNextOption, help: "Two rounds to summarise role by role.") var rounds: [Int] = []
    @Option(help: "The second round's experiment (default: --experiment).") var experimentB: String?
    @Option(help: "text or json.") var format: InspectFormat = .text
    @Option(help: "Most rows to list.") var limit = 50

    func run() throws {
        let store = try options.openReadOnly()
        if !rounds.isEmpty { return try roundsSummary(store) }
        guard let from, let to else { throw ValidationError("give two versions (or --rounds N M)") }
        let (a, b) = (try resolve(store, from), try resolve(store, to))
        let diff = try Differ.diff(store, from: a, to: b, rowLimit: stat || summary ? 0 : limit)
        if byPrompt {
            let keyed = try KeyedDiff.compute(try VersionColumns.read(store, a), try VersionColumns.read(store, b))
            return format == .json ? try JSONOutput.print(keyed) : print(KeyedDiffText.render(keyed, show: show, limit: limit))
        }
        if summary {
            let result = DiffSummary.compute(try VersionColumns.read(store, a), try VersionColumns.read(store, b), unchangedRows: diff.unchanged)
            return format == .json ? try JSONOutput.print(result) : print(DiffSummaryText.render(result))
        }
        if format == .json { return try JSONOutput.print(diff) }
        print(diff.statLine())
        if stat { return }
        for row in diff.rows {
            let mark = row.change == "added" ? "+" : row.change == "removed" ? "-" : "~"
            let columns = row.columns.isEmpty ? "" : " (" + row.columns.joined(separator: ", ") + ")"
            print("\(mark) \(row.key.prefix(16)) ord \(row.fromOrd.map(String.init) ?? "-") → \(row.toOrd.map(String.init) ?? "-")\(columns)")
        }
    }

    /// NAME[@N] in --experiment, or exp:EXPERIMENT/NAME[@N].
    func resolve(_ store: Store, _ text: String) throws -> DatasetVersion {
        try DatasetVersion.resolve(store, qualified: text, experiment: options.experiment)
    }

    func roundsSummary(_ store: Store) throws {
        guard rounds.count == 2 else { throw ValidationError("--rounds takes two rounds, e.g. --rounds 1 2") }
        let experiments = (options.experiment, experimentB ?? options.experiment)
        // A round that is not there is an error naming those that are, not an empty table.
        try Rounds.require(store, experiment: experiments.0, iteration: rounds[0])
        try Rounds.require(store, experiment: experiments.1, iteration: rounds[1])
        var summaries: [DiffSummary] = []
        for role in [RoundRole.prompts, .candidates, .judgments, .pairs] {
            guard let a = try Rounds.version(store, experiment: experiments.0, iteration: rounds[0], role: role),
                  let b = try Rounds.version(store, experiment: experiments.1, iteration: rounds[1], role: role) else { continue }
            guard a.kind == b.kind else { continue }
            let unchanged = try Differ.diff(store, from: a, to: b, rowLimit: 0).unchanged
            summaries.append(DiffSummary.compute(try VersionColumns.read(store, a), try VersionColumns.read(store, b), unchangedRows: unchanged))
        }
        if format == .json { return try JSONOutput.print(summaries) }
        for (name, experiment) in [("round-history", experiments.0), ("judge-health", experiments.0), ("round-rejections", experiments.0)] {
            let result = try NamedQuery.run(store, name, experiment: experiment)
            let rows = result.records.indices.filter { rounds.contains(result.records[$0].int("iteration") ?? -1) }
            print("== \(name)")
            print(result.keeping(rows).render(.table), terminator: "")
        }
        for summary in summaries { print(DiffSummaryText.render(summary)) }
    }
}

/// The summary as a terminal table: one line per column, A and B side by side, the change with its interval.
enum DiffSummaryText {
    static func render(_ s: DiffSummary) -> String {
        func n(_ v: Double?, _ places: Int = 1) -> String { v.map { String(format: "%.\(places)f", $0) } ?? "—" }
        func ci(_ i: Interval?, _ places: Int = 1) -> String { i.map { "[\(n($0.low, places)), \(n($0.high, places))]" } ?? "" }
        var lines = ["\(s.from) → \(s.to) (\(s.kind)): \(s.rowsA) → \(s.rowsB) rows; in both: \(s.overlap.rows) rows, "
                     + "\(s.overlap.prompts) prompts (of \(s.overlap.promptsA) / \(s.overlap.promptsB)), \(s.overlap.texts) texts"]
        let header = ["column", "A mean [95%]", "A median", "A p90", "B mean [95%]", "B median", "B p90", "change [95%]", "B novelty [95%]"]
        var rows = [header]
        for c in s.columns {
            let places = c.unit == "value" ? 2 : 0
            let name = c.column + (c.unit == "characters" ? " (chars)" : "")
            let a = "\(n(c.a.mean, places)) \(ci(c.a.meanInterval, places))"
            let b = "\(n(c.b.mean, places)) \(ci(c.b.meanInterval, places))"
            let change = c.change.map { "\(n($0.value, places)) \(ci($0.interval, places))" } ?? "—"
            var novelty = ""
            if let estimate = c.novelty {
                let bounds = estimate.interval.map { "[\(n($0.low * 100)), \(n($0.high * 100))]" } ?? ""
                novelty = "\(n(estimate.value * 100)) % \(bounds)"
            }
            rows.append([name, a, n(c.a.median, places), n(c.a.p90, places), b, n(c.b.median, places), n(c.b.p90, places), change, novelty])
        }
        let widths = header.indices.map { i in rows.map { $0[i].count }.max() ?? 0 }
        lines += rows.map { zip($0, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ") }
        if let c = s.columns.first(where: { $0.change != nil }) {
            lines.append("intervals: bootstrap over prompts (\(c.a.prompts) in A, \(c.b.prompts) in B)"
                         + (c.change?.paired == true ? "; the change draws shared prompts on both sides together" : ""))
        }
        for c in s.columns where c.histogramA != nil {
            func h(_ d: [String: Int]?) -> String { (d ?? [:]).sorted { (Int($0.key) ?? 0) < (Int($1.key) ?? 0) }.map { "\($0.key):\($0.value)" }.joined(separator: " ") }
            if c.column.hasSuffix("score") || c.column == "margin" { lines.append("\(c.column) histogram: A \(h(c.histogramA)) | B \(h(c.histogramB))") }
        }
        if s.lengthRatioA != nil || s.lengthRatioB != nil {
            lines.append("chosen/rejected length ratio: A \(n(s.lengthRatioA, 2)) → B \(n(s.lengthRatioB, 2))")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// The keyed diff as text: one line per matched prompt, then the word-level diffs of the largest changes.
enum KeyedDiffText {
    static func render(_ d: KeyedDiff, show: Int, limit: Int) -> String {
        func n(_ v: Double?) -> String { v.map { String(format: "%.2f", $0) } ?? "—" }
        func clip(_ s: String, _ width: Int) -> String {
            let flat = TerminalText.escaped(s).replacingOccurrences(of: "\n", with: "⏎")
            return flat.count > width ? String(flat.prefix(width - 1)) + "…" : flat
        }
        var lines = ["\(d.from) → \(d.to): \(d.matched) prompts in both (\(d.flipped) flipped), \(d.onlyA) only in A, \(d.onlyB) only in B"]
        for e in d.entries.prefix(limit) {
            let mark = e.reversed ? "⇄" : e.flipped ? "≠" : "="
            lines.append("\(mark) value \(n(e.valueA)) → \(n(e.valueB))  length \(e.lengthA) → \(e.lengthB)  \(clip(e.prompt, 60))")
        }
        for e in d.entries.prefix(show) {
            lines += ["", "── \(clip(e.prompt, 100))", TerminalText.escaped(WordDiff.render(e.textA, e.textB))]
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
