import ArgumentParser
import Foundation
import SRLMEngines
import SRLMStore

/// How a stage reaches its model: a local GGUF (srlm runs llama.cpp's server) or OpenAI-compatible endpoints.
struct ModelOptions: ParsableArguments {
    @Option(help: "A .gguf file, or a checkpoint name (M0, SFT, M1, ...: its GGUF), to serve locally with llama.cpp (default: the SmolLM2 model from `make setup`).")
    var model: String?

    @Option(help: "An OpenAI-compatible server (llama.cpp, vLLM, Ollama, SGLang, hosted); repeat to spread requests.")
    var endpoint: [String] = []

    @Option(help: "The `model` name sent to --endpoint servers.")
    var servedModel = "default"

    @Option(help: "Identity of the endpoint's weights for the journal key (default: the served model name).")
    var weightsID: String?

    @Option(help: "Environment variable holding the endpoint's API key (the key is never stored).")
    var apiKeyEnv: String?

    @Option(help: "Endpoint dialect for constrained output: llamacpp, vllm or openai.")
    var flavor: String = "llamacpp"

    @OptionGroup var server: ServerOptions

    @Option(help: "Concurrent requests (default: the server's slots).")
    var concurrency: Int?

    @Flag(help: "Bit-reproducible answers from llama.cpp: one request at a time, no prompt-cache reuse (slower). Without it the same seed can give another text when requests share a batch or a cached prefix; the journal keeps a store's answers either way.")
    var reproducible = false

    @Flag(help: "No server: every answer must already be in the journal (after `srlm batch import`); needs --weights-id.")
    var offline = false

    @Option(help: "Retries per call on errors, 429, 5xx and timeouts.")
    var retries = 5

    @Option(help: "Per-call timeout, seconds.")
    var timeout: Double = 300

    /// `store` opens the store only when --model names a checkpoint.
    func spec(experiment: String, store: () throws -> Store) throws -> ModelSpec {
        if reproducible, let concurrency, concurrency > 1 {
            throw ValidationError("--reproducible sends one request at a time: drop --concurrency \(concurrency)")
        }
        var spec = try baseSpec(experiment: experiment, store: store)
        spec.reproducible = reproducible
        return spec
    }

    private func baseSpec(experiment: String, store: () throws -> Store) throws -> ModelSpec {
        if offline {
            guard let weightsID else { throw ValidationError("--offline needs --weights-id (the identity the batch was exported with)") }
            return ModelSpec(endpoints: [], weightsID: weightsID, label: try checkpointName(weightsID, experiment: experiment, store: store))
        }
        if !endpoint.isEmpty {
            for url in endpoint where URL(string: url)?.scheme.map({ ["http", "https"].contains($0.lowercased()) }) != true {
                throw ValidationError("--endpoint \"\(url)\" is not an http(s) URL (e.g. http://127.0.0.1:8080/v1)")
            }
            guard let flavor = Endpoint.Flavor(rawValue: flavor) else {
                throw ValidationError("--flavor must be one of \(Endpoint.Flavor.allCases.map(\.rawValue))")
            }
            return ModelSpec(endpoints: endpoint.map { Endpoint(baseURL: $0, modelName: servedModel, flavor: flavor, apiKeyEnv: apiKeyEnv) },
                             weightsID: weightsID, label: try checkpointName(weightsID, experiment: experiment, store: store))
        }
        guard let model else {
            return server.spec(gguf: try EngineHome.locate().defaultGGUF)
        }
        let local = try CheckpointModels.localModel(model, experiment: experiment, store: store)
        return server.spec(gguf: local.gguf, label: local.label)
    }

    /// A checkpoint's key (sha256:… of its GGUF) as --weights-id: runs are listed under the checkpoint's name, as
    /// its live runs are, with the key beside it. nil (the default label) for any other id.
    private func checkpointName(_ weightsID: String?, experiment: String, store: () throws -> Store) throws -> String? {
        guard let weightsID, weightsID.hasPrefix("sha256:") else { return nil }
        return try store().read { try Checkpoints.name(forModelKey: weightsID, $0, experiment: experiment) }
    }

    /// The journal identity of the model the batch file's answers will come from (batch export).
    var batchIdentity: ModelIdentity { .endpoint(weightsID: weightsID, servedModel: servedModel) }

    var batchEndpoint: Endpoint {
        Endpoint(baseURL: "http://batch", modelName: servedModel, flavor: Endpoint.Flavor(rawValue: flavor) ?? .openai)
    }

    var policy: RetryPolicy { RetryPolicy(maxAttempts: retries + 1, timeout: timeout) }

    /// Opens the model (starting a local server when needed), runs `body`, and always closes it.
    func withSession<T>(store: Store, experiment: String, _ body: (ModelSession) async throws -> T) async throws -> T {
        try await ModelSession.with(try spec(experiment: experiment, store: { store }), policy: policy, body)
    }
}

/// The shape of a local llama.cpp server: `srlm serve`, every stage that serves a GGUF, and the loop.
struct ServerOptions: ParsableArguments {
    @Option(help: "Local server slots (parallel sequences); also the default concurrency.")
    var parallel = LocalServer.Options.defaultParallel

    @Option(help: "Local server context per slot, in tokens.")
    var ctxPerSlot = LocalServer.Options.defaultContextPerSlot

    @Option(help: "Local server threads (default: all cores).")
    var threads: Int?

    func spec(gguf: String, label: String? = nil) -> ModelSpec {
        ModelSpec(gguf: gguf, label: label, parallel: parallel, contextPerSlot: ctxPerSlot, threads: threads)
    }
}
