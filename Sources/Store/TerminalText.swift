/// Text from datasets shown on a terminal: control characters become visible escapes, so a prompt cannot move the
/// cursor, retitle or clear the terminal, or reorder what is shown around it (bidirectional overrides).
public enum TerminalText {
    /// `\x1b` for C0/C1 controls and DEL, `\u{202e}` for bidirectional controls; newlines and tabs are kept unless
    /// the text must stay on one line (a name in a message).
    public static func escaped(_ text: String, keepingNewlinesAndTabs: Bool = true) -> String {
        guard text.unicodeScalars.contains(where: { needsEscape($0, keepingNewlinesAndTabs) }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            guard needsEscape(scalar, keepingNewlinesAndTabs) else { out.unicodeScalars.append(scalar); continue }
            let hex = String(scalar.value, radix: 16)
            out += scalar.value < 0x100 ? "\\x" + (hex.count < 2 ? "0" + hex : hex) : "\\u{\(hex)}"
        }
        return out
    }

    /// JSON text with the characters `escaped` would change written as `\uXXXX` escapes: the same JSON value.
    public static func escapedJSON(_ json: String) -> String {
        guard json.unicodeScalars.contains(where: { needsEscape($0, true) }) else { return json }
        var out = ""
        for scalar in json.unicodeScalars {
            guard needsEscape(scalar, true) else { out.unicodeScalars.append(scalar); continue }
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        }
        return out
    }

    static func needsEscape(_ scalar: Unicode.Scalar, _ keepingNewlinesAndTabs: Bool) -> Bool {
        switch scalar.value {
        case 0x0A, 0x09: return !keepingNewlinesAndTabs
        case 0x00..<0x20, 0x7F..<0xA0: return true
        case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }
}
