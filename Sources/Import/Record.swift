import Foundation
import SRLMStore

/// One parsed input row with where it came from. Reads logical fields (see `ImportOptions.fields`) at their
/// default JSON path or the path `--field` maps them to, and turns every problem into an `ImportError` naming
/// the file, line and field.
struct Record {
    let value: Any
    let line: Int
    let file: InputFile
    let fields: [String: String]
    /// The `--field` values that are templates (`{instruction}\n\n{input}`), parsed once per import.
    let templates: [String: FieldTemplate]
    /// The row as an object, cast once: a TRL row reads about ten fields, and casting the whole row from `Any` for
    /// each was a measurable part of an import.
    private let object: [String: Any]?

    init(value: Any, line: Int, file: InputFile, fields: [String: String], templates: [String: FieldTemplate] = [:]) {
        self.value = value
        self.line = line
        self.file = file
        self.fields = fields
        self.templates = templates
        object = value as? [String: Any]
    }

    /// The JSON path a logical field is read from.
    func path(_ field: String, _ defaultPath: String) -> String { fields[field] ?? defaultPath }

    /// Whether the field is explicitly mapped by `--field`.
    func mapped(_ field: String) -> Bool { fields[field] != nil }

    func error(_ field: String?, _ message: String) -> ImportError {
        if let field, let path = fields[field], path != field {
            return file.error(line, field, "\(message) (\(templates[field] == nil ? "read from path" : "built by the template") '\(path)')")
        }
        return file.error(line, field, message)
    }

    /// The raw value of a field; nil when absent or null. Rows must be JSON objects. A template field is its text.
    func raw(_ field: String, _ defaultPath: String) throws -> Any? {
        if let template = templates[field] {
            let object = try requireObject(field)
            do { return try template.render { JSONPath.lookup(in: object, $0) } } catch let problem as FieldTemplate.Problem {
                throw error(field, problem.description)
            }
        }
        return try raw(path: path(field, defaultPath))
    }

    /// The raw value at a literal JSON path (not a logical field's); nil when absent or null.
    func raw(path: String) throws -> Any? {
        JSONPath.lookup(in: try requireObject(nil), path)
    }

    private func requireObject(_ field: String?) throws -> [String: Any] {
        guard let object else { throw file.error(line, field, "expected a JSON object, found \(JSONPath.typeName(value))") }
        return object
    }

    func has(_ field: String, _ defaultPath: String) -> Bool {
        guard let object else { return false }
        if let template = templates[field] { return template.parts.contains { JSONPath.lookup(in: object, $0.path) != nil } }
        return JSONPath.lookup(in: object, path(field, defaultPath)) != nil
    }

    /// A string field; required ones must be present and not blank.
    func string(_ field: String, _ defaultPath: String? = nil) throws -> String {
        guard let text = try optionalString(field, defaultPath) else { throw error(field, "missing") }
        guard !isBlank(text) else { throw error(field, "empty") }
        return text
    }

    func optionalString(_ field: String, _ defaultPath: String? = nil) throws -> String? {
        guard let value = try raw(field, defaultPath ?? field) else { return nil }
        guard let text = value as? String else { throw error(field, "expected a string, found \(JSONPath.typeName(value))") }
        return text
    }

    /// An identifier field (a question id): a string or an integer, as text; absent or null is nil.
    func identifier(_ field: String, _ defaultPath: String? = nil) throws -> String? {
        guard let value = try raw(field, defaultPath ?? field) else { return nil }
        if let text = value as? String { return text }
        if let n = JSONPath.number(value), String(cString: n.objCType) != "c", n.doubleValue == n.doubleValue.rounded(),
           abs(n.doubleValue) < 1e15 {
            return String(n.int64Value)
        }
        throw error(field, "expected a string or an integer, found \(JSONPath.typeName(value))")
    }

