import Foundation
import SRLMStore

/// How to constrain an answer's shape. llama.cpp takes a GBNF `grammar`; vLLM takes `structured_outputs`.
public struct OutputConstraint: Codable, Hashable, Sendable {
    public var gbnf: String
    public var regex: String

    public init(gbnf: String, regex: String) {
        self.gbnf = gbnf
        self.regex = regex
    }
}

extension OutputConstraint {
    /// One free line of justification, then a fixed ending (a score, a verdict). The line may hold 400 characters,
    /// but no more than twice the tokens left after the ending, so that a short `maxTokens` still reaches the
    /// ending instead of being cut inside the justification (from 208 tokens up, the bound is 400).
    public static func justification(maxTokens: Int, thenGBNF ending: String, thenRegex endingRegex: String) -> OutputConstraint {
        let most = min(400, max(20, 2 * (maxTokens - 8)))
        return OutputConstraint(gbnf: "root ::= just \(ending)\njust ::= [^\\n]{20,\(most)}",
                                regex: "[^\\n]{20,\(most)}\(endingRegex)")
    }
}

/// One chat completion to make. Everything that can change the answer is here, so its hash is the journal key.
public struct ChatRequest: Codable, Hashable, Sendable {
    public var messages: Messages
    public var temperature: Double
    public var topP: Double
    public var maxTokens: Int
    public var seed: Int64
    /// Which sample of the same prompt this is (candidates 0..<N, judge samples 0..<k).
    public var sampleIndex: Int
    public var stop: [String]
    public var constraint: OutputConstraint?
    /// Version of the prompt template that built `messages` (the judge template, the self-instruct template).
    public var templateVersion: String

    public init(messages: Messages, temperature: Double, topP: Double, maxTokens: Int, seed: Int64,
                sampleIndex: Int = 0, stop: [String] = [], constraint: OutputConstraint? = nil,
                templateVersion: String = "") {
        self.messages = messages
        self.temperature = temperature
        self.topP = topP
        self.maxTokens = maxTokens
        self.seed = seed
        self.sampleIndex = sampleIndex
        self.stop = stop
        self.constraint = constraint
        self.templateVersion = templateVersion
    }

    /// Canonical JSON of the request for a model: what the journal stores and hashes.
    public func canonical(modelKey: String) -> Data {
        struct Keyed: Encodable {
            let model: String
            let request: ChatRequest
        }
        return try! CanonicalJSON.encode(Keyed(model: modelKey, request: self))
    }

    /// The journal key: the model's weights id plus every output-affecting field.
    public func hash(modelKey: String) -> ContentHash { ContentHash(of: canonical(modelKey: modelKey)) }
}

public struct ChatResponse: Codable, Hashable, Sendable {
    public var text: String
    public var finishReason: String?
    public var promptTokens: Int?
    public var completionTokens: Int?
    public var latencyMs: Double
    /// True when the answer came from the journal, not the server.
    public var fromJournal: Bool
    /// HTTP attempts it took (retries included).
    public var attempts = 1

    public init(text: String, finishReason: String?, promptTokens: Int?, completionTokens: Int?,
                latencyMs: Double, fromJournal: Bool = false) {
        self.text = text
        self.finishReason = finishReason
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.latencyMs = latencyMs
        self.fromJournal = fromJournal
    }
}

/// A call that failed after its retries; recorded, never turned into an answer.
public struct CallFailure: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public var attempts: Int
    /// Not sent at all: the stage's call budget was spent first.
    public var notSent = false
    public var description: String { notSent ? message : "\(message) (after \(attempts) attempt\(attempts == 1 ? "" : "s"))" }

    public init(message: String, attempts: Int, notSent: Bool = false) {
        self.message = message
        self.attempts = attempts
        self.notSent = notSent
    }
}

/// What a stage may spend on model calls (`--max-calls`, `--max-total-tokens`): calls sent and prompt + completion
/// tokens reported by the server; answers read back from the journal cost nothing. Once a limit is reached no new
/// call is sent (calls already in flight finish, so tokens may overshoot by what they use).
public struct CallBudget: Codable, Hashable, Sendable {
    public var maxCalls: Int?
    public var maxTotalTokens: Int?

    public init(maxCalls: Int? = nil, maxTotalTokens: Int? = nil) {
        self.maxCalls = maxCalls
        self.maxTotalTokens = maxTotalTokens
    }

    public static let unlimited = CallBudget()

    func allows(calls: Int, tokens: Int) -> Bool {
        calls < (maxCalls ?? .max) && tokens < (maxTotalTokens ?? .max)
    }
}
