import Foundation
import SRLMMetrics
import SRLMReport
import SRLMStore

/// The report's experiment sections: did the paper's claims hold here (with the paper's figures beside ours), can
/// each checkpoint judge free-form at all, what ran (recipe, machine) and where the time went.
extension ReportBuilder {
    /// A figure with its 95 % interval and the number of prompts (or probe items) it rests on, as the comparisons
    /// read it.
    struct Measured {
        var value: Double
        var low: Double
        var high: Double
        var n: Int?

        var estimable: Bool { Interval.isEstimable(low: low, high: high) }

        var text: String {
            estimable ? String(format: "%.1f %% [%.1f, %.1f]", value * 100, low * 100, high * 100)
                : String(format: "%.1f %% [%@]", value * 100, Interval.notEstimable)
        }
    }

    /// Why no claim can be made on these figures, or nil when they can carry one: fewer than `minimum` prompts
    /// (the smaller n of the two sides), or an interval that is not estimable.
    static func tooLittle(_ figures: [Measured], minimum: Int) -> String? {
        let counts = figures.compactMap(\.n)
        if let n = counts.min(), n < minimum { return "too few prompts to tell (n = \(n))" }
        if figures.contains(where: { !$0.estimable }) { return "no claim: an interval is not estimable" }
        return nil
    }

    /// A checkpoint's free-form parse rate on the probe set, with its Wilson interval.
    struct ProbeRate {
        let model: String, probe: String, template: String, parsed: Int, judged: Int
        let rate: Measured
    }

    /// Each checkpoint's probe parse rate (the last run per model).
    static func probeRates(_ store: Store, _ experiment: String) throws -> [ProbeRate] {
        var latest: [String: Int] = [:]
        var out: [ProbeRate] = []
        for row in try NamedQuery.run(store, "judge-probe", experiment: experiment).records {
            let (parsed, judged) = (row.int("parsed") ?? 0, row.int("judged") ?? 0)
            guard let model = row.text("model"), let e = Proportion.wilson(successes: parsed, trials: judged) else { continue }
            let entry = ProbeRate(model: model, probe: row.text("probe") ?? "", template: row.text("template") ?? "", parsed: parsed,
                                  judged: judged, rate: Measured(value: e.value, low: e.interval?.low ?? e.value, high: e.interval?.high ?? e.value,
                                                                 n: judged))
            if let i = latest[model] { out[i] = entry } else { latest[model] = out.count; out.append(entry) }
        }
        return out
    }

    static func probe(_ rates: [ProbeRate]) -> Section {
        let title = "Can the model judge at all? (judge-probe)"
        guard !rates.isEmpty else { return Section(title: title, blocks: [.paragraph("No judge-probe run yet.")]) }
        let rows: [[Cell]] = rates.map {
            [.text($0.model), .text($0.probe), .text($0.template), .text("\($0.parsed) / \($0.judged)"),
             .interval(value: $0.rate.value, low: $0.rate.low, high: $0.rate.high, .percent(places: 1))]
        }
        let chart = Chart(kind: .bar, title: "Free-form judgments that end in a valid score line", categories: rates.map(\.model),
                          series: [Series(name: "parse rate", points: rates.map { Point($0.rate.value, low: $0.rate.low, high: $0.rate.high) })],
                          xLabel: "checkpoint", yLabel: "share of probe judgments", yRange: 0...1, format: .percent(places: 0))
        return Section(title: title,
                       note: "Each checkpoint judges the same probe set free-form (no output constraint), one sample each; a judgment counts when it ends in a valid score line. 95 % Wilson intervals.",
                       blocks: [.chart(chart), .table(Table(columns: ["checkpoint", "probe", "template", "parsed", "parse rate"], rows: rows))])
    }

