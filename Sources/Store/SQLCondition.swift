/// A user's SQL condition (`derive --where`) must stay one expression inside the parentheses srlm wraps it in.
/// SQLite's own tokens are followed: strings ('…'), quoted names ("…", `…`, […]) and comments may hold any
/// parenthesis; outside them every parenthesis must be closed, none may close one the condition did not open,
/// and no ';' may end the statement early.
public enum SQLCondition {
    public static func checkSingleExpression(_ condition: String) throws {
        let bytes = Array(condition.utf8)
        var depth = 0, i = 0
        func fail(_ why: String) -> SRLMError { .invalid("the condition must be one SQL expression: \(why)") }
        /// Skips a quoted token opened at `i`, ending at `close` (doubled `close` is an escaped one unless `]`).
        func skipQuoted(_ close: UInt8) throws {
            i += 1
            while i < bytes.count {
                if bytes[i] == close {
                    if close != UInt8(ascii: "]"), i + 1 < bytes.count, bytes[i + 1] == close { i += 2; continue }
                    i += 1
                    return
                }
                i += 1
            }
            throw fail("a quote opened is not closed")
        }
        guard bytes.contains(where: { !Self.isSpace($0) }) else { throw fail("it is empty") }
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "'"): try skipQuoted(UInt8(ascii: "'"))
            case UInt8(ascii: "\""): try skipQuoted(UInt8(ascii: "\""))
            case UInt8(ascii: "`"): try skipQuoted(UInt8(ascii: "`"))
            case UInt8(ascii: "["): try skipQuoted(UInt8(ascii: "]"))
            case UInt8(ascii: "-") where i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "-"):
                throw fail("comments (--) are not allowed")
            case UInt8(ascii: "/") where i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "*"):
                throw fail("comments (/* */) are not allowed")
            case UInt8(ascii: ";"): throw fail("';' ends a statement")
            case UInt8(ascii: "("): depth += 1; i += 1
            case UInt8(ascii: ")"):
                guard depth > 0 else { throw fail("a ')' closes a parenthesis the condition did not open") }
                depth -= 1
                i += 1
            default: i += 1
            }
        }
        guard depth == 0 else { throw fail("\(depth) parenthesis(es) left open") }
    }

    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 || b == 0x0C }
}
