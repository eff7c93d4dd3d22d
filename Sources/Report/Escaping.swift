/// Report texts come from models and datasets, so any of them may hold markup (a candidate that answers with
/// `<script>` is ordinary data here). Every text goes through one of these before it reaches a renderer's output.
enum Escaping {
    /// For HTML text and attribute values alike (quotes included), and for SVG `<text>`.
    static func html(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// Markdown prose: markup characters become entities (GitHub renders them as the characters), so a raw tag in a
    /// reply can neither render nor run in a Markdown viewer that passes HTML through.
    static func markdown(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// A Markdown table cell or a one-line title: also no pipes (they would split the cell) and no line breaks
    /// (they would end the row).
    static func markdownLine(_ text: String, lineBreak: String = "<br>") -> String {
        markdown(text)
            .replacingOccurrences(of: "|", with: "\\|")
            .replacingOccurrences(of: "\r\n", with: "\n")
            .replacingOccurrences(of: "\n", with: lineBreak)
    }
}