    /// The paper's claims, each checked against this experiment's figures; a difference counts only when the two
    /// 95 % intervals do not overlap (conservative: the paired difference would be tighter), both are estimable and
    /// each side rests on at least `minimumPrompts` prompts.
    static func againstThePaper(_ store: Store, _ experiment: String, judgeRuns: [JudgeRun], probes rates: [ProbeRate],
                                minimumPrompts: Int) throws -> Section {
        var table4: [String: [String: Measured]] = [:]  // model → metric → figure
        var random: [String: Double] = [:]
        for judged in judgeRuns {
            let run = judged.row
            guard let model = run.text("model") else { continue }
            var figures: [String: Measured] = [:]
            for m in judged.metrics {
                guard let value = m.value else { continue }
                figures[m.metric] = Measured(value: value, low: m.lo ?? value, high: m.hi ?? value, n: run.int("prompts"))
            }
            table4[model] = figures
            random[model] = run.double("random_pairwise_acc")
        }
        let probes = Dictionary(rates.map { ($0.model, $0.rate) }, uniquingKeysWith: { $1 })
        let h2h = try NamedQuery.run(store, "eval-h2h", experiment: experiment).records

        var rows: [[Cell]] = []
        for (metric, label, paper) in PaperFigures.table4 {
            var row: [Cell] = [.text(label)]
            for (i, checkpoint) in PaperFigures.checkpoints.enumerated() {
                let format: NumberFormat = metric.hasPrefix("spearman") || metric.hasPrefix("kendall") ? .decimal(places: 3) : .percent(places: 1)
                row.append(.number(paper[i], format))
                let ours = table4[checkpoint]?[metric]
                row.append(.interval(value: ours?.value, low: ours?.low, high: ours?.high, format))
            }
            rows.append(row)
        }
        let columns = ["Table 4"] + PaperFigures.checkpoints.flatMap { ["\($0) paper", "\($0) here"] }

        var claims: [String] = []
        func compare(_ a: Measured?, _ b: Measured?) -> String? {
            guard let a, let b else { return nil }
            if let reason = tooLittle([a, b], minimum: minimumPrompts) { return reason }
            if a.low > b.high { return "higher" }
            if a.high < b.low { return "lower" }
            return "no difference measured (intervals overlap)"
        }
        /// "M1 higher", or why no claim is made (no subject: the claim is not M1's).
        func verdict(_ name: String, _ a: Measured, _ b: Measured) -> String {
            tooLittle([a, b], minimum: minimumPrompts) ?? "\(name) \(compare(a, b)!)"
        }
        if let m1 = probes["M1"] {
            let base = probes["SFT"] ?? probes["M0"]
            let baseName = probes["SFT"] != nil ? "SFT" : "M0"
            let verdict = compare(m1, base).map { "M1 vs \(baseName): \($0)" } ?? "no \(baseName) probe"
            claims.append("EFT teaches the judge's output format (free-form parse rate; goal ≥ 90 % for M1): M1 \(m1.text)"
                          + (base.map { ", \(baseName) \($0.text)" } ?? "") + " — \(verdict); goal \(m1.value >= 0.9 ? "reached" : "not reached").")
        }
        let accuracy = { (model: String) in table4[model]?["pairwiseAccuracy"] }
        if let m1 = accuracy("M1"), let sft = accuracy("SFT") {
            claims.append("EFT improves agreement with human rankings (paper: pairwise accuracy 65.1 % → 78.7 %): SFT \(sft.text), M1 \(m1.text) — \(verdict("M1", m1, sft)).")
        }
        for (later, earlier, paper) in [("M2", "M1", "78.7 % → 80.4 %"), ("M3", "M2", "80.4 % → 81.7 %")] {
            if let a = accuracy(later), let b = accuracy(earlier) {
                claims.append("Self-rewarding training keeps improving the judge (paper: \(paper)): \(earlier) \(b.text), \(later) \(a.text) — \(verdict(later, a, b)).")
            }
        }
        for checkpoint in ["M0"] + PaperFigures.checkpoints {
            if let a = accuracy(checkpoint), let r = random[checkpoint] {
                let verdict = tooLittle([a], minimum: minimumPrompts)
                    ?? (a.low > r ? "above chance" : a.high < r ? "below chance" : "not distinguishable from chance")
                claims.append("\(checkpoint) judges better than chance: pairwise accuracy \(a.text) against the random judge's \(String(format: "%.1f %%", r * 100)) — \(verdict).")
            }
        }
        for (a, b, win, loss) in PaperFigures.headToHead {
            guard let row = h2h.last(where: { $0.text("a") == a && $0.text("b") == b }),
                  let w = row.double("win"), let l = row.double("loss") else { continue }
            let won = Measured(value: w, low: row.double("win_lo") ?? w, high: row.double("win_hi") ?? w, n: row.int("items"))
            let lost = Measured(value: l, low: row.double("loss_lo") ?? l, high: row.double("loss_hi") ?? l, n: row.int("items"))
            let verdict = tooLittle([won, lost], minimum: minimumPrompts)
                ?? (won.low > lost.high ? "\(a) better" : won.high < lost.low ? "\(b) better" : "no difference measured")
            claims.append("\(a) beats \(b) head to head (paper, GPT-4 judging: \(String(format: "%.1f", win * 100)) % wins, \(String(format: "%.1f", loss * 100)) % losses): "
                          + "judge \(row.text("judge") ?? "?"), \(a) wins \(won.text), loses \(lost.text) — \(verdict).")
        }
        return Section(title: "Against the paper",
                       note: "The paper's figures (Llama 2 70B, 531 held-out OASST prompts, GPT-4 as head-to-head judge) beside this experiment's, with 95 % intervals. A claim counts as reproduced only when the intervals separate, both are estimable and each rests on at least \(minimumPrompts) prompts; below that the claim reads \"too few prompts to tell\" (`srlm report --min-prompts`).",
                       blocks: [claims.isEmpty ? .paragraph("No evaluation yet.") : .list(claims),
                                .table(Table(columns: columns, rows: rows))])
    }

