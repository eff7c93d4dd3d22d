import SRLMReport

/// A report filled with the paper's published numbers (Table 4, the Figure 3 head-to-heads): the browser test
/// screenshots it, and `docs/report-example.png` is that screenshot
/// (`SRLM_SAVE_SCREENSHOT=$PWD/docs/report-example.png swift test --skip-build --filter ReportBrowserTests`).
/// The intervals are illustrative; the paper reports none.
enum ReportExample {
    static func paper(appending extra: [Section] = []) -> Report {
        Report(title: "srlm report: Llama 2 70B, three self-rewarding iterations",
               subtitle: "SFT → M1 → M2 → M3 · 541 EFT eval prompts · 256 head-to-head prompts",
               sections: [judge, policy] + extra)
    }

    static let judge = Section(
        title: "Is the judge getting better?",
        note: "Reward modelling on human-ranked OpenAssistant replies (paper Table 4); 95 % bootstrap intervals over prompts",
        blocks: [.chart(agreement), .table(table4), .warning("M3 gives 5 to 61 % of replies: the score is saturating.")])

    static let policy = Section(title: "Is the policy getting better?", blocks: [.chart(headToHead), .examples([pair])])

    static let agreement = Chart(
        kind: .line, title: "Judge agreement with human rankings", categories: ["SFT", "M1", "M2", "M3"],
        series: [Series(name: "pairwise accuracy", points: [Point(0.651, low: 0.62, high: 0.68), Point(0.787, low: 0.76, high: 0.81),
                                                            Point(0.804, low: 0.78, high: 0.83), Point(0.817, low: 0.79, high: 0.84)]),
                 Series(name: "5-best", points: [Point(0.396), Point(0.415), Point(0.443), Point(0.432)]),
                 Series(name: "exact match", points: [Point(0.101), Point(0.131), Point(0.143), Point(0.143)])],
        baseline: Baseline(label: "random judge, pairwise", value: 0.397), xLabel: "checkpoint", yLabel: "share",
        yRange: 0...1, format: .percent(places: 0))

    static let table4: Table = {
        let percent = NumberFormat.percent(places: 1), decimal = NumberFormat.decimal(places: 3)
        func row(_ name: String, _ values: [Double], _ format: NumberFormat) -> [Cell] {
            [.text(name)] + values.map { .number($0, format) }
        }
        return Table(columns: ["Metric", "SFT", "M1", "M2", "M3", "Random judge"], rows: [
            [.text("Pairwise accuracy"), .interval(value: 0.651, low: 0.62, high: 0.68, percent),
             .interval(value: 0.787, low: 0.76, high: 0.81, percent), .interval(value: 0.804, low: 0.78, high: 0.83, percent),
             .interval(value: 0.817, low: 0.79, high: 0.84, percent), .interval(value: 0.397, low: 0.37, high: 0.42, percent)],
            row("5-best", [0.396, 0.415, 0.443, 0.432, 0.008], percent),
            row("Exact match", [0.101, 0.131, 0.143, 0.143, 0.021], percent),
            row("Spearman ρ (per prompt)", [0.253, 0.279, 0.331, 0.349, 0.001], decimal),
            row("Kendall τ-b (per prompt)", [0.233, 0.253, 0.315, 0.324, -0.002], decimal),
        ])
    }()

    static let headToHead = Chart(
        kind: .bar, title: "Head-to-head against the SFT baseline (GPT-4 judge, both orders)", categories: ["M1", "M2", "M3"],
        series: [Series(name: "win", points: [Point(0.305, low: 0.25, high: 0.36), Point(0.492, low: 0.43, high: 0.55),
                                              Point(0.625, low: 0.57, high: 0.68)]),
                 Series(name: "tie", points: [Point(0.386), Point(0.363), Point(0.277)]),
                 Series(name: "loss", points: [Point(0.309, low: 0.25, high: 0.37), Point(0.145, low: 0.10, high: 0.19),
                                               Point(0.098, low: 0.06, high: 0.14)])],
        xLabel: "model", yLabel: "share of 256 prompts", yRange: 0...1, format: .percent(places: 0))

    static let pair = Example(
        title: "Round 2, prompt 113: a pair DPO trained on", prompt: "How do I keep basil alive indoors?",
        chosen: ExampleSide(
            text: """
            Basil wants light and warmth more than anything:

            1. A south-facing window, 6–8 hours of sun (or a grow light 12 h a day).
            2. Water when the top 2 cm of soil is dry; never let the pot stand in water.
            3. Pinch off flower buds and harvest from the top, above a pair of leaves, so it branches.
            4. Keep it above 15 °C and away from cold drafts.
            """,
            meanScore: 4.67,
            judgments: [Judgment(rationale: "Relevant, covers light, water and pruning directly and concisely.\nScore: 5", score: 5),
                        Judgment(rationale: "Clear, organised, expert. Slight room for detail on soil.\nScore: 4", score: 4),
                        Judgment(rationale: "Score: 5", score: 5)]),
        rejected: ExampleSide(
            text: "Basil is a herb from the mint family. It is used in Italian cooking, for example pesto. "
                + "There are many varieties such as Genovese and Thai basil.",
            meanScore: 1.33,
            judgments: [Judgment(rationale: "Related but does not answer how to keep it alive.\nScore: 1", score: 1),
                        Judgment(rationale: "Score: 2", score: 2), Judgment(rationale: "Off-topic facts.\nScore: 1", score: 1)]))
}
