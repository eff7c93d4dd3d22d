import SRLMStore

/// Why an import failed, located as precisely as the input allows: the file, the 1-based line (nil for
/// file-level problems) and the logical field (nil when not about one field).
public struct ImportError: Error, CustomStringConvertible, Sendable, Equatable {
    public let file: String
    public let line: Int?
    public let field: String?
    public let message: String

    public init(file: String, line: Int? = nil, field: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }

    /// The error a rejection was made from.
    public init(_ rejection: ImportRejection) {
        self.init(file: rejection.file, line: rejection.line, field: rejection.field, message: rejection.reason)
    }

    /// `data.jsonl:17: field 'chosen': missing`, or `data.jsonl: no rows` when neither line nor field apply.
    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        text += ": "
        if let field { text += "field '\(field)': " }
        return text + message
    }
}