    /// What ran: the recipe the loop's plan was built from, and the machines.
    static func setup(_ store: Store, _ experiment: String) throws -> [Section] {
        var blocks: [Block] = []
        let commands = try NamedQuery.run(store, "run-commands", experiment: experiment)
        if !commands.rows.isEmpty { blocks.append(.table(table(commands))) }
        let machines = try NamedQuery.run(store, "run-machines", experiment: experiment)
        if !machines.rows.isEmpty { blocks.append(.table(table(machines))) }
        if let recipe = try PlanRows.recipe(store, experiment: experiment),
           let object = try JSONSerialization.jsonObject(with: Data(recipe.utf8)) as? [String: Any] {
            let rows = flatten(object).map { [Cell.text($0.key), Cell.text($0.value)] }
            blocks.append(.table(Table(columns: ["recipe field (`srlm plan show`)", "value"], rows: rows)))
        }
        guard !blocks.isEmpty else { return [] }
        return [Section(title: "What ran",
                        note: "The srlm commands that made the runs and the machine they ran on (from every run's provenance), and the loop's recipe as stored with its plan; lists (filter keywords, preambles) and fields the plan fills per step are left out.",
                        blocks: blocks)]
    }

    /// `a.b.c = value` for every scalar of a JSON object, in key order; lists and empty texts are left out.
    static func flatten(_ object: [String: Any], prefix: String = "") -> [(key: String, value: String)] {
        object.keys.sorted().flatMap { key -> [(key: String, value: String)] in
            let path = prefix.isEmpty ? key : prefix + "." + key
            switch object[key] {
            case let nested as [String: Any]: return nested.isEmpty ? [] : flatten(nested, prefix: path)
            case is [Any]: return []
            case let number as NSNumber where String(cString: number.objCType) == "c": return [(path, number.boolValue ? "true" : "false")]
            case let number as NSNumber: return [(path, "\(number)")]
            case let text as String: return text.isEmpty ? [] : [(path, text)]  // empty: filled per step by the plan
            default: return []
            }
        }
    }

    /// Wall time per stage run, in the order they ran, and in total.
    static func stageTimes(_ store: Store, _ experiment: String) throws -> [Section] {
        let result = try NamedQuery.run(store, "stage-times", experiment: experiment)
        guard !result.rows.isEmpty else { return [] }
        let total = result.records.compactMap { $0.double("seconds") }.reduce(0, +)
        var byStage: [(String, Double)] = []
        for row in result.records {
            let stage = row.text("stage") ?? "?", seconds = row.double("seconds") ?? 0
            if let i = byStage.firstIndex(where: { $0.0 == stage }) { byStage[i].1 += seconds } else { byStage.append((stage, seconds)) }
        }
        let summary = Table(columns: ["stage", "seconds", "share"], rows: byStage.map {
            [.text($0.0), .number($0.1, .decimal(places: 0)), .number(total > 0 ? $0.1 / total : nil, .percent(places: 1))]
        } + [[.text("all stages"), .number(total, .decimal(places: 0)), .number(1, .percent(places: 0))]])
        return [Section(title: "Where the time went",
                        note: "Wall time of every finished stage run (queries/stage-times.sql): the sum per stage, then each run. Server start-up and GGUF conversion are inside the stage that needed them.",
                        blocks: [.table(summary), .table(table(result))])]
    }
}
