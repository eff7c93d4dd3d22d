import Foundation

/// One chat message. Prompts and responses are message lists; single-turn data is the one-message case.
public struct Message: Codable, Hashable, Sendable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    public static func user(_ content: String) -> Message { Message(role: "user", content: content) }
    public static func assistant(_ content: String) -> Message { Message(role: "assistant", content: content) }
    public static func system(_ content: String) -> Message { Message(role: "system", content: content) }
}

public typealias Messages = [Message]

/// The canonical bytes of a message list: sorted keys, no whitespace, unescaped slashes. The blob hash of a prompt
/// or response is the SHA-256 of these bytes, so equal conversations share one blob whatever file they came from.
public enum CanonicalJSON {
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// The same bytes as `encode(messages)` (JSONEncoder, sorted keys, slashes unescaped), written directly: imports
    /// and stages canonicalize every text, and the encoder's generic path was a tenth of an import's time. The
    /// tests compare both on every escape class.
    public static func messages(_ messages: Messages) -> Data { Data(messageBytes(messages)) }

    /// `messages` as the text a blob column holds (made from the bytes directly, without a copy through Data).
    public static func text(_ messages: Messages) -> String { String(decoding: messageBytes(messages), as: UTF8.self) }

    private static func messageBytes(_ messages: Messages) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(messages.reduce(32) { $0 + $1.content.utf8.count + $1.role.utf8.count + 24 })
        out.append(UInt8(ascii: "["))
        for (i, message) in messages.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"content":"#.utf8)
            appendString(message.content, to: &out)
            out.append(contentsOf: #","role":"#.utf8)
            appendString(message.role, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// A JSON string as JSONEncoder writes it: `"` and `\` escaped, \b \t \n \f \r by name, other control bytes as
    /// \u00xx (lowercase hex), everything else (DEL and all non-ASCII) as is.
    public static func appendString(_ text: String, to out: inout [UInt8]) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { bytes in
            var runStart = 0
            var i = JSONStringBytes.plainRun(bytes, from: 0)
            while i < bytes.count {
                let b = bytes[i]
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i]))
                runStart = i + 1
                switch b {
                case 0x22: out.append(contentsOf: [0x5C, 0x22])
                case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
                case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
                case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
                case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                default: out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]])
                }
                i = JSONStringBytes.plainRun(bytes, from: runStart)
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        }
        out.append(UInt8(ascii: "\""))
    }

    public static func decodeMessages(_ data: Data) throws -> Messages {
        try JSONDecoder().decode(Messages.self, from: data)
    }

    /// Canonical text of arbitrary JSON (for configs): parsed and re-encoded with sorted keys.
    public static func canonicalize(_ object: Any) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: object,
                                              options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed])
        return String(decoding: data, as: UTF8.self)
    }
}

extension Array where Element == Message {
    /// The content of the last message: what views and tables show.
    public var lastContent: String { last?.content ?? "" }
}

/// The bytes a JSON string can hold as they are: not a quote, a backslash or a control byte (below 0x20). Texts are
/// mostly such bytes, so both the import's reader and the canonical writer step over them eight at a time.
public enum JSONStringBytes {
    /// The index of the first byte at or after `start` that is a quote, a backslash or a control byte; `bytes.count`
    /// when there is none.
    @inlinable
    public static func plainRun(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        let ones: UInt64 = 0x0101_0101_0101_0101
        var position = start
        while position + 8 <= bytes.count {
            let word = UnsafeRawPointer(bytes.baseAddress! + position).loadUnaligned(as: UInt64.self)
            let quote = word ^ (ones &* 0x22), backslash = word ^ (ones &* 0x5C)
            // Per byte: equal to 0 after the xor (a quote, a backslash), or below 0x20; exact for the word as a whole.
            let special = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word)
            if special & (ones &* 0x80) != 0 { break }
            position += 8
        }
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            position += 1
        }
        return position
    }
}
