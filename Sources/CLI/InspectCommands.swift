import ArgumentParser
import Foundation
import SRLMStore

struct Blame: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A row's lineage: its prompt and the run that made it, the candidates and judge samples behind it, the "
            + "checkpoint that judged, and the training runs that used its version.")
    @OptionGroup var options: StoreOptions
    @Argument(help: "A pairs, candidates, judgments or prompts version: NAME or NAME@VERSION.") var dataset: String
    @Argument(help: "The row: its ord, or (pairs, prompts) its prompt's text; or name it by --ord or --row-hash.") var row: String?
    @Option(help: "The row by its ord (an exported row's `ord`).") var ord: Int?
    @Option(help: "The row by its hash (an exported row's `row_hash`, or its first 8+ hex digits).") var rowHash: String?
    @Option(help: "text (an indented tree) or json.") var format: InspectFormat = .text

    func validate() throws {
        guard [row != nil, ord != nil, rowHash != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("name the row once: ROW, --ord N or --row-hash HEX")
        }
    }

    func run() throws {
        let store = try options.openReadOnly()
        let version = try store.read { try DatasetVersion.resolve($0, dataset, experiment: options.experiment) }
        let ord = try rowHash.map { try VersionTable.ord(store, version, rowHash: $0) } ?? ord
        let blame = try Lineage.blame(store, version, row: ord.map(String.init) ?? row!)
        print(format == .json ? try InspectOutput.json(blame) : InspectOutput.tree(blame), terminator: "")
    }
}

enum InspectFormat: String, ExpressibleByArgument, CaseIterable { case text, json }

/// `srlm show pairs@N --side-by-side`: called by `Show` when the flag is set.
enum SideBySideCommand {
    static func run(options: StoreOptions, dataset: String, limit: Int, offset: Int, format: QueryResult.Format, width: Int?) throws {
        if try ShowSideBySide.pairwiseEval(options: options, dataset: dataset, limit: limit, offset: offset, format: format, width: width) {
            return
        }
        let store = try options.openReadOnly()
        let version = try store.read { try DatasetVersion.resolve($0, dataset, experiment: options.experiment) }
        let view = try Lineage.sideBySide(store, version, limit: limit, offset: offset)
        switch format {
        case .json:
            print(try InspectOutput.json(view), terminator: "")
        case .csv:
            throw SRLMError.invalid("side by side is shown as text or json, not csv")
        case .table:
            let columns = width ?? (Terminal.isTerminal ? Terminal.width : nil)
            print(InspectOutput.sideBySide(view, width: columns), terminator: "")
        }
    }
}

enum Terminal {
    static var isTerminal: Bool { isatty(STDOUT_FILENO) == 1 }

    /// The terminal's columns: the window size, else $COLUMNS, else 100.
    static var width: Int {
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init) ?? 100
    }
}

/// The text and JSON renderings of lineage records. Every stored text goes through `TerminalText`: model outputs and
/// imported data never reach the terminal as control codes.
enum InspectOutput {
    static func json<T: Encodable>(_ value: T) throws -> String { try JSONOutput.document(value) }

    static func score(_ value: Double?) -> String {
        guard let value else { return "none" }
        return value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.3g", value)
    }

    // MARK: Side by side

    /// Two columns (chosen | rejected) when `width` is given, else one block per side.
    static func sideBySide(_ view: Lineage.SideBySide, width: Int?) -> String {
        var out = "\(view.pairs): \(view.rows.count) pair\(view.rows.count == 1 ? "" : "s"), judge samples from "
            + "\(view.judgments ?? "no judgments found (imported pairs or an unlinked version)")\n"
        for pair in view.rows {
            let margin = pair.chosen.score.flatMap { c in pair.rejected.score.map { c - $0 } }
            out += "\n" + "═══ row \(pair.row.ord)" + (margin.map { " · margin \(score($0))" } ?? "") + " ═══\n"
            let chosen = side("CHOSEN", pair.chosen), rejected = side("REJECTED", pair.rejected)
            if let width {
                let total = max(width, 24)
                out += wrap("PROMPT: " + TerminalText.escaped(pair.prompt), width: total).joined(separator: "\n") + "\n"
                out += String(repeating: "─", count: total) + "\n"
                out += columns(chosen, rejected, width: total)
            } else {
                out += "PROMPT:\n" + indent(TerminalText.escaped(pair.prompt)) + "\n"
                for block in [chosen, rejected] { out += "\n" + block.joined(separator: "\n") + "\n" }
            }
        }
        return out
    }

