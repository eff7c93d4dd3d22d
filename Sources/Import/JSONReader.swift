import Foundation
import SRLMStore

/// A strict JSON reader (RFC 8259) for import lines, giving the values `JSONSerialization` gives — `[String: Any]`,
/// `[Any]`, `String`, `NSNumber` (booleans too) and `NSNull` — from the line's bytes without copying them into a
/// `Data` first and without Foundation's intermediate tree: parsing was a quarter of an import's time.
/// Integers that fit 64 bits are `Int64`, other numbers the `Double` nearest their decimal text.
struct JSONReader {
    /// Why a line is not JSON, and the byte of the line (1-based) where that became clear.
    struct Failure: Error {
        let message: String
        let byte: Int

        /// A string whose bytes are not UTF-8, named by its first byte.
        static func invalidUTF8(stringAt start: Int) -> Failure { Failure(message: "invalid UTF-8 in a string", byte: start + 1) }
    }

    /// Nesting deeper than this is refused (as Foundation does): a hostile line must not exhaust the stack.
    static let maxDepth = 512

    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0
    private var depth = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    /// The one value `bytes` holds, blanks around it allowed.
    static func parse(_ bytes: ArraySlice<UInt8>) throws(Failure) -> Any {
        let result: Result<Any, Failure> = bytes.withUnsafeBufferPointer { buffer in
            var reader = JSONReader(buffer)
            return Result { () throws(Failure) -> Any in
                let value = try reader.value()
                reader.skipBlanks()
                guard reader.position == buffer.count else { throw reader.failure("unexpected text after the value") }
                return value
            }
        }
        return try result.get()
    }

    private func failure(_ message: String) -> Failure { Failure(message: message, byte: position + 1) }

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipBlanks() {
        while position < bytes.count, JSONText.isSpace(bytes[position]) { position += 1 }
    }

    private mutating func value() throws(Failure) -> Any {
        skipBlanks()
        guard let byte = current else { throw failure("a value was expected, the line ended") }
        switch byte {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return try string()
        case UInt8(ascii: "t"): try literal("true"); return NSNumber(value: true)
        case UInt8(ascii: "f"): try literal("false"); return NSNumber(value: false)
        case UInt8(ascii: "n"): try literal("null"); return NSNull()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw failure("unexpected character '\(Self.show(byte))'")
        }
    }

    private mutating func enter() throws(Failure) {
        depth += 1
        if depth > Self.maxDepth { throw failure("nested deeper than \(Self.maxDepth) levels") }
    }

    private mutating func object() throws(Failure) -> [String: Any] {
        try enter()
        position += 1
        var object: [String: Any] = [:]
        skipBlanks()
        if leave(at: UInt8(ascii: "}")) { return object }
        while true {
            skipBlanks()
            guard current == UInt8(ascii: "\"") else { throw failure("an object key (a string) was expected") }
            let key = try string()
            skipBlanks()
            guard current == UInt8(ascii: ":") else { throw failure("':' was expected after the key") }
            position += 1
            object[key] = try value()
            skipBlanks()
            if leave(at: UInt8(ascii: "}")) { return object }
            guard current == UInt8(ascii: ",") else { throw failure("',' or '}' was expected in the object") }
            position += 1
        }
    }

    private mutating func array() throws(Failure) -> [Any] {
        try enter()
        position += 1
        var array: [Any] = []
        skipBlanks()
        if leave(at: UInt8(ascii: "]")) { return array }
        while true {
            array.append(try value())
            skipBlanks()
            if leave(at: UInt8(ascii: "]")) { return array }
            guard current == UInt8(ascii: ",") else { throw failure("',' or ']' was expected in the array") }
            position += 1
        }
    }

    /// Steps over the closing bracket `byte` of an object or array, if it is next.
    private mutating func leave(at byte: UInt8) -> Bool {
        guard current == byte else { return false }
        position += 1
        depth -= 1
        return true
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count,
              memcmp(bytes.baseAddress! + position, word.utf8Start, count) == 0 else { throw failure("unexpected word") }
        position += count
    }

