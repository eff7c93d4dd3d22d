import SRLMStore

/// How the journal and the runs know a model: the label shown in tables and the key of its weights. The one place
/// the key is derived, for a session that is open, a loop step that may be reused without opening it, and a batch
/// export.
public struct ModelIdentity: Codable, Hashable, Sendable {
    public let label: String
    public let key: String

    public init(label: String, key: String) {
        self.label = label
        self.key = key
    }

    /// A local GGUF file, keyed by its SHA-256: llama.cpp reports the path as the model id, so only a hash is safe.
    public static func local(label: String, sha256: String) -> ModelIdentity {
        ModelIdentity(label: label, key: "sha256:" + sha256)
    }

    /// Endpoints (or their offline journal): the declared weights id, else the served model's name.
    public static func endpoint(weightsID: String?, servedModel: String) -> ModelIdentity {
        ModelIdentity(label: weightsID ?? servedModel, key: weightsID ?? "served:" + servedModel)
    }
}

extension ModelSpec {
    /// The identity this spec's session will have, without starting anything (a local file is hashed).
    public func identity() throws -> ModelIdentity {
        if let gguf { return .local(label: label, sha256: try FileDigest.sha256(gguf).sha256) }
        // The spec's label: an offline checkpoint key keeps the checkpoint's name (the default is the endpoint's).
        let endpoint = ModelIdentity.endpoint(weightsID: weightsID, servedModel: endpoints.first?.modelName ?? label)
        return ModelIdentity(label: label, key: endpoint.key)
    }
}