    /// A number field (scores); absent or null is nil.
    func number(_ field: String, _ defaultPath: String? = nil) throws -> Double? {
        guard let value = try raw(field, defaultPath ?? field) else { return nil }
        guard let n = JSONPath.number(value), String(cString: n.objCType) != "c" else {
            throw error(field, "expected a number, found \(JSONPath.typeName(value))")
        }
        guard let number = JSONNumber.finiteDouble(n) else {
            throw error(field, "the number \(n.stringValue) does not fit a 64-bit float")
        }
        return number
    }

    /// A message-list field: a JSON array of {role, content} objects, or a plain string taken as one message
    /// from `stringRole`. Required and non-empty.
    func messages(_ field: String, _ defaultPath: String? = nil, stringRole: String, allowString: Bool = true,
                  roleKey: String = "role", contentKey: String = "content",
                  roles: [String: String]? = nil) throws -> Messages {
        guard let value = try raw(field, defaultPath ?? field) else { throw error(field, "missing") }
        if allowString, let text = value as? String {
            guard !isBlank(text) else { throw error(field, "empty") }
            return [Message(role: stringRole, content: text)]
        }
        guard let items = value as? [Any] else {
            throw error(field, "expected a message list\(allowString ? " or a string" : ""), found \(JSONPath.typeName(value))")
        }
        guard !items.isEmpty else { throw error(field, "empty") }
        return try items.enumerated().map { index, item in
            guard let object = item as? [String: Any] else {
                throw error(field, "message \(index): expected an object, found \(JSONPath.typeName(item))")
            }
            guard let role = object[roleKey] as? String, !role.isEmpty else {
                throw error(field, "message \(index): '\(roleKey)' is missing or not a string")
            }
            let mappedRole: String
            if let roles {
                guard let r = roles[role] else {
                    throw error(field, "message \(index): unknown \(roleKey) '\(role)' (expected \(roles.keys.sorted().joined(separator: ", ")))")
                }
                mappedRole = r
            } else {
                mappedRole = role
            }
            guard let content = Self.content(object[contentKey]) else {
                throw error(field, "message \(index): '\(contentKey)' is missing or not text")
            }
            return Message(role: mappedRole, content: content)
        }
    }

    /// Message content: a string, or OpenAI-style parts [{type: "text", text}] joined.
    private static func content(_ value: Any?) -> String? {
        if let text = value as? String { return text }
        guard let parts = value as? [[String: Any]] else { return nil }
        let texts = parts.compactMap { $0["text"] as? String }
        return texts.count == parts.count ? texts.joined(separator: "\n") : nil
    }

    private func isBlank(_ text: String) -> Bool { text.allSatisfy(\.isWhitespace) }
}

/// Parsed JSON numbers checked against the column they go to: Foundation keeps a number too big for 64 bits as a
/// decimal whose intValue wraps (2^64 would read as 0), so nothing is converted unless it fits exactly.
enum JSONNumber {
    /// The exact whole number `n` holds, when it fits Int64; nil for fractions and anything out of range.
    static func int64(_ n: NSNumber) -> Int64? {
        // The decimal text is exact for integers of any size, and a Double prints its shortest round-trip form.
        if let exact = Int64(n.stringValue) { return exact }
        // "3.0", "3e2": whole when the value is; a decimal too big for 64 bits parses to a Double out of range.
        return Int64(exactly: Double(n.stringValue) ?? n.doubleValue)
    }

    /// The value as a finite Double (scores are REAL); nil when it overflows to infinity. Parsed from the decimal
    /// text: Foundation on Linux reads JSON fractions as NSDecimalNumber, whose `doubleValue` can be off in the
    /// last digits (0.9082482904638631 → …634), so an exported score or weight would not come back the same.
    static func finiteDouble(_ n: NSNumber) -> Double? {
        let value = Double(n.stringValue) ?? n.doubleValue
        return value.isFinite ? value : nil
    }
}

extension Array where Element == Message {
    /// Splits a conversation into the prompt (everything before a trailing assistant message) and that reply.
    func splitLastAssistant() -> (prompt: Messages, reply: Message?) {
        guard let last, last.role == "assistant" else { return (self, nil) }
        return (Array(dropLast()), last)
    }
}
