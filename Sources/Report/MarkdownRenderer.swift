/// Renders a `Report` as GitHub Markdown: tables as pipe tables, charts as the data tables they are drawn from,
/// warnings as `> **Warning:**` lines, and example texts as quoted blocks cut at `quoteLimit` characters (a
/// Markdown report is for reading in a pull request or a terminal; the HTML report carries the full texts).
public enum MarkdownRenderer {
    public static let quoteLimit = 800

    public static func render(_ report: Report) -> String {
        var blocks = ["# \(line(report.title))"]
        if !report.subtitle.isEmpty { blocks.append("_\(line(report.subtitle))_") }
        for section in report.sections {
            blocks.append("## \(line(section.title))")
            if let note = section.note { blocks.append("_\(line(note))_") }
            blocks += section.blocks.map(render)
        }
        return blocks.joined(separator: "\n\n") + "\n"
    }

    private static func render(_ block: Block) -> String {
        switch block {
        case .paragraph(let text):
            Escaping.markdown(text)
        case .list(let items):
            items.map { "- " + line($0) }.joined(separator: "\n")
        case .warning(let text):
            "> **Warning:** \(line(text))"
        case .table(let table):
            pipeTable(columns: table.columns, rows: table.rows)
        case .chart(let chart):
            render(chart)
        case .examples(let examples):
            examples.map(render).joined(separator: "\n\n")
        }
    }

    private static func pipeTable(columns: [String], rows: [[Cell]]) -> String {
        let header = "| " + columns.map { cell($0) }.joined(separator: " | ") + " |"
        let alignments = columns.indices.map { column in
            rows.contains { column < $0.count && $0[column].isNumeric } ? "---:" : "---"
        }
        let body = rows.map { row in "| " + row.map { cell($0.text) }.joined(separator: " | ") + " |" }
        return ([header, "| " + alignments.joined(separator: " | ") + " |"] + body).joined(separator: "\n")
    }

    private static func render(_ chart: Chart) -> String {
        let rows = chart.categories.enumerated().map { index, category in
            [Cell.text(category)] + chart.series.map { series in
                let point = index < series.points.count ? series.points[index] : nil
                return .interval(value: point?.value, low: point?.low, high: point?.high, chart.format)
            }
        }
        var lines = ["**\(line(chart.title))** "
            + "(\(line(chart.yLabel)) by \(line(chart.xLabel)))",
                     "", pipeTable(columns: [chart.xLabel] + chart.series.map(\.name), rows: rows)]
        if let baseline = chart.baseline {
            lines += ["", "Baseline: \(line(baseline.label)) = \(chart.format.format(baseline.value))"]
        }
        return lines.joined(separator: "\n")
    }

    private static func render(_ example: Example) -> String {
        var parts = ["### \(line(example.title))", "**Prompt**", quote(example.prompt)]
        for (name, side) in [("Chosen", example.chosen), ("Rejected", example.rejected)] {
            parts += ["**\(name)** (mean score \(meanText(side.meanScore)))", quote(side.text)]
            for (index, judgment) in side.judgments.enumerated() {
                parts += ["_\(name), judge sample \(index + 1): \(scoreText(judgment.score))_", quote(judgment.rationale)]
            }
        }
        return parts.joined(separator: "\n\n")
    }

    /// A title, label or warning: one line, line breaks become spaces.
    private static func line(_ text: String) -> String {
        Escaping.markdownLine(text, lineBreak: " ")
    }

    private static func cell(_ text: String) -> String {
        Escaping.markdownLine(text)
    }

    /// A quoted block of at most `quoteLimit` characters, saying when it was cut.
    private static func quote(_ text: String) -> String {
        let shown = text.count > quoteLimit ? String(text.prefix(quoteLimit)) + " …" : text
        var lines = Escaping.markdown(shown).split(separator: "\n", omittingEmptySubsequences: false).map { "> \($0)" }
        if text.count > quoteLimit {
            lines += [">", "> _(truncated: \(quoteLimit) of \(text.count) characters shown)_"]
        }
        return lines.joined(separator: "\n")
    }
}
