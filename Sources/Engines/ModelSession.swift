import Foundation
import SRLMStore

/// Which model a stage talks to: a local GGUF file (srlm starts and stops llama.cpp's server for it) or running
/// OpenAI-compatible endpoints (requests spread over them).
public struct ModelSpec: Sendable, Codable, Hashable {
    /// A .gguf path for a local server; nil when `endpoints` are given.
    public var gguf: String?
    public var endpoints: [Endpoint]
    /// The weights' identity for the journal key. Local: "sha256:<file hash>". Endpoints: `--weights-id`, else the
    /// served model name (llama.cpp reports the file path as id, so a hash is the only safe key for local files).
    public var weightsID: String?
    /// Name shown in tables (checkpoint name, file name or served model name).
    public var label: String
    public var server: LocalServer.Options?

    public init(gguf: String, label: String? = nil, parallel: Int = 4, contextPerSlot: Int = 4096, threads: Int? = nil) {
        self.gguf = gguf
        self.endpoints = []
        self.weightsID = nil
        self.label = label ?? URL(fileURLWithPath: gguf).lastPathComponent
        self.server = LocalServer.Options(model: gguf, parallel: parallel, contextPerSlot: contextPerSlot, threads: threads)
    }

    public init(endpoints: [Endpoint], weightsID: String?, label: String? = nil) {
        self.gguf = nil
        self.endpoints = endpoints
        self.weightsID = weightsID
        self.label = label ?? endpoints.first?.modelName ?? "endpoint"
        self.server = nil
    }
}

/// An open model: a client, the journal key of its weights, and (for local files) the running server.
public final class ModelSession: @unchecked Sendable {
    public let spec: ModelSpec
    public let client: ChatClient
    public let modelKey: String
    public let provenance: [String: Any]
    /// Default concurrency: the server's slots (local) or 4 per endpoint.
    public let slots: Int
    private let server: LocalServer?

    private init(spec: ModelSpec, client: ChatClient, modelKey: String, provenance: [String: Any], slots: Int, server: LocalServer?) {
        self.spec = spec
        self.client = client
        self.modelKey = modelKey
        self.provenance = provenance
        self.slots = slots
        self.server = server
    }

    public static func open(_ spec: ModelSpec, policy: RetryPolicy = RetryPolicy()) throws -> ModelSession {
        if let options = spec.server {
            let server = LocalServer(options: options)
            let ready = try server.start(home: try EngineHome.locate())
            let endpoint = server.endpoint!
            return ModelSession(spec: spec, client: ChatClient(endpoints: [endpoint], policy: policy, maxConnections: options.parallel * 2),
                                modelKey: "sha256:" + ready.model_sha256, provenance: server.provenance,
                                slots: options.parallel, server: server)
        }
        guard !spec.endpoints.isEmpty || spec.weightsID != nil else {
            throw EngineError.setup("no model: give --model FILE.gguf or --endpoint URL")
        }
        if spec.endpoints.isEmpty {  // offline: answers come from the journal only
            return ModelSession(spec: spec, client: ChatClient(endpoints: [], policy: policy), modelKey: spec.weightsID!,
                                provenance: ["engine": "offline", "weights_id": spec.weightsID!], slots: 1, server: nil)
        }
        let key = spec.weightsID ?? "served:" + (spec.endpoints.first?.modelName ?? "default")
        let provenance: [String: Any] = ["engine": "openai-compatible",
                                         "endpoints": spec.endpoints.map(\.baseURL),
                                         "served_model": spec.endpoints.first?.modelName ?? "",
                                         "weights_id": key]
        return ModelSession(spec: spec, client: ChatClient(endpoints: spec.endpoints, policy: policy, maxConnections: 64),
                            modelKey: key, provenance: provenance, slots: 4 * spec.endpoints.count, server: nil)
    }

    /// Opens the model (starting a local server when needed), runs `body`, and closes it whether `body` succeeds
    /// or throws.
    public static func with<T>(_ spec: ModelSpec, policy: RetryPolicy = RetryPolicy(),
                               _ body: (ModelSession) async throws -> T) async throws -> T {
        let session = try open(spec, policy: policy)
        do {
            let result = try await body(session)
            await session.close()
            return result
        } catch {
            await session.close()
            throw error
        }
    }

    /// Stops the client and the local server, if any.
    public func close() async {
        await client.shutdown()
        server?.stop()
    }
}
