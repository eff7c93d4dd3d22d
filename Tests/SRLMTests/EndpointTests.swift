import Foundation
import SRLMEngines
import SRLMEval
import SRLMStages
import SRLMStore
import Testing

/// What srlm sends for a reproducible session: llama.cpp's prompt cache off, one request at a time, and the same
/// journal key as without (the answer's meaning does not change, only how the server computes it).
struct EndpointTests {
    let request = ChatRequest(messages: [Message(role: "user", content: "Name a colour.")], temperature: 0.7, topP: 0.9,
                              maxTokens: 16, seed: 3)

    func body(_ endpoint: Endpoint) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: try endpoint.body(for: request)) as? [String: Any])
    }

    @Test func cachePromptIsSentOnlyToLlamaCppAndOnlyWhenSet() throws {
        var llama = Endpoint(baseURL: "http://127.0.0.1:1/v1")
        #expect(try body(llama)["cache_prompt"] == nil)
        llama.cachePrompt = false
        #expect(try body(llama)["cache_prompt"] as? Bool == false)
        var vllm = Endpoint(baseURL: "http://127.0.0.1:1/v1", flavor: .vllm)
        vllm.cachePrompt = false
        #expect(try body(vllm)["cache_prompt"] == nil)
    }

    @Test func aReproducibleSessionSendsOneRequestAtATimeWithoutThePromptCache() async throws {
        var spec = ModelSpec(endpoints: [Endpoint(baseURL: "http://127.0.0.1:1/v1"), Endpoint(baseURL: "http://127.0.0.1:2/v1")],
                             weightsID: "w")
        let plain = try ModelSession.open(spec)
        await plain.close()
        #expect(plain.slots == 8)
        #expect(plain.provenance["reproducible"] == nil)
        spec.reproducible = true
        let reproducible = try ModelSession.open(spec)
        await reproducible.close()
        #expect(reproducible.slots == 1)
        #expect(reproducible.provenance["reproducible"] as? Bool == true)
        #expect(reproducible.modelKey == plain.modelKey)
        #expect(request.hash(modelKey: reproducible.modelKey) == request.hash(modelKey: plain.modelKey))
    }
}

/// `--structured` grammars leave room for their ending: a short max-tokens shortens the justification, the default
/// keeps the 400-character bound (and so the journal keys of every stored structured call).
struct StructuredBoundTests {
    @Test func theJustificationFitsTheTokensLeft() {
        let standard = JudgeTemplate.constraint(maxTokens: 256)
        #expect(standard.gbnf == #"root ::= just "\nScore: " [0-5]"# + "\n" + #"just ::= [^\n]{20,400}"#)
        #expect(standard.regex == #"[^\n]{20,400}\nScore: [0-5]"#)
        #expect(JudgeTemplate.constraint(maxTokens: 64).gbnf.hasSuffix("{20,112}"))
        #expect(JudgeTemplate.constraint(maxTokens: 64).regex == #"[^\n]{20,112}\nScore: [0-5]"#)
        #expect(JudgeTemplate.constraint(maxTokens: 4).gbnf.hasSuffix("{20,20}"))
        #expect(PairwiseTemplate.constraint(maxTokens: 256).gbnf == #"root ::= just "\n[[" [ABC] "]]""# + "\n" + #"just ::= [^\n]{20,400}"#)
        #expect(PairwiseTemplate.constraint(maxTokens: 128).regex == #"[^\n]{20,240}\n\[\[[ABC]\]\]"#)
    }
}
