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
    /// Bit-reproducible answers (llama.cpp): one request at a time, no prompt-cache reuse. llama.cpp's numerics
    /// depend on the batch a request shares and on a cached prefix, so the same seed can otherwise give another text.
    public var reproducible = false

    public init(gguf: String, label: String? = nil, parallel: Int = LocalServer.Options.defaultParallel,
                contextPerSlot: Int = LocalServer.Options.defaultContextPerSlot, threads: Int? = nil) {
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
        self.label = label ?? weightsID ?? endpoints.first?.modelName ?? "endpoint"
        self.server = nil
    }
}

extension ModelSpec {
    /// The endpoints, provenance and slots a session uses: as given, or for `reproducible` without llama.cpp's
    /// prompt cache, one request at a time, and marked so in the provenance.
    func reproducibly(_ endpoints: [Endpoint], _ provenance: [String: Any], slots: Int) -> ([Endpoint], [String: Any], Int) {
        guard reproducible else { return (endpoints, provenance, slots) }
        var provenance = provenance
        provenance["reproducible"] = true
        return (endpoints.map { var e = $0; e.cachePrompt = false; return e }, provenance, 1)
    }
}

/// An open model: a client, the journal key of its weights, and (for local files) the running server.
public final class ModelSession: @unchecked Sendable {
    public let spec: ModelSpec
    public let client: ChatClient
    public let identity: ModelIdentity
    /// The journal key of the weights.
    public var modelKey: String { identity.key }
    public let provenance: [String: Any]
    /// Default concurrency: the server's slots (local) or 4 per endpoint.
    public let slots: Int
    private let server: LocalServer?

    private init(spec: ModelSpec, client: ChatClient, identity: ModelIdentity, provenance: [String: Any], slots: Int, server: LocalServer?) {
        self.spec = spec
        self.client = client
        self.identity = identity
        self.provenance = provenance
        self.slots = slots
        self.server = server
    }

    public static func open(_ spec: ModelSpec, policy: RetryPolicy = RetryPolicy()) throws -> ModelSession {
        if let options = spec.server {
            let server = LocalServer(options: options)
            let ready = try server.start(home: try EngineHome.locate())
            let (endpoints, provenance, slots) = spec.reproducibly([server.endpoint!], server.provenance, slots: options.parallel)
            return ModelSession(spec: spec, client: ChatClient(endpoints: endpoints, policy: policy, maxConnections: options.parallel * 2),
                                identity: .local(label: spec.label, sha256: ready.model_sha256), provenance: provenance,
                                slots: slots, server: server)
        }
        guard !spec.endpoints.isEmpty || spec.weightsID != nil else {
            throw SRLMError.setup("no model: neither a GGUF file to serve nor an endpoint")
        }
        let identity = try spec.identity()
        if spec.endpoints.isEmpty {  // offline: answers come from the journal only
            return ModelSession(spec: spec, client: ChatClient(endpoints: [], policy: policy), identity: identity,
                                provenance: ["engine": "offline", "weights_id": identity.key], slots: 1, server: nil)
        }
        let (endpoints, provenance, slots) = spec.reproducibly(spec.endpoints, [
            "engine": "openai-compatible", "endpoints": spec.endpoints.map(\.baseURL),
            "served_model": spec.endpoints.first?.modelName ?? "", "weights_id": identity.key,
        ], slots: 4 * spec.endpoints.count)
        return ModelSession(spec: spec, client: ChatClient(endpoints: endpoints, policy: policy, maxConnections: 64),
                            identity: identity, provenance: provenance, slots: slots, server: nil)
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
