/// Untrusted text (model outputs, imported data) made safe to write to a terminal: a control character in a reply
/// could retitle the window, move the cursor or rewrite what was printed before it (`ESC ] 0 ; … BEL`, `CSI`, `\r`).
public enum TerminalText {
    /// The text with every C0 control (except newline and tab), DEL and every C1 control written as a visible `\xNN`.
    /// A backslash stays as it is: the output is for reading, not for parsing back.
    public static func escaped(_ text: String) -> String {
        replacingControls(text) { value in
            let hex = String(value, radix: 16)
            return "\\x" + (hex.count < 2 ? "0" + hex : hex)
        }
    }

    /// JSON text with the controls a JSON encoder leaves raw (DEL and C1, which it may write unescaped) escaped as
    /// `\u00NN`: the same string to a JSON reader, inert on a terminal. They can only occur inside strings, where
    /// `\u00NN` is a valid escape.
    public static func escapedJSON(_ json: String) -> String {
        replacingControls(json) { value in
            let hex = String(value, radix: 16)
            return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        }
    }

    static func replacingControls(_ text: String, with escape: (UInt32) -> String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isControl(scalar) { out.append(contentsOf: escape(scalar.value).unicodeScalars) } else { out.append(scalar) }
        }
        return String(out)
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0A, 0x09: return false
        case 0x00...0x1F, 0x7F...0x9F: return true
        default: return false
        }
    }
}
