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

    public static func messages(_ messages: Messages) -> Data {
        // Encoding [Message] cannot fail.
        try! encode(messages)
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
