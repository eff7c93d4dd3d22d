import Foundation

/// A `--field` value that builds a text from several source fields: `prompt={instruction}\n\n{input}`. Each
/// `{path}` is a JSON path read from the row; `\n`, `\t`, `\\`, `\{` and `\}` are escapes (a shell's single quotes
/// pass them through as typed). The text before a placeholder belongs to it and is left out with it when the value
/// is missing, null or blank, so an empty `input` leaves no dangling "\n\n"; when the first placeholder is left out,
/// the next kept part's separator loses its leading blanks. The text after the last placeholder is always kept.
struct FieldTemplate: Sendable, Equatable {
    struct Part: Sendable, Equatable {
        let before: String
        let path: String
    }

    let parts: [Part]
    let trailer: String

    /// The template in `text`; nil when it has no placeholder (then it is a plain JSON path).
    static func parse(_ text: String) throws -> FieldTemplate? {
        guard text.contains("{") || text.contains("}") else { return nil }
        var parts: [Part] = [], literal = "", path: String?
        var characters = text.makeIterator()
        while let c = characters.next() {
            if c == "\\", path == nil {
                guard let escaped = characters.next() else { throw Problem.danglingEscape }
                switch escaped {
                case "n": literal.append("\n")
                case "t": literal.append("\t")
                case "\\", "{", "}": literal.append(escaped)
                default: throw Problem.unknownEscape(escaped)
                }
            } else if c == "{" {
                guard path == nil else { throw Problem.nested }
                path = ""
            } else if c == "}" {
                guard let name = path else { throw Problem.unopened }
                guard !name.trimmingCharacters(in: .whitespaces).isEmpty else { throw Problem.emptyPlaceholder }
                parts.append(Part(before: literal, path: name.trimmingCharacters(in: .whitespaces)))
                literal = ""
                path = nil
            } else if path != nil {
                path!.append(c)
            } else {
                literal.append(c)
            }
        }
        guard path == nil else { throw Problem.unclosed }
        guard !parts.isEmpty else { return nil }
        return FieldTemplate(parts: parts, trailer: literal)
    }

    /// The top-level keys the template reads (for the report of ignored fields).
    var keys: [String] { parts.map { String($0.path.split(separator: ".", maxSplits: 1).first ?? "") } }

    /// The text for one row: nil when every placeholder is missing or null (the field is missing). A value must be
    /// a string or a number; anything else is named by its placeholder's path.
    func render(_ lookup: (String) -> Any?) throws -> String? {
        var text = "", anyPresent = false
        for (index, part) in parts.enumerated() {
            guard let value = lookup(part.path) else { continue }
            anyPresent = true
            let piece: String
            if let string = value as? String {
                piece = string
            } else if let n = JSONPath.number(value), String(cString: n.objCType) != "c" {
                piece = n.stringValue
            } else {
                throw Problem.notText(path: part.path, found: JSONPath.typeName(value))
            }
            guard !piece.allSatisfy(\.isWhitespace) else { continue }
            text += text.isEmpty && index > 0 ? String(part.before.drop(while: \.isWhitespace)) : part.before
            text += piece
        }
        guard anyPresent else { return nil }
        return text.isEmpty ? "" : text + trailer
    }

    enum Problem: Error, CustomStringConvertible, Equatable {
        case danglingEscape, unknownEscape(Character), nested, unopened, unclosed, emptyPlaceholder
        case notText(path: String, found: String)

        var description: String {
            switch self {
            case .danglingEscape: return "the template ends in a lone '\\'"
            case .unknownEscape(let c): return "unknown escape '\\\(c)' in the template (known: \\n \\t \\\\ \\{ \\})"
            case .nested: return "a '{' inside a placeholder"
            case .unopened: return "a '}' without its '{' (write \\} for a brace)"
            case .unclosed: return "a '{' without its '}' (write \\{ for a brace)"
            case .emptyPlaceholder: return "an empty placeholder {}"
            case .notText(let path, let found): return "template part {\(path)}: expected a string or a number, found \(found)"
            }
        }
    }
}
