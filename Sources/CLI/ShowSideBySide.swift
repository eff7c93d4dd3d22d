import ArgumentParser
import Foundation
import SRLMStore

/// `srlm show REF --prompt N` (one prompt's candidates, each with its judge samples) and `srlm show <pairwise eval>
/// --side-by-side` (each labelled pair's two replies with both orders' verdicts). Texts are read from the views
/// (`v_prompt_candidates`, `v_pairwise_verdicts`) and shown through `TerminalText`, never as control codes.
enum ShowSideBySide {
    static func prompt(options: StoreOptions, dataset: String, prompt: Int, format: QueryResult.Format, width: Int?) throws {
        let store = try options.openReadOnly()
        let version = try DatasetVersion.resolve(store, qualified: dataset, experiment: options.experiment)
        let view = try PromptCandidates.read(store, version, prompt: prompt)
        switch format {
        case .json: print(try InspectOutput.json(view), terminator: "")
        case .csv: throw SRLMError.invalid("a prompt's candidates are shown as text or json, not csv (or query v_prompt_candidates)")
        case .table: print(render(view, width: width ?? (Terminal.isTerminal ? Terminal.width : nil)), terminator: "")
        }
    }

    /// True when `dataset` is a pairwise evaluation and was shown here.
    static func pairwiseEval(options: StoreOptions, dataset: String, limit: Int, offset: Int, format: QueryResult.Format,
                             width: Int?) throws -> Bool {
        let store = try options.openReadOnly()
        let version = try DatasetVersion.resolve(store, qualified: dataset, experiment: options.experiment)
        guard try PairwiseVerdicts.isPairwiseEval(store, version) else { return false }
        let view = try PairwiseVerdicts.read(store, version, limit: limit, offset: offset)
        switch format {
        case .json: print(try InspectOutput.json(view), terminator: "")
        case .csv: throw SRLMError.invalid("side by side is shown as text or json, not csv (or query v_pairwise_verdicts)")
        case .table: print(render(view, width: width ?? (Terminal.isTerminal ? Terminal.width : nil)), terminator: "")
        }
        return true
    }

    // MARK: Rendering

    static func render(_ view: PromptCandidates.View, width: Int?) -> String {
        var out = "\(view.ref) prompt \(view.prompt) of \(view.prompts)"
            + (view.round.map { " · round \($0)" } ?? "") + " · judge samples from \(view.judgmentsRef ?? "no judgments found")"
            + " · pairs from \(view.pairsRef ?? "no pairs found") \n"
        out += "PROMPT: " + TerminalText.escaped(view.promptText) + "\n"
        let blocks = view.candidates.map(block)
        return out + layout(blocks, width: width)
    }

    /// One candidate as paragraphs: its header, its reply, then each judge sample's score and rationale.
    static func block(_ c: PromptCandidates.Candidate) -> [String] {
        let flags = [c.chosen == true ? "CHOSEN" : nil, c.rejected == true ? "REJECTED" : nil].compactMap { $0 }
        var lines = ["CANDIDATE row \(c.ord) · sample \(c.sampleIndex) · mean \(InspectOutput.score(c.meanScore))"
                     + (flags.isEmpty ? "" : " · " + flags.joined(separator: ", ")),
                     TerminalText.escaped(c.responseText)]
        if c.scores.isEmpty { lines.append("(no judge samples)") }
        for (i, rationale) in c.rationales.enumerated() {
            lines.append("")
            lines.append("── judge sample \(i): score \(InspectOutput.score(c.scores[i])) · \(TerminalText.escaped(c.judges[i]))")
            lines.append(TerminalText.escaped(rationale))
        }
        return lines
    }

    static func render(_ view: PairwiseVerdicts.View, width: Int?) -> String {
        var out = "\(view.ref): \(view.items.count) labelled pair\(view.items.count == 1 ? "" : "s") of \(view.labeledRef)"
            + (view.model.map { ", judged by \(TerminalText.escaped($0))" } ?? "") + "\n"
        for item in view.items {
            let agreement = item.agree.map { $0 ? "agree" : "disagree" } ?? "no verdict"
            out += "\n═══ row \(item.ord) · human \(item.label) · judge \(item.verdict ?? "none") · \(agreement) ═══\n"
            out += "PROMPT: " + TerminalText.escaped(item.promptText) + "\n"
            let a = ["REPLY A", TerminalText.escaped(item.responseAText), "",
                     "── A shown first: verdict \(item.verdictAB ?? "none")", TerminalText.escaped(item.outputAB ?? "")]
            let b = ["REPLY B", TerminalText.escaped(item.responseBText), "",
                     "── B shown first: verdict \(item.verdictBAShown ?? "none") as shown, \(item.verdictBA ?? "none") for the pair",
                     TerminalText.escaped(item.outputBA ?? "")]
            out += layout([a, b], width: width)
        }
        return out
    }

    /// Blocks side by side, as many to a band as fit at 36 columns or more each, when `width` is given; else one
    /// after another.
    static func layout(_ blocks: [[String]], width: Int?) -> String {
        guard let width else { return blocks.map { "\n" + $0.joined(separator: "\n") + "\n" }.joined() }
        let total = max(width, 24), perBand = max(1, min(blocks.count, (total + 3) / 39))
        var out = ""
        for start in stride(from: 0, to: blocks.count, by: perBand) {
            out += String(repeating: "─", count: total) + "\n"
            out += InspectOutput.columns(Array(blocks[start..<min(start + perBand, blocks.count)]), width: total)
        }
        return out
    }
}