    /// One side as paragraphs: the header, the reply, then each judge sample's score and rationale.
    static func side(_ title: String, _ side: Lineage.Side) -> [String] {
        var lines = ["\(title) (score \(score(side.score)))", TerminalText.escaped(side.text)]
        if side.samples.isEmpty { lines.append("(no judge samples)") }
        for sample in side.samples {
            lines.append("")
            lines.append("── judge sample \(sample.sampleIndex): score \(score(sample.score))"
                         + (sample.parseError.map { " (\(TerminalText.escaped($0)))" } ?? "") + " · \(TerminalText.escaped(sample.judgeModel))")
            lines.append(TerminalText.escaped(sample.output))
        }
        return lines
    }

    /// Two paragraph lists wrapped to half the width each, set side by side with a rule between.
    static func columns(_ left: [String], _ right: [String], width: Int) -> String { columns([left, right], width: width) }

    /// Paragraph lists wrapped to an equal share of the width each, set side by side with rules between.
    static func columns(_ blocks: [[String]], width: Int) -> String {
        let count = max(blocks.count, 1)
        let column = max((width - 3 * (count - 1)) / count, 1)
        let wrapped = blocks.map { $0.flatMap { wrap($0, width: column) } }
        var out = ""
        for i in 0..<(wrapped.map(\.count).max() ?? 0) {
            let cells = wrapped.map { i < $0.count ? $0[i] : "" }
            out += cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell + String(repeating: " ", count: max(0, column - displayWidth(cell)))
            }.joined(separator: " │ ") + "\n"
        }
        return out
    }

    /// Lines of at most `width` terminal columns: at spaces where possible, a long word cut; tabs as spaces (they would
    /// break the columns).
    static func wrap(_ text: String, width: Int) -> [String] {
        let width = max(width, 1)
        var lines: [String] = []
        for paragraph in text.replacingOccurrences(of: "\t", with: "    ").split(separator: "\n", omittingEmptySubsequences: false) {
            var line = "", hasWord = false
            for var word in paragraph.split(separator: " ", omittingEmptySubsequences: false) {
                if hasWord {
                    if displayWidth(line) + 1 + displayWidth(word) <= width {
                        line += " " + word
                        continue
                    }
                    lines.append(line)
                }
                // A single character wider than the width stays whole.
                while displayWidth(word) > width && word.count > 1 {
                    var end = word.startIndex, used = 0
                    while end < word.endIndex, used + cellWidth(word[end]) <= width {
                        used += cellWidth(word[end])
                        end = word.index(after: end)
                    }
                    if end == word.startIndex { end = word.index(after: end) }  // one wide character in one column
                    lines.append(String(word[..<end]))
                    word = word[end...]
                }
                line = String(word)
                hasWord = true
            }
            lines.append(line)
        }
        return lines
    }

    /// Terminal columns a character takes: 2 for East Asian wide and fullwidth characters and emoji, else 1 (a
    /// Character already holds its combining marks).
    static func cellWidth(_ character: Character) -> Int {
        switch character.unicodeScalars.first?.value ?? 0 {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
             0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
             0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD:
            return 2
        default:
            return 1
        }
    }

    static func displayWidth<S: StringProtocol>(_ text: S) -> Int { text.reduce(0) { $0 + cellWidth($1) } }

    static func indent(_ text: String, by prefix: String = "  ") -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { prefix + $0 }.joined(separator: "\n")
    }

    // MARK: Blame tree

    /// A line of the tree and the lines under it.
    struct Node {
        var line: String
        var children: [Node] = []

        init(_ line: String, _ children: [Node] = []) {
            self.line = line
            self.children = children
        }

        /// The line escaped and indented (every line of a multi-line text at the same depth), then its children.
        func render(depth: Int = 0) -> String {
            let prefix = String(repeating: "  ", count: depth)
            return TerminalText.escaped(line).split(separator: "\n", omittingEmptySubsequences: false).map { prefix + $0 + "\n" }.joined()
                + children.map { $0.render(depth: depth + 1) }.joined()
        }
    }

    static func tree(_ blame: Lineage.Blame) -> String {
        var root = Node("\(blame.row.version) row \(blame.row.ord) (\(blame.kind.rawValue))")
        if let run = blame.madeBy { root.children.append(runNode("made by", run)) }
        root.children.append(promptNode(blame.prompt))
        // The blamed version's own run is shown once, as "made by" above.
        if let step = blame.candidates, step.version != blame.row.version {
            root.children.append(Node("candidates: \(step.version)", step.run.map { [runNode("made by", $0)] } ?? []))
        }
        if let judging = blame.judging {
            let own = judging.step.version == blame.row.version
            var node = Node("judgments: \(judging.step.version)", own ? [] : judging.step.run.map { [runNode("made by", $0)] } ?? [])
            node.children.append(Node("judging checkpoint: " + (judging.checkpoint.map(checkpointLine) ?? "none registered for the judge run's model")))
            root.children.append(node)
        }
        if let chosen = blame.chosen { root.children.append(replyNode("chosen", chosen)) }
        if let rejected = blame.rejected { root.children.append(replyNode("rejected", rejected)) }
        if let reply = blame.reply { root.children.append(replyNode("reply", reply)) }
        root.children.append(Node("used by", blame.usedBy.isEmpty ? [Node("no run has read \(blame.row.version)")] : blame.usedBy.map { use -> Node in
            var node = runNode(nil, use.run)
            if let checkpoint = use.checkpoint { node.children.append(Node("produced checkpoint " + checkpointLine(checkpoint))) }
            return node
        }))
        return root.render()
    }

    /// "run N stage (status, seed, started) → outputs" with its config under it.
    static func runNode(_ title: String?, _ run: Lineage.Run) -> Node {
        Node((title.map { $0 + " " } ?? "") + "run \(run.id) \(run.stage) (\(run.status)\(run.seed.map { ", seed \($0)" } ?? ""), \(run.started))"
             + (run.outputs.isEmpty ? "" : " → \(run.outputs.joined(separator: ", "))"), [Node("config " + run.config.text)])
    }

    static func checkpointLine(_ checkpoint: Lineage.CheckpointLink) -> String {
        "\(checkpoint.name) (id \(checkpoint.id), \(checkpoint.uri)"
            + (checkpoint.base.map { ", base \($0)" } ?? "") + (checkpoint.dataVersion.map { ", trained on \($0)" } ?? "")
            + (checkpoint.trainRunID.map { ", by run \($0)" } ?? "") + "; linked by \(checkpoint.matchedBy))"
    }

    static func promptNode(_ prompt: Lineage.PromptOrigin) -> Node {
        var node = Node("prompt: " + prompt.text)
        if let row = prompt.row {
            node.children.append(Node("row \(row.version) #\(row.ord)" + (prompt.origin.map { ", \($0)" } ?? "")))
        } else {
            node.children.append(Node("in no prompts version of this experiment"))
        }
        if let run = prompt.run {
            node.children.append(runNode(prompt.origin == "generated" ? "generated by" : "brought by", run))
        }
        return node
    }

    static func replyNode(_ title: String, _ reply: Lineage.Reply) -> Node {
        var node = Node(title + (reply.score.map { " (score \(score($0)))" } ?? "") + ": " + reply.text)
        if reply.candidates.isEmpty { node.children.append(Node("no candidate row found")) }
        for c in reply.candidates {
            var parts = ["model \(c.model)", "sample \(c.sampleIndex)"]
            if let t = c.temperature { parts.append("temperature \(score(t))") }
            if let p = c.topP { parts.append("top-p \(score(p))") }
            if let m = c.maxTokens { parts.append("max tokens \(m)") }
            if let s = c.seed { parts.append("seed \(s)") }
            if let n = c.completionTokens { parts.append("\(n) tokens") }
            if let f = c.finishReason { parts.append("finish \(f)") }
            if let h = c.callHash { parts.append("call \(h.prefix(16))") }
            node.children.append(Node("candidate \(c.row.version) #\(c.row.ord): " + parts.joined(separator: ", ")))
        }
        if reply.judgments.isEmpty { node.children.append(Node("no judge samples found")) }
        for j in reply.judgments {
            let template = j.template.map { "template \($0.name) v\($0.version)" } ?? "no registered template"
            let outcome = j.score.map { "score \(score($0))" } ?? "no score (\(j.parseError ?? "unparsed"))"
            node.children.append(Node("judgment \(j.row.version) #\(j.row.ord): sample \(j.sampleIndex), \(outcome), judge \(j.judgeModel), "
                                      + "\(j.mode), \(template)", [Node(j.output)]))
        }
        return node
    }
}
