import Foundation

/// Training's progress on stderr. On a terminal: one bar redrawn in place — step of total, the latest loss (and DPO
/// reward margin and accuracy), seconds per step and an ETA from the steps done so far (model loading excluded).
/// Elsewhere: one plain line per trainer log. Quiet: nothing (the log is in the run folder either way).
public final class TrainProgress {
    public let label: String
    public let quiet: Bool
    /// Redrawn in place (stderr is a terminal): the trainer's own output then stays in its log file.
    public let live: Bool
    static let shown = ["loss", "rewards/margins", "rewards/accuracies", "learning_rate", "grad_norm", "train_loss", "train_runtime"]

    private var step = 0, total = 0
    private var firstStep: (step: Int, at: ContinuousClock.Instant)?
    private var lastStepAt: ContinuousClock.Instant?
    private var latest: [String: Double?] = [:]

    public init(label: String, quiet: Bool, live: Bool = isatty(STDERR_FILENO) == 1) {
        self.label = label
        self.quiet = quiet
        self.live = live && !quiet
    }

    public func step(_ step: Int, of total: Int, at now: ContinuousClock.Instant = .now) {
        if firstStep == nil { firstStep = (step, now) }
        lastStepAt = now
        self.step = step
        self.total = total
        if live { ProgressLine.emit(line(), live: true, final: false) }
    }

    public func report(_ metrics: [TrainMetric]) {
        guard !quiet else { return }
        for metric in metrics {
            latest.merge(metric.values) { $1 }
            if !live {
                let parts = Self.shown.compactMap { name in metric.values[name].map { "\(name) \(Self.number($0))" } }
                ProgressLine.emit("\(label): step \(metric.step)\(total > 0 ? "/\(total)" : ""): \(parts.joined(separator: ", "))",
                                  live: false, final: false)
            }
        }
        if live { ProgressLine.emit(line(), live: true, final: false) }
    }

    /// Ends the bar's line (on a terminal).
    public func finish() {
        if live && firstStep != nil { ProgressLine.emit(line(), live: true, final: true) }
    }

    /// Seconds per step are measured between step events, so saving the model at the end does not count.
    func line() -> String {
        var text = "\(label) \(ProgressLine.bar(step, of: total)) \(step)/\(total) steps"
        if let loss = latest["loss"] ?? latest["train_loss"] { text += "  loss \(Self.number(loss))" }
        if let margin = latest["rewards/margins"] { text += "  margin \(Self.number(margin))" }
        if let accuracy = latest["rewards/accuracies"] { text += "  acc \(Self.number(accuracy))" }
        if let first = firstStep, let last = lastStepAt, step > first.step {
            let elapsed = last - first.at
            let perStep = (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) / Double(step - first.step)
            text += String(format: "  %.2f s/step  ETA %d s", perStep, Int((perStep * Double(max(0, total - step))).rounded()))
        }
        return text
    }

    static func number(_ value: Double?) -> String { value.map { String(format: "%.4g", $0) } ?? "nan" }
}
