import Foundation

/// An OpenAI-compatible server: llama.cpp, vLLM, SGLang, Ollama or a hosted API.
public struct Endpoint: Hashable, Sendable, Codable {
    public enum Flavor: String, Codable, Sendable, CaseIterable {
        /// llama.cpp's server: GBNF in `grammar`.
        case llamacpp
        /// vLLM/SGLang: `structured_outputs` with a regex.
        case vllm
        /// Anything else: no output constraints.
        case openai
    }

    public var baseURL: String
    /// The `model` field sent in requests (vLLM's served name; llama.cpp ignores it).
    public var modelName: String
    public var flavor: Flavor
    /// Name of the environment variable holding the API key. The key itself is never stored or logged.
    public var apiKeyEnv: String?
    /// llama.cpp only: false stops the server reusing a cached prompt prefix, which changes the numerics (the same
    /// seed then gives another text). Not part of the journal key: it changes how an answer is computed, not what
    /// was asked.
    public var cachePrompt: Bool?

    public init(baseURL: String, modelName: String = "default", flavor: Flavor = .llamacpp, apiKeyEnv: String? = nil) {
        var url = baseURL
        while url.hasSuffix("/") { url.removeLast() }
        if url.hasSuffix("/v1") { url.removeLast(3) }
        self.baseURL = url
        self.modelName = modelName
        self.flavor = flavor
        self.apiKeyEnv = apiKeyEnv
    }

    var apiKey: String? {
        apiKeyEnv.flatMap { ProcessInfo.processInfo.environment[$0] }.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The request body in this server's dialect.
    public func body(for request: ChatRequest) throws -> Data {
        var body: [String: Any] = [
            "model": modelName,
            "messages": request.messages.map { ["role": $0.role, "content": $0.content] },
            "temperature": request.temperature,
            "top_p": request.topP,
            "max_tokens": request.maxTokens,
            "seed": request.seed,
            "n": 1,
            "stream": false,
        ]
        if !request.stop.isEmpty { body["stop"] = request.stop }
        if flavor == .llamacpp, let cachePrompt { body["cache_prompt"] = cachePrompt }
        if let constraint = request.constraint {
            switch flavor {
            case .llamacpp: body["grammar"] = constraint.gbnf
            case .vllm: body["structured_outputs"] = ["regex": constraint.regex]
            case .openai: break
            }
        }
        return try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
    }
}
