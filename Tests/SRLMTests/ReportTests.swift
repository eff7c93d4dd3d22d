import Foundation
import Testing
import SRLMMetrics
@testable import SRLMReport

@Suite struct ReportTests {
    static let script = "<script>alert(1)</script>"
    static let image = "<img src=x onerror=alert(1)>"

    /// A report with every kind of block: a table, a line chart (2 series, whiskers, a random-judge baseline), a bar
    /// chart, a warning and an example pair. Hostile texts sit in a table cell, a series name and the example.
    static func sample(hostile: String = "\(script) \(image)") -> Report {
        let judge = Table(columns: ["Checkpoint", "Pairwise accuracy", "Spearman ρ", "Note"], rows: [
            [.text("M1"), .estimate(Estimate(value: 0.787, interval: Interval(low: 0.70, high: 0.85)), .decimal(places: 3)),
             .number(0.279, .decimal(places: 3)), .text("a | pipe\nand a newline")],
            [.text("M2"), .interval(value: 0.804, low: 0.72, high: 0.87, .percent(places: 1)), .number(nil, .decimal(places: 3)),
             .text(hostile)],
        ])
        let accuracy = Chart(kind: .line, title: "Judge pairwise accuracy by round", categories: ["SFT", "M1", "M2", "M3"],
                             series: [Series(name: "srlm", points: [Point(0.62, low: 0.57, high: 0.67), Point(0.71, low: 0.66, high: 0.76),
                                                                   nil, Point(0.76, low: 0.71, high: 0.81)]),
                                      Series(name: "paper \(hostile)", points: [Point(0.651), Point(0.787), Point(0.804), Point(0.817)])],
                             baseline: Baseline(label: "random judge", value: 0.4), xLabel: "checkpoint",
                             yLabel: "pairwise accuracy", yRange: 0...1)
        let lengths = Chart(kind: .bar, title: "Mean reply length", categories: ["M1", "M2", "M3"],
                            series: [Series(name: "chosen", points: [Point(1092), Point(1552), Point(2552, low: 2300, high: 2800)]),
                                     Series(name: "rejected", points: [Point(900), Point(1200), Point(1700)])],
                            xLabel: "round", yLabel: "characters", format: .decimal(places: 0))
        let example = Example(title: "Round 1, prompt 17", prompt: "Explain \(hostile) to a child.",
                              chosen: ExampleSide(text: "A long answer " + String(repeating: "with many words ", count: 80) + hostile,
                                                  meanScore: 4.33,
                                                  judgments: [Judgment(rationale: "Clear. \(hostile)\nScore: 4", score: 4),
                                                              Judgment(rationale: "Score: 5", score: 5)]),
                              rejected: ExampleSide(text: "Short \(hostile)", meanScore: nil,
                                                    judgments: [Judgment(rationale: "no score here", score: nil)]))
        return Report(title: "srlm report: run 42", subtitle: "SmolLM2-135M, 3 rounds", sections: [
            Section(title: "Judge health", note: "EFT eval set, 541 prompts", blocks: [
                .warning("Scores saturate at 5 in round 3 \(hostile)"), .table(judge), .chart(accuracy),
                .paragraph("Pairs & ties: see below."),
            ]),
            Section(title: "Length", blocks: [.chart(lengths), .examples([example])]),
        ])
    }

    @Test func htmlEscapesEveryText() {
        let html = HTMLRenderer.render(Self.sample())
        #expect(!html.lowercased().contains("<script"))
        #expect(!html.contains("<img"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("&lt;img src=x onerror=alert(1)&gt;"))
        #expect(html.contains("Pairs &amp; ties"))
        #expect(HTMLRenderer.render(Self.sample(hostile: "\"quoted\" 'single'")).contains("&quot;quoted&quot; &#39;single&#39;"))
    }

    @Test func htmlIsSelfContained() {
        let html = HTMLRenderer.render(Self.sample())
        #expect(!html.contains("http://") && !html.contains("https://"))
        #expect(html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            + "style-src 'unsafe-inline'; img-src data:\">"))
        #expect(!html.contains("<link") && !html.contains("url(") && !html.contains("@import"))
    }

