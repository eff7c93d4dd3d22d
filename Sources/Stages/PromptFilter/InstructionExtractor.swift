/// Extracts the new instruction from a self-instruct completion: strips a leading "Task 9:"/"9." style label,
/// quotes and whitespace, stops at the next "Task N" label or a blank line; nil when nothing usable.
///
/// The generation prompt lists tasks as "Task 1: …" and ends with "Task 9:", so a completion usually starts with the
/// instruction itself and then runs on into "Task 10: …" (or "10. …" when the model switched to a numbered list).
public enum InstructionExtractor {
    public static func extract(_ completion: String) -> String? {
        var lines = completion.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)[...]
        while let first = lines.first, isBlank(first) { lines = lines.dropFirst() }
        guard let firstLine = lines.first else { return nil }
        lines = lines.dropFirst()

        var collected: [Substring] = []
        var style: LabelStyle? = nil
        var head = firstLine
        if let label = label(in: firstLine) {
            style = label.style
            head = label.rest
        }
        head = dropInstructionTag(head)
        if isBlank(head) {
            // "Task 9:" alone on its line: the instruction follows, possibly after blank lines.
            while let next = lines.first, isBlank(next) { lines = lines.dropFirst() }
            guard let next = lines.first, label(in: next) == nil else { return nil }
            head = dropInstructionTag(next)
            lines = lines.dropFirst()
        }
        collected.append(head)
        for line in lines {
            if isBlank(line) { break }
            if let next = label(in: line), next.style == .task || next.style == style { break }
            collected.append(line)
        }
        let text = stripQuotes(collected.joined(separator: "\n").trimmingWhitespace())
        return text.isEmpty ? nil : text
    }

    enum LabelStyle { case task, number }

    /// A leading "Task 9:" (also "### Task 9.", "**Task 9:**", "Task 9") or "9." / "9)" / "9:" label and what follows it.
    static func label(in line: Substring) -> (style: LabelStyle, rest: Substring)? {
        var s = line.drop(while: \.isWhitespace)
        s = s.drop(while: { $0 == "#" }).drop(while: \.isWhitespace)
        let bold = s.hasPrefix("**")
        if bold { s = s.dropFirst(2) }
        if s.prefix(4).lowercased() == "task" {
            var t = s.dropFirst(4).drop(while: \.isWhitespace)
            let digits = t.prefix(while: \.isASCIIDigit)
            guard !digits.isEmpty else { return nil }
            t = t.dropFirst(digits.count)
            let punctuated = t.drop(while: \.isWhitespace)
            if let c = punctuated.first, ":.)-".contains(c) { t = punctuated.dropFirst() }
            if bold, t.hasPrefix("**") { t = t.dropFirst(2) }
            guard t.isEmpty || t.first!.isWhitespace || t.first!.isQuote else { return nil }
            return (.task, t)
        }
        let digits = s.prefix(while: \.isASCIIDigit)
        guard (1...3).contains(digits.count) else { return nil }
        var t = s.dropFirst(digits.count)
        guard let c = t.first, ".):".contains(c) else { return nil }
        t = t.dropFirst()
        if bold, t.hasPrefix("**") { t = t.dropFirst(2) }
        // "9.5 litres…" or "3:30 pm…" are text, not labels.
        guard t.isEmpty || t.first!.isWhitespace || t.first!.isQuote else { return nil }
        return (.number, t)
    }

    /// Drops an "Instruction:" tag some models add after the label.
    static func dropInstructionTag(_ text: Substring) -> Substring {
        let t = text.drop(while: \.isWhitespace)
        return t.prefix(12).lowercased() == "instruction:" ? t.dropFirst(12) : t
    }

    private static let pairs: [Character: Character] = ["\"": "\"", "'": "'", "“": "”", "‘": "’", "«": "»", "`": "`"]

    /// Removes quotes enclosing the whole text (repeatedly; only when neither quote character occurs inside, so
    /// "'A' or 'B'" keeps its quotes), and a lone double quote left at either end by a cut-off completion.
    /// Lone single quotes stay: they are usually apostrophes ("the dogs'").
    static func stripQuotes(_ text: String) -> String {
        var s = Substring(text)
        while s.count >= 2, let open = s.first, let close = pairs[open], s.last == close,
              !s.dropFirst().dropLast().contains(where: { $0 == open || $0 == close }) {
            s = s.dropFirst().dropLast().trimmingWhitespace()[...]
        }
        let doubles: [Character: Character] = ["\"": "\"", "“": "”", "«": "»"]
        if let open = s.first, let close = doubles[open], !s.dropFirst().contains(close) {
            s = s.dropFirst()
        }
        if let last = s.last, let open = doubles.first(where: { $0.value == last })?.key, !s.dropLast().contains(open) {
            s = s.dropLast()
        }
        return s.trimmingWhitespace()
    }

    private static func isBlank(_ line: Substring) -> Bool { line.allSatisfy(\.isWhitespace) }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
    fileprivate var isQuote: Bool { "\"'“‘«`".contains(self) }
}

extension StringProtocol {
    fileprivate func trimmingWhitespace() -> String {
        let start = firstIndex(where: { !$0.isWhitespace }) ?? endIndex
        let end = lastIndex(where: { !$0.isWhitespace }).map(index(after:)) ?? start
        return start < end ? String(self[start..<end]) : ""
    }
}
