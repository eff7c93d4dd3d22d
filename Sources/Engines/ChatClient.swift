import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// Retries with exponential backoff on connection errors, timeouts, 429 (honouring Retry-After), 5xx and garbage.
public struct RetryPolicy: Sendable, Codable, Hashable {
    public var maxAttempts: Int = 5
    public var baseDelay: Double = 0.5
    public var maxDelay: Double = 30
    /// Per-call timeout in seconds.
    public var timeout: Double = 300

    public init(maxAttempts: Int = 5, baseDelay: Double = 0.5, maxDelay: Double = 30, timeout: Double = 300) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.timeout = timeout
    }

    func delay(afterAttempt attempt: Int) -> Double {
        let exponential = min(maxDelay, baseDelay * pow(2, Double(attempt - 1)))
        return exponential * Double.random(in: 0.8...1.2)
    }
}

/// An OpenAI-compatible chat client over AsyncHTTPClient; requests are spread round-robin over the endpoints.
public final class ChatClient: Sendable {
    public let endpoints: [Endpoint]
    public let policy: RetryPolicy
    private let http: HTTPClient
    private let next = Mutex(0)

    /// With no endpoints the client is offline: every call fails at once (answers come from the journal, e.g. after
    /// `srlm batch import`).
    public init(endpoints: [Endpoint], policy: RetryPolicy = RetryPolicy(), maxConnections: Int = 16) {
        self.endpoints = endpoints
        self.policy = policy
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60),
                                             concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, maxConnections))
        configuration.timeout = .init(connect: .seconds(10))
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func shutdown() async {
        try? await http.shutdown()
    }

    private func pickEndpoint() -> Endpoint {
        let i = next.withLock { value -> Int in
            defer { value &+= 1 }
            return value
        }
        return endpoints[i % endpoints.count]
    }

    /// Makes the call, retrying what is worth retrying; a failure carries its last error and attempt count.
    public func complete(_ request: ChatRequest) async -> Result<ChatResponse, CallFailure> {
        if endpoints.isEmpty {
            return .failure(CallFailure(message: "offline: this answer is not in the journal (`srlm batch export`, then `srlm batch import`)",
                                        attempts: 0))
        }
        var lastError = "no attempt made"
        for attempt in 1...max(1, policy.maxAttempts) {
            let endpoint = pickEndpoint()
            let outcome = await attemptOnce(request, endpoint: endpoint)
            switch outcome {
            case .success(var response):
                response.attempts = attempt
                return .success(response)
            case .fatal(let message):
                return .failure(CallFailure(message: message, attempts: attempt))
            case .retry(let message, let retryAfter):
                lastError = message
                if attempt == policy.maxAttempts { break }
                let wait = retryAfter.map { min($0, policy.maxDelay * 4) } ?? policy.delay(afterAttempt: attempt)
                try? await Task.sleep(for: .milliseconds(Int(wait * 1000)))
                if Task.isCancelled { return .failure(CallFailure(message: "cancelled", attempts: attempt)) }
            }
        }
        return .failure(CallFailure(message: lastError, attempts: policy.maxAttempts))
    }

    enum Attempt {
        case success(ChatResponse)
        case retry(String, retryAfter: Double?)
        case fatal(String)
    }

    private func attemptOnce(_ request: ChatRequest, endpoint: Endpoint) async -> Attempt {
        let started = ContinuousClock.now
        var http = HTTPClientRequest(url: endpoint.baseURL + "/v1/chat/completions")
        http.method = .POST
        http.headers.add(name: "Content-Type", value: "application/json")
        if let key = endpoint.apiKey { http.headers.add(name: "Authorization", value: "Bearer \(key)") }
        do {
            http.body = .bytes(ByteBuffer(bytes: try endpoint.body(for: request)))
        } catch {
            return .fatal("cannot encode the request: \(error)")
        }
        do {
            let response = try await self.http.execute(http, timeout: .milliseconds(Int64(policy.timeout * 1000)))
            let body = try await response.body.collect(upTo: 64 << 20)
            let status = response.status.code
            if status == 429 || status >= 500 {
                let retryAfter = response.headers.first(name: "Retry-After").flatMap(Double.init)
                return .retry("HTTP \(status) from \(endpoint.baseURL)", retryAfter: retryAfter)
            }
            guard status == 200 else {
                let text = String(buffer: body).prefix(300)
                // Say which key was tried (never the key itself): a hosted judge's usual first failure.
                let key = status != 401 && status != 403 ? ""
                    : endpoint.apiKeyEnv.map { endpoint.apiKey == nil ? " ($\($0) is unset or empty: no API key was sent)" : " (the key in $\($0) was refused)" }
                        ?? " (no API key was sent: none was named)"
                return .fatal("HTTP \(status) from \(endpoint.baseURL)\(key): \(text)")
            }
            let latency = (ContinuousClock.now - started)
            let ms = Double(latency.components.seconds) * 1000 + Double(latency.components.attoseconds) / 1e15
            return Self.parse(Data(body.readableBytesView), latencyMs: ms).map { .success($0) }
                ?? .retry("malformed answer from \(endpoint.baseURL): \(String(buffer: body).prefix(120))", retryAfter: nil)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            return .retry("timed out after \(policy.timeout) s at \(endpoint.baseURL)", retryAfter: nil)
        } catch {
            return .retry("\(endpoint.baseURL): \(error)", retryAfter: nil)
        }
    }

    /// Reads choices[0].message.content, finish_reason and usage; nil when the body is not such an answer.
    public static func parse(_ body: Data, latencyMs: Double) -> ChatResponse? {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
              let choices = object["choices"] as? [[String: Any]], let first = choices.first,
              let message = first["message"] as? [String: Any], let content = message["content"] as? String
        else { return nil }
        let usage = object["usage"] as? [String: Any]
        return ChatResponse(text: content, finishReason: first["finish_reason"] as? String,
                            promptTokens: usage?["prompt_tokens"] as? Int,
                            completionTokens: usage?["completion_tokens"] as? Int, latencyMs: latencyMs)
    }
}
