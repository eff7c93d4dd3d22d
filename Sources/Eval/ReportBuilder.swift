import Foundation
import SRLMMetrics
import SRLMReport
import SRLMStore

/// `srlm report`: did the rounds work? The store's figures as a `Report` — the paper's claims checked against this
/// run's figures, the judge against human rankings per checkpoint (Table 4) beside the random judge, the free-form
/// parse rates, head-to-head results, judge health per round with its alarms, rejections, the round history, the
/// recipe, machine and wall times, and example pairs with every judge sample behind them. Built from
/// the named queries, so every number in it is reachable from SQL; nothing time-dependent, so the same store gives
/// the same bytes.
public enum ReportBuilder {
    /// Below this many prompts a claim ("reproduced", "better", "above chance") is not made: the report says "too few
    /// prompts to tell (n = …)" instead. a share over 20 independent prompts still has a 95 % interval about ±20 points
    /// wide, more than any Table-4 step of the paper; `srlm report --min-prompts` changes it.
    public static let minimumPrompts = 20

    /// `notes`: the reader's guide to this run's figures (why a claim held or not), shown after the claims.
    /// `minimumPrompts`: the fewest prompts a claim may rest on.
    public static func build(_ store: Store, experiment: String, examples: Int = 3, notes: String? = nil,
                             minimumPrompts: Int = minimumPrompts) throws -> Report {
        // Read once, used by the claims and by the sections that show them.
        let judgeRuns = try NamedQuery.run(store, "eval-judge", experiment: experiment).records.map {
            JudgeRun(row: $0, metrics: try EvalRecords.metrics(store, run: Int64($0.int("run_id") ?? 0)))
        }
        let probes = try probeRates(store, experiment)
        var sections = [try againstThePaper(store, experiment, judgeRuns: judgeRuns, probes: probes, minimumPrompts: minimumPrompts)]
        if let notes, !notes.isEmpty {
            let paragraphs = notes.components(separatedBy: "\n\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
            sections.append(Section(title: "Reading the results", blocks: paragraphs.map { .paragraph($0) }))
        }
        sections += [judgeAgreement(judgeRuns), probe(probes)]
        sections += try headToHead(store, experiment)
        sections += try pairwiseAgreement(store, experiment)
        sections.append(try health(store, experiment))
        sections.append(try table(store, experiment, query: "round-rejections", title: "Prompts turned away per round",
                                  note: "Self-instruct's filters on each round's generated prompts, by reason (kept prompts: the round history)."))
        sections += try drift(store, experiment)
        sections.append(try table(store, experiment, query: "round-history", title: "Round history",
                                  note: "Per round: prompts kept, candidates, judge parse rate and mean score, pairs, and the DPO run's last reward margin and accuracy."))
        sections += try setup(store, experiment)
        sections += try stageTimes(store, experiment)
        if let pairs = try examplePairs(store, experiment, limit: examples) { sections.append(pairs) }
        let runs = judgeRuns.count
        return Report(title: "srlm report — experiment \(experiment)",
                      subtitle: "Store \(URL(fileURLWithPath: store.path).lastPathComponent); \(runs) judge evaluation\(runs == 1 ? "" : "s"). "
                        + "Every figure comes from a named query (`srlm query NAME`).",
                      sections: sections)
    }

    /// Table 4 per checkpoint: each eval-judge run's figures with their intervals, and a chart of pairwise accuracy
    /// against the random judge.
    /// An `srlm eval judge` run: its row of queries/eval-judge.sql and every figure it stored.
    struct JudgeRun {
        let row: QueryRow
        let metrics: [EvalMetric]
    }

    static func judgeAgreement(_ runs: [JudgeRun]) -> Section {
        guard !runs.isEmpty else {
            return Section(title: "The judge against human rankings (Table 4)",
                           blocks: [.paragraph("No `srlm eval judge` run yet: `srlm eval judge --model M1 --data ranked --exclude ift eft` measures one checkpoint.")])
        }
        var rows: [[Cell]] = []
        var points: [Point?] = [], random: [Double] = [], categories: [String] = []
        var randomRanges: [String] = []  // the score ranges the runs' random judges drew from, as recorded
        for judged in runs {
            let (run, metrics) = (judged.row, judged.metrics)
            func cell(_ name: String, _ format: NumberFormat) -> Cell {
                let m = metrics.first { $0.metric == name }
                return .interval(value: m?.value, low: m?.lo, high: m?.hi, format)
            }
            rows.append([.text(run.text("model") ?? "?"), .text(run.text("data") ?? ""), .number(run.double("prompts"), .decimal(places: 0)),
                         .text("\(run.int("samples") ?? 0) × \(run.int("max_tokens") ?? 0)"),
                         cell("pairwiseAccuracy", .percent(places: 1)), cell("pairwiseAccuracyTiesHalf", .percent(places: 1)),
                         cell("fiveBest", .percent(places: 1)), cell("exactMatch", .percent(places: 1)),
                         cell("spearmanPerPrompt", .decimal(places: 3)), cell("kendallPerPrompt", .decimal(places: 3)),
                         cell("sampleParseRate", .percent(places: 1)), cell("lengthSpearman", .decimal(places: 3)),
                         cell("random.pairwiseAccuracy", .percent(places: 1))])
            // The chart shows each checkpoint once: its latest run (the table lists every run).
            let model = run.text("model") ?? "?"
            let accuracy = metrics.first { $0.metric == "pairwiseAccuracy" }
            let point = accuracy?.value.map { Point($0, low: accuracy?.lo, high: accuracy?.hi) }
            if let i = categories.firstIndex(of: model) { points[i] = point } else { categories.append(model); points.append(point) }
            if let r = run.double("random_pairwise_acc") { random.append(r) }
            if let scores = run.text("random_scores"), !randomRanges.contains(scores) { randomRanges.append(scores) }
        }
        let randomScores = randomRanges.isEmpty ? "0–5" : randomRanges.joined(separator: " or ")
        let chart = Chart(kind: .line, title: "Pairwise accuracy against human rankings", categories: categories,
                          series: [Series(name: "pairwise accuracy (judge tie = wrong)", points: points)],
                          baseline: random.isEmpty ? nil : Baseline(label: "random judge", value: random.reduce(0, +) / Double(random.count)),
                          xLabel: "checkpoint", yLabel: "share of comparable pairs", yRange: 0...1, format: .percent(places: 0))
        return Section(title: "The judge against human rankings (Table 4)",
                       note: "Each checkpoint judges held-out human-ranked replies with the loop's rubric and sampling; 95 % bootstrap intervals over prompts; the random judge draws each sample uniformly from the scores the judge can give (\(randomScores)). A zero-width interval (every resample the same) is shown as not estimable. The chart shows each checkpoint's latest run; the table lists every run in order.",
                       blocks: [.chart(chart),
                                .table(Table(columns: ["checkpoint", "data", "prompts", "samples × max tokens", "pairwise acc.", "ties ½", "5-best", "exact match",
                                                       "Spearman ρ", "Kendall τ", "parse rate", "length ρ", "random judge"],
                                             rows: rows))])
    }

    /// Head-to-head and win-rate results, when any eval run compared policies.
    static func headToHead(_ store: Store, _ experiment: String) throws -> [Section] {
        let rows = try NamedQuery.run(store, "eval-h2h", experiment: experiment).records
        guard !rows.isEmpty else { return [] }
        let cells: [[Cell]] = rows.map { row in
            [.text(row.text("a") ?? ""), .text(row.text("b") ?? ""), .text(row.text("judge") ?? ""), .number(row.double("items"), .decimal(places: 0)),
             .interval(value: row.double("win"), low: row.double("win_lo"), high: row.double("win_hi"), .percent(places: 1)),
             .interval(value: row.double("tie"), low: row.double("tie_lo"), high: row.double("tie_hi"), .percent(places: 1)),
             .interval(value: row.double("loss"), low: row.double("loss_lo"), high: row.double("loss_hi"), .percent(places: 1)),
             .number(row.double("consistency"), .percent(places: 1)),
             .number(row.double("a_length"), .decimal(places: 0)), .number(row.double("b_length"), .decimal(places: 0))]
        }
        return [Section(title: "Is the policy better? Head to head",
                        note: "A's and B's answers to the same prompts, compared by the named judge in both orders; a verdict that flips with the order is a tie. 95 % bootstrap intervals over prompts.",
                        blocks: [.table(Table(columns: ["A", "B", "judge", "prompts", "A wins", "ties", "B wins", "order-consistent",
                                                        "A length", "B length"], rows: cells))])]
    }

    /// The judge against human pairwise labels (`eval judge --mode pairwise`), when any run measured it.
    static func pairwiseAgreement(_ store: Store, _ experiment: String) throws -> [Section] {
        let rows = try NamedQuery.run(store, "eval-pairwise", experiment: experiment).records
        guard !rows.isEmpty else { return [] }
        let cells: [[Cell]] = rows.map { row in
            func interval(_ name: String, _ format: NumberFormat) -> Cell {
                .interval(value: row.double(name), low: row.double(name + "_lo"), high: row.double(name + "_hi"), format)
            }
            return [.text(row.text("model") ?? "?"), .text(row.text("mode") ?? ""), .text(row.text("data") ?? ""), .number(row.double("items"), .decimal(places: 0)),
                    .number(row.double("decisive"), .decimal(places: 0)), interval("accuracy", .percent(places: 1)),
                    interval("agreement", .percent(places: 1)), interval("kappa", .decimal(places: 3)),
                    interval("consistency", .percent(places: 1)), .number(row.double("unparsed_rate"), .percent(places: 1))]
        }
        return [Section(title: "The judge against human pairwise labels",
                        note: "Pairwise: the judge names the better of two replies, in both orders; a verdict that flips with the order is a tie. Pointwise: the rubric scores each reply alone and the higher mean score wins. Accuracy is over the pairs people did not call a tie (a judge tie or no verdict is wrong); agreement counts ties as a third class; κ is Cohen's over the parsed pairs. 95 % bootstrap intervals over pairs.",
                        blocks: [.table(Table(columns: ["judge", "mode", "data", "pairs", "non-tie pairs", "accuracy", "3-class agreement", "Cohen's κ",
                                                        "order-consistent", "unparsed"], rows: cells))])]
    }

    static func health(_ store: Store, _ experiment: String) throws -> Section {
        let result = try JudgeHealth.rounds(store, experiment: experiment)
        var blocks: [Block] = JudgeHealth.warnings(result).map { .warning($0) }
        blocks.append(.table(table(result)))
        let rounds = result.records
        if !rounds.isEmpty {
            let categories = rounds.map { "round \($0.int("iteration") ?? 0)" }
            blocks.append(.chart(Chart(kind: .bar, title: "Reply length of chosen and rejected candidates", categories: categories,
                                       series: [Series(name: "chosen", points: rounds.map { $0.double("chosen_len").map { Point($0) } }),
                                                Series(name: "rejected", points: rounds.map { $0.double("rejected_len").map { Point($0) } })],
                                       xLabel: "round", yLabel: "characters", format: .decimal(places: 0))))
        }
        return Section(title: "Judge health per round",
                       note: "Saturation, parse failures, ties and length drift of the self-judge (queries/judge-health.sql); warnings at \(Int(JudgeHealth.saturationPct)) % saturation, \(Int(JudgeHealth.unparsedPct)) % unparsed, \(Int(JudgeHealth.tiedPct)) % tied prompts, a chosen/rejected length ratio of \(JudgeHealth.lengthRatio).",
                       blocks: blocks)
    }

    /// Round to round: the last two rounds' candidates and pairs summarised side by side (`srlm diff --rounds`), and
    /// the per-round means (`queries/round-drift.sql`).
    static func drift(_ store: Store, _ experiment: String) throws -> [Section] {
        let rounds = try Rounds.iterations(store, experiment: experiment).filter { $0 >= 1 }
        guard rounds.count >= 2 else { return [] }
        let (a, b) = (rounds[rounds.count - 2], rounds[rounds.count - 1])
        var rows: [[Cell]] = []
        for role in [RoundRole.candidates, .pairs] {
            guard let va = try Rounds.version(store, experiment: experiment, iteration: a, role: role),
                  let vb = try Rounds.version(store, experiment: experiment, iteration: b, role: role) else { continue }
            let summary = DiffSummary.compute(try VersionColumns.read(store, va), try VersionColumns.read(store, vb),
                                              unchangedRows: try Differ.diff(store, from: va, to: vb, rowLimit: 0).unchanged)
            for c in summary.columns where c.column != "prompt" && c.a.count + c.b.count > 0 {
                let places = c.unit == "value" ? 2 : 0
                rows.append([.text("\(role.rawValue): \(c.column)"), .text(c.unit),
                             .interval(value: c.a.mean, low: c.a.meanInterval?.low, high: c.a.meanInterval?.high, .decimal(places: places)),
                             .interval(value: c.b.mean, low: c.b.meanInterval?.low, high: c.b.meanInterval?.high, .decimal(places: places)),
                             .interval(value: c.change?.value, low: c.change?.interval?.low, high: c.change?.interval?.high, .decimal(places: places)),
                             .interval(value: c.novelty?.value, low: c.novelty?.interval?.low, high: c.novelty?.interval?.high, .percent(places: 1))])
            }
        }
        let means = try table(store, experiment, query: "round-drift", title: "", note: "").blocks
        return [Section(title: "Round \(a) → round \(b): how the data moved",
                        note: "Means with 95 % intervals (percentile bootstrap over prompts, which the rows share; the change paired where the rounds share prompts), and the share of round \(b)'s word 3-grams unseen in round \(a) (bootstrap).",
                        blocks: [.table(Table(columns: ["column", "unit", "round \(a)", "round \(b)", "change", "novelty"], rows: rows))] + means)]
    }

    static func table(_ store: Store, _ experiment: String, query: String, title: String, note: String) throws -> Section {
        let result = try NamedQuery.run(store, query, experiment: experiment)
        return Section(title: title, note: note, blocks: [result.rows.isEmpty ? .paragraph("Nothing recorded yet.") : .table(table(result))])
    }

    static func table(_ result: QueryResult) -> Table {
        Table(columns: result.columns, rows: result.records.map { row in
            result.columns.map { column in
                if let number = row.double(column), row.text(column).flatMap(Double.init) != nil {
                    return .number(number, number == number.rounded() && abs(number) < 1e12 ? .decimal(places: 0) : .decimal(places: 3))
                }
                return .text(row.text(column) ?? "")
            }
        })
    }

    /// The latest round's widest-margin pairs, each side with every judge sample's rationale and score.
    static func examplePairs(_ store: Store, _ experiment: String, limit: Int) throws -> Section? {
        guard limit > 0, let (round, pairs, judgments) = try latestRoundWithPairs(store, experiment) else { return nil }
        let examples = try StageRows.pairs(store, pairs, limit: limit).enumerated().map { n, pair in
            func side(_ response: BlobID, _ score: Double?) throws -> ExampleSide {
                let samples = try judgments.map { try StageRows.judgeSamples(store, $0, prompt: pair.prompt, response: response) } ?? []
                return ExampleSide(text: try StageRows.lastContent(store, response), meanScore: score,
                                   judgments: samples.map { Judgment(rationale: $0.output, score: $0.score) })
            }
            return Example(title: "Round \(round), pair \(n + 1)", prompt: try StageRows.lastContent(store, pair.prompt),
                           chosen: try side(pair.chosen, pair.chosenScore), rejected: try side(pair.rejected, pair.rejectedScore))
        }
        return Section(title: "Example pairs", note: "The widest-margin pairs of round \(round) (\(pairs.ref)), with each judge sample behind the scores.",
                       blocks: [.examples(examples)])
    }

    static func latestRoundWithPairs(_ store: Store, _ experiment: String) throws -> (Int, DatasetVersion, DatasetVersion?)? {
        for round in try Rounds.iterations(store, experiment: experiment).reversed() where round >= 1 {
            if let pairs = try Rounds.version(store, experiment: experiment, iteration: round, role: .pairs), pairs.rowCount > 0 {
                return (round, pairs, try Rounds.version(store, experiment: experiment, iteration: round, role: .judgments))
            }
        }
        return nil
    }
}
