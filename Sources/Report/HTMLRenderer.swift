/// Renders a `Report` as one self-contained HTML file: inline CSS and SVG, no script, no external reference, and
/// a Content-Security-Policy that forbids loading or running anything else. Every text is escaped, so a model's
/// output that contains markup shows as text. Output is a pure function of the report (same report, same bytes).
public enum HTMLRenderer {
    public static let contentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

    public static func render(_ report: Report) -> String {
        let contents = report.sections.enumerated().map { index, section in
            "<li><a href=\"#section-\(index + 1)\">\(e(section.title))</a></li>"
        }
        var lines = ["<!DOCTYPE html>", "<html lang=\"en\">", "<head>", "<meta charset=\"utf-8\">",
                     "<meta http-equiv=\"Content-Security-Policy\" content=\"\(contentSecurityPolicy)\">",
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
                     "<title>\(e(report.title))</title>", "<style>", HTMLStyle.css, "</style>", "</head>", "<body>",
                     "<main>", "<header>", "<h1>\(e(report.title))</h1>"]
        if !report.subtitle.isEmpty { lines.append("<p class=\"subtitle\">\(e(report.subtitle))</p>") }
        lines.append("</header>")
        if report.sections.count > 1 { lines += ["<nav><ol>"] + contents + ["</ol></nav>"] }
        for (index, section) in report.sections.enumerated() {
            lines += ["<section id=\"section-\(index + 1)\">", "<h2>\(e(section.title))</h2>"]
            if let note = section.note { lines.append("<p class=\"note\">\(e(note))</p>") }
            lines += section.blocks.map(render)
            lines.append("</section>")
        }
        lines += ["</main>", "</body>", "</html>", ""]
        return lines.joined(separator: "\n")
    }

    private static func render(_ block: Block) -> String {
        switch block {
        case .paragraph(let text):
            "<p>\(e(text))</p>"
        case .list(let items):
            "<ul>" + items.map { "<li>\(e($0))</li>" }.joined() + "</ul>"
        case .warning(let text):
            "<div class=\"warning\" role=\"note\"><strong>Warning:</strong> \(e(text))</div>"
        case .table(let table):
            render(table)
        case .chart(let chart):
            "<figure>\n\(SVGChart(chart).svg)\n</figure>"
        case .examples(let examples):
            examples.map(render).joined(separator: "\n")
        }
    }

    private static func render(_ table: Table) -> String {
        let head = table.columns.map { "<th>\(e($0))</th>" }.joined()
        let body = table.rows.map { row in
            "<tr>" + row.map { cell in
                cell.isNumeric ? "<td class=\"num\">\(e(cell.text))</td>" : "<td>\(e(cell.text))</td>"
            }.joined() + "</tr>"
        }
        return (["<table>", "<thead><tr>\(head)</tr></thead>", "<tbody>"] + body + ["</tbody>", "</table>"])
            .joined(separator: "\n")
    }

    private static func render(_ example: Example) -> String {
        ["<article class=\"example\">", "<h3>\(e(example.title))</h3>",
         "<div class=\"prompt\"><h4>Prompt</h4><pre class=\"text\">\(e(example.prompt))</pre></div>",
         "<div class=\"pair\">", render(example.chosen, role: "chosen"), render(example.rejected, role: "rejected"),
         "</div>", "</article>"].joined(separator: "\n")
    }

    private static func render(_ side: ExampleSide, role: String) -> String {
        let samples = side.judgments.enumerated().map { index, judgment in
            "<li><strong>Sample \(index + 1): \(e(scoreText(judgment.score)))</strong>"
                + "<pre class=\"text\">\(e(judgment.rationale))</pre></li>"
        }
        let scores = side.judgments.map { scoreText($0.score) }.joined(separator: ", ")
        let samplesLabel = side.judgments.count == 1 ? "1 judge sample" : "\(side.judgments.count) judge samples"
        return (["<div class=\"side \(role)\">",
                 "<h4>\(role == "chosen" ? "Chosen" : "Rejected") · mean score \(e(meanText(side.meanScore)))</h4>",
                 "<pre class=\"text\">\(e(side.text))</pre>",
                 "<details><summary>\(samplesLabel): \(e(scores))</summary><ol class=\"samples\">"]
            + samples + ["</ol></details>", "</div>"]).joined(separator: "\n")
    }

    private static func e(_ text: String) -> String {
        Escaping.html(text)
    }
}

func scoreText(_ score: Double?) -> String {
    score.map { NumberFormat.decimal(places: $0.rounded() == $0 ? 0 : 1).format($0) } ?? "no score"
}

func meanText(_ score: Double?) -> String {
    score.map(NumberFormat.decimal(places: 2).format) ?? "unscored"
}
