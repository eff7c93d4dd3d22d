import Foundation
import Synchronization

/// Progress of a batch of calls: a live bar on a terminal (stderr), periodic plain lines otherwise.
public final class ProgressReporter: Sendable {
    struct State {
        var done = 0
        var fromJournal = 0
        var failed = 0
        var tokens = 0
        var lastPrint = ContinuousClock.now
    }

    public let label: String
    public let total: Int
    private let started = ContinuousClock.now
    private let state = Mutex(State())
    private let live: Bool
    private let interval: Duration
    private let quiet: Bool

    public init(label: String, total: Int, quiet: Bool = false) {
        self.label = label
        self.total = total
        self.quiet = quiet
        self.live = isatty(STDERR_FILENO) == 1
        self.interval = live ? .milliseconds(200) : .seconds(10)
    }

    public func record(completionTokens: Int?, fromJournal: Bool, failed: Bool) {
        let line: String? = state.withLock { s in
            s.done += 1
            if fromJournal { s.fromJournal += 1 }
            if failed { s.failed += 1 }
            s.tokens += fromJournal ? 0 : (completionTokens ?? 0)
            let now = ContinuousClock.now
            guard now - s.lastPrint >= interval || s.done == total else { return nil }
            s.lastPrint = now
            return render(s)
        }
        if let line, !quiet { emit(line, final: false) }
    }

    public func finish() {
        guard !quiet else { return }
        emit(state.withLock { render($0) }, final: true)
    }

    /// Calls made (not from the journal), completion tokens, elapsed seconds.
    public var totals: (calls: Int, fromJournal: Int, failed: Int, tokens: Int, seconds: Double) {
        let s = state.withLock { $0 }
        return (s.done - s.fromJournal, s.fromJournal, s.failed, s.tokens, seconds)
    }

    private var seconds: Double {
        let d = ContinuousClock.now - started
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    private func render(_ s: State) -> String {
        let elapsed = max(seconds, 1e-3)
        let fresh = s.done - s.fromJournal
        let rate = Double(fresh) / elapsed
        let remaining = total - s.done
        let eta = rate > 0 ? Double(remaining) / rate : 0
        var text = "\(label) \(ProgressLine.bar(s.done, of: total)) \(s.done)/\(total)  \(String(format: "%.2f", rate)) calls/s  "
            + "\(String(format: "%.1f", Double(s.tokens) / elapsed)) tok/s  ETA \(Int(eta.rounded())) s"
        if s.fromJournal > 0 { text += "  (\(s.fromJournal) from journal)" }
        if s.failed > 0 { text += "  \(s.failed) failed" }
        return text
    }

    private func emit(_ line: String, final: Bool) { ProgressLine.emit(line, live: live, final: final) }
}

/// What the inference stages' and training's progress share: the bar, and one line on stderr (redrawn in place on a
/// terminal, appended otherwise).
public enum ProgressLine {
    public static func bar(_ done: Int, of total: Int, width: Int = 24) -> String {
        let filled = total > 0 ? min(width, width * max(0, done) / total) : width
        return String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
    }

    public static func emit(_ line: String, live: Bool, final: Bool) {
        let out = live ? "\r\u{1B}[2K" + line + (final ? "\n" : "") : line + "\n"
        FileHandle.standardError.write(Data(out.utf8))
    }
}