    /// A string: its bytes taken as they are until the first escape, then unescaped; UTF-8 is checked.
    private mutating func string() throws(Failure) -> String {
        position += 1
        let start = position
        while true {
            skipPlainText()
            guard let byte = current else { break }
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<position])
                guard let text = String(validating: slice, as: UTF8.self) else { throw .invalidUTF8(stringAt: start) }
                position += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { return try escapedString(from: start) }
            throw failure("a control character must be escaped in a string")
        }
        throw failure("the string is not closed")
    }

    /// Steps over string bytes that need no attention (not a quote, a backslash or a control byte): most of a text.
    private mutating func skipPlainText() { position = JSONStringBytes.plainRun(bytes, from: position) }

    private mutating func escapedString(from start: Int) throws(Failure) -> String {
        var text = [UInt8](UnsafeBufferPointer(rebasing: bytes[start..<position]))
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                guard let string = String(validating: text, as: UTF8.self) else { throw .invalidUTF8(stringAt: start) }
                return string
            case UInt8(ascii: "\\"):
                position += 1
                guard let escape = current else { throw failure("the string is not closed") }
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(escape)
                case UInt8(ascii: "b"): text.append(0x08)
                case UInt8(ascii: "f"): text.append(0x0C)
                case UInt8(ascii: "n"): text.append(0x0A)
                case UInt8(ascii: "r"): text.append(0x0D)
                case UInt8(ascii: "t"): text.append(0x09)
                case UInt8(ascii: "u"): text.append(contentsOf: String(try unicodeEscape()).utf8)
                default:
                    position -= 1
                    throw failure("unknown escape '\\\(Self.show(escape))'")
                }
            default:
                if byte < 0x20 { throw failure("a control character must be escaped in a string") }
                let run = position
                skipPlainText()
                text.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<position]))
            }
        }
        throw failure("the string is not closed")
    }

    /// After `\u`: four hex digits, and for a high surrogate the `\uDC00`–`\uDFFF` that must follow it.
    private mutating func unicodeEscape() throws(Failure) -> Character {
        let unit = try hex4()
        switch unit {
        case 0xD800..<0xDC00:
            guard position + 2 <= bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
                throw failure("a high surrogate \\u escape without its low surrogate")
            }
            position += 2
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low) else { throw failure("a high surrogate \\u escape without its low surrogate") }
            return Character(Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))!)
        case 0xDC00..<0xE000:
            throw failure("a low surrogate \\u escape without its high surrogate")
        default:
            return Character(Unicode.Scalar(unit)!)
        }
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard position + 4 <= bytes.count else { throw failure("a \\u escape needs four hex digits") }
        var unit: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("a \\u escape needs four hex digits")
            }
            unit = unit << 4 | UInt32(digit)
            position += 1
        }
        return unit
    }

    /// -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
    private mutating func number() throws(Failure) -> NSNumber {
        let start = position
        if current == UInt8(ascii: "-") { position += 1 }
        guard let first = current, Self.isDigit(first) else { throw failure("a digit was expected in the number") }
        position += 1
        if first == UInt8(ascii: "0"), let next = current, Self.isDigit(next) { throw failure("a number cannot start with 0") }
        skipDigits()
        var integral = true
        if current == UInt8(ascii: ".") {
            integral = false
            position += 1
            guard let digit = current, Self.isDigit(digit) else { throw failure("a digit was expected after '.'") }
            skipDigits()
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            integral = false
            position += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            guard let digit = current, Self.isDigit(digit) else { throw failure("a digit was expected in the exponent") }
            skipDigits()
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        if integral, let exact = Int64(text) { return NSNumber(value: exact) }
        return NSNumber(value: Double(text)!)  // the grammar above is a subset of what Double parses
    }

    private mutating func skipDigits() {
        while let byte = current, Self.isDigit(byte) { position += 1 }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// A byte for an error message: printable ASCII as it is, anything else as hex (never a control code).
    private static func show(_ byte: UInt8) -> String {
        (0x21..<0x7F).contains(byte) ? String(UnicodeScalar(byte)) : String(format: "0x%02X", byte)
    }
}
