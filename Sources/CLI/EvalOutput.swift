import ArgumentParser
import Foundation
import SRLMEval
import SRLMStages
import SRLMStore

/// `--format` of the eval commands: text (a table) or json (one document, docs/JSON.md).
struct EvalFormatOption: ParsableArguments {
    @Option(help: "text (a table) or json (one document: the run, its model and every figure).") var format: InspectFormat = .text
}

/// An eval run's figures as `--format json` prints them: the run and its version, the model that answered or judged
/// (its checkpoint's name, also when it ran offline under its key) with its key, and each figure with its interval,
/// count and what a random judge scores. Absent values are null.
struct EvalFigures: Encodable {
    let command: String
    let runID: Int64
    let ref: String
    let reused: Bool
    let model: String?
    let modelKey: String?
    let metrics: [Figure]

    struct Figure: Encodable {
        let figure: EvalMetric
        let random: Double?

        enum Key: String, CodingKey { case metric, value, lo, hi, estimable, n, random }

        func encode(to encoder: Encoder) throws {
            var out = encoder.container(keyedBy: Key.self)
            try out.encode(figure.metric, forKey: .metric)
            try out.encode(figure.value, forKey: .value)
            // A zero-width interval is not estimable: no bounds are claimed (the store keeps them as computed).
            let estimable = figure.intervalEstimable
            try out.encode(estimable == false ? nil : figure.lo, forKey: .lo)
            try out.encode(estimable == false ? nil : figure.hi, forKey: .hi)
            try out.encode(estimable, forKey: .estimable)
            try out.encode(figure.n, forKey: .n)
            try out.encode(random, forKey: .random)
        }
    }

    enum Key: String, CodingKey { case command, runID = "run_id", ref, reused, model, modelKey = "model_key", metrics }

    func encode(to encoder: Encoder) throws {
        var out = encoder.container(keyedBy: Key.self)
        try out.encode(command, forKey: .command)
        try out.encode(runID, forKey: .runID)
        try out.encode(ref, forKey: .ref)
        try out.encode(reused, forKey: .reused)
        try out.encode(model, forKey: .model)
        try out.encode(modelKey, forKey: .modelKey)
        try out.encode(metrics, forKey: .metrics)
    }
}

/// Prints an eval run's figures: value, 95 % interval, what it is over, and the random judge beside it; with json
/// one document, the title on stderr.
func printMetrics(_ title: String, _ result: StageResult, _ store: Store, format: InspectFormat = .text) throws {
    let metrics = try EvalRecords.metrics(store, run: result.runID)
    let random = Dictionary(metrics.filter { $0.metric.hasPrefix("random.") }.map { (String($0.metric.dropFirst(7)), $0) }) { a, _ in a }
    let figures = metrics.filter { !$0.metric.hasPrefix("random.") }
    let headline = "\(title): \(result.reused ? "reused" : "wrote") \(result.version.ref) (run \(result.runID))"
    if format == .json {
        JSONOutput.note(headline)
        let model = try EvalRecords.model(store, run: result.runID)
        return try JSONOutput.print(EvalFigures(
            command: title, runID: result.runID, ref: result.version.ref, reused: result.reused, model: model.name, modelKey: model.key,
            metrics: figures.map { EvalFigures.Figure(figure: $0, random: random[$0.metric]?.value) }))
    }
    func number(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "—" }
    print(headline)
    let rows = figures.map { m -> [String] in
        [m.metric, number(m.value), m.intervalText, m.n.map(String.init) ?? "",
         random[m.metric].map { number($0.value) } ?? ""]
    }
    let header = ["metric", "value", "95% interval", "n", "random judge"]
    let widths = header.indices.map { i in ([header[i]] + rows.map { $0[i] }).map(\.count).max() ?? 0 }
    for row in [header] + rows {
        print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  "))
    }
}