    @Test func chartsDrawOneGroupPerSeries() throws {
        let html = HTMLRenderer.render(Self.sample())
        let figures = html.components(separatedBy: "<figure>").dropFirst()
        let (line, bar) = (try #require(figures.first), try #require(figures.dropFirst().first))
        #expect(line.components(separatedBy: "<polyline").count - 1 == 2)
        #expect(line.components(separatedBy: "<g class=\"series\"").count - 1 == 2)
        #expect(line.contains("class=\"baseline\"") && line.contains("random judge (0.40)"))
        #expect(line.components(separatedBy: "class=\"whisker\"").count - 1 == 3)  // the paper series has none
        #expect(bar.components(separatedBy: "<g class=\"series\"").count - 1 == 2)
        #expect(bar.components(separatedBy: "<rect x=").count - 1 == 6 + 2)  // 3 bars per series + 2 legend swatches
        #expect(!bar.contains("<polyline"))
    }

    @Test func markdownTablesKeepTheirShape() {
        let markdown = MarkdownRenderer.render(Self.sample())
        let lines = markdown.components(separatedBy: "\n")
        let table = Array(lines.drop { !$0.hasPrefix("| Checkpoint") }.prefix(4))
        #expect(table[0] == "| Checkpoint | Pairwise accuracy | Spearman ρ | Note |")
        #expect(table[1] == "| --- | ---: | ---: | --- |")
        #expect(table[2] == "| M1 | 0.787 [0.70, 0.85] | 0.279 | a \\| pipe<br>and a newline |")
        #expect(table[3].hasPrefix("| M2 | 80.4 % [72, 87] | — | &lt;script&gt;"))
        // The chart becomes its data table: one row per category, one column per series.
        #expect(lines.contains("| M1 | 0.71 [0.66, 0.76] | 0.79 |"))
        #expect(lines.contains("| M2 | — | 0.80 |"))
        #expect(lines.contains("Baseline: random judge = 0.40"))
        #expect(lines.contains("> **Warning:** Scores saturate at 5 in round 3 &lt;script&gt;alert(1)&lt;/script&gt; "
            + "&lt;img src=x onerror=alert(1)&gt;"))
        #expect(!markdown.contains("<script") && !markdown.contains("<img"))
    }

    @Test func markdownQuotesAndTruncatesExamples() {
        let markdown = MarkdownRenderer.render(Self.sample())
        #expect(markdown.contains("> _(truncated: 800 of 1348 characters shown)_"))
        #expect(markdown.contains("_Chosen, judge sample 1: 4_\n\n> Clear. &lt;script&gt;"))
        #expect(markdown.contains("**Rejected** (mean score unscored)"))
    }

    @Test func renderingIsDeterministic() {
        #expect(HTMLRenderer.render(Self.sample()) == HTMLRenderer.render(Self.sample()))
        #expect(MarkdownRenderer.render(Self.sample()) == MarkdownRenderer.render(Self.sample()))
    }

    @Test func numbersAreFormattedWithoutLocale() {
        #expect(NumberFormat.decimal(places: 3).format(-0.0001) == "0.000")
        #expect(NumberFormat.percent(places: 1).format(0.7874) == "78.7 %")
        #expect(Cell.interval(value: 0.787, low: 0.7, high: 0.85, .decimal(places: 3)).text == "0.787 [0.70, 0.85]")
        #expect(Cell.number(.nan, .decimal(places: 2)).text == "—")
        #expect(Cell.spread(Spread(mean: 0.397, low: 0.37, high: 0.42, defined: 200), .percent(places: 1)).text
            == "39.7 % [37, 42]")
        #expect(Cell.estimate(nil, .decimal(places: 3)).text == "—")
        #expect(Point(Estimate(value: 0.8, interval: Interval(low: 0.7, high: 0.9))) == Point(0.8, low: 0.7, high: 0.9))
    }
}

extension ReportTests {
    @Test func longLegendsWrapAndGrowTheChart() {
        // Each 40-character name takes 34 + 7·40 = 314 px; the plot spans 70…740 px, so two fit on a row.
        let names = (0..<4).map { String(repeating: "\($0)", count: 40) }
        let chart = Chart(kind: .line, title: "t", categories: ["a"], series: names.map { Series(name: $0, points: [Point(1)]) },
                          xLabel: "x", yLabel: "y")
        let drawn = SVGChart(chart)
        #expect(drawn.legend.map(\.row) == [0, 0, 1, 1])
        #expect(drawn.legend.map(\.x) == [70, 384, 70, 384])
        #expect(drawn.height == 340 + 18)  // one legend row more than the usual 340 px chart
        let long = SVGChart(Chart(kind: .bar, title: "t", categories: ["a"],
                                  series: [Series(name: String(repeating: "x", count: 200), points: [Point(1)])],
                                  xLabel: "x", yLabel: "y"))
        #expect(long.legend[0].text.count == 80 && long.legend[0].text.hasSuffix("…"))
    }
}

extension ReportTests {
    @Test func fittedAxesCoverTheDataOnRoundTicks() {
        // Values 0.62…0.86 and a baseline at 0.4: range 0.46, rough step 0.092 → 0.1; bounds round out to 0.4…0.9.
        let line = ChartScale(chart: Chart(kind: .line, title: "t", categories: ["a", "b"],
                                           series: [Series(name: "s", points: [Point(0.62), Point(0.8, low: 0.74, high: 0.86)])],
                                           baseline: Baseline(label: "random", value: 0.4), xLabel: "x", yLabel: "y"))
        #expect(abs(line.low - 0.4) < 1e-12 && abs(line.high - 0.9) < 1e-12 && line.ticks.count == 6)
        // Bars start at 0: 0…2800, rough step 560 → 1000, ticks 0, 1000, 2000, 3000.
        let bars = ChartScale(chart: Chart(kind: .bar, title: "t", categories: ["a"],
                                           series: [Series(name: "s", points: [Point(2552, low: 2300, high: 2800)])],
                                           xLabel: "x", yLabel: "y"))
        #expect(bars.ticks == [0, 1000, 2000, 3000])
        // One value: a unit range around it, so the point is not drawn on a zero-height axis.
        let flat = ChartScale(chart: Chart(kind: .line, title: "t", categories: ["a"], series: [Series(name: "s", points: [Point(5)])],
                                           xLabel: "x", yLabel: "y"))
        #expect(flat.low < 5 && flat.high > 5)
    }
}
