import Foundation
import SRLMStore

/// Checkpoints as models: `M0` registered on first use, names as `--model`, GGUF conversion recorded as a file of
/// the same checkpoint.
public enum CheckpointModels {
    /// The base every experiment starts from unless the user registers their own `M0`.
    public static let defaultBase = "M0"

    /// The Hugging Face folder of the default base, made by engines/setup.sh from the SmolLM2 GGUF.
    public static func defaultBaseFolder(_ home: EngineHome) -> String {
        home.models.appendingPathComponent("SmolLM2-135M-Instruct-hf").path
    }

    /// The checkpoint of that name; `M0`, when the experiment has none, is registered from the model `make setup`
    /// installs (HF folder + its GGUF).
    public static func resolve(_ store: Store, experiment: String, name: String, home: EngineHome? = nil) throws -> Checkpoint {
        if let found = try store.read({ try Checkpoints.find($0, experiment: experiment, name: name) }) { return found }
        if name == defaultBase {
            let home = try home ?? EngineHome.locate()
            return try add(store, experiment: experiment, name: name, hf: defaultBaseFolder(home), gguf: home.defaultGGUF)
        }
        return try store.read { try Checkpoints.resolve($0, experiment: experiment, name: name) }
    }

    /// Registers a model that was not trained here: a Hugging Face folder (trainable) and/or a GGUF (servable).
    /// Weight files are hashed before the write transaction, so a slow hash never holds the store's write lock.
    @discardableResult
    public static func add(_ store: Store, experiment: String, name: String, hf: String?, gguf: String?,
                           base: String? = nil) throws -> Checkpoint {
        try Checkpoints.validate(name: name)
        guard hf != nil || gguf != nil else { throw SRLMError.invalid("checkpoint '\(name)': give a Hugging Face folder, a GGUF file, or both") }
        var files: [CheckpointFile] = []
        var uri: String?
        if let hf {
            let folder = URL(fileURLWithPath: hf).standardizedFileURL.path
            guard FileManager.default.fileExists(atPath: folder + "/config.json") else {
                throw SRLMError.invalid("\(folder) is not a Hugging Face model folder (no config.json)"
                                         + (name == defaultBase ? ": run `make setup` (engines/setup.sh)" : ""))
            }
            files += try FileDigest.weightFiles(in: folder, format: .hf)
            uri = folder
        }
        if let gguf {
            guard gguf.hasSuffix(".gguf") else { throw SRLMError.invalid("\(gguf): a GGUF file's name ends in .gguf") }
            let file = try FileDigest.file(gguf, format: .gguf)
            files.append(file)
            uri = uri ?? file.path
        }
        return try store.write { db in
            let baseID = try base.map { try Checkpoints.resolve(db, experiment: experiment, name: $0).id }
            return try Checkpoints.register(db, experiment: experiment, NewCheckpoint(name: name, uri: uri!, baseID: baseID, files: files))
        }
    }

    /// The checkpoint's Hugging Face folder (what training and conversion start from), if it has one.
    public static func hfFolder(_ checkpoint: Checkpoint) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: checkpoint.uri, isDirectory: &isDirectory), isDirectory.boolValue,
              FileManager.default.fileExists(atPath: checkpoint.uri + "/config.json") else { return nil }
        return checkpoint.uri
    }

    /// `--model VALUE` for a local server: an existing .gguf file, else the GGUF of the checkpoint named VALUE.
    /// Returns the file and the label tables show (the file name, or the checkpoint name).
    public static func localModel(_ value: String, experiment: String, store: () throws -> Store) throws -> (gguf: String, label: String) {
        let isFile = FileManager.default.fileExists(atPath: value)
        if value.hasSuffix(".gguf") && isFile { return (value, URL(fileURLWithPath: value).lastPathComponent) }
        guard (try? Checkpoints.validate(name: value)) != nil else {
            if isFile { return (value, URL(fileURLWithPath: value).lastPathComponent) }
            throw SRLMError.notFound("model \(value): no such file, and not a checkpoint name")
        }
        let opened = try store()
        let checkpoint: Checkpoint
        do {
            checkpoint = try resolve(opened, experiment: experiment, name: value)
        } catch {
            if isFile { return (value, URL(fileURLWithPath: value).lastPathComponent) }
            throw SRLMError.notFound("model \(value): no such file, and \(error)")
        }
        guard let gguf = checkpoint.gguf else {
            throw SRLMError.notFound("checkpoint '\(checkpoint.name)' has no GGUF file to serve: `srlm train ...` converts "
                                      + "what it trains (unless --gguf none); convert it now with `srlm checkpoint convert \(checkpoint.name)`")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: gguf.path)[.size] as? NSNumber)?.int64Value
        guard let size else {
            // The weights may still be there (only the converted file went); a run folder deleted whole cannot be
            // rebuilt, and a resumed loop would otherwise stop here with nothing to do about it.
            throw SRLMError.notFound("checkpoint '\(checkpoint.name)': its GGUF \(gguf.path) is missing; " + (hfFolder(checkpoint) != nil
                ? "convert it again from its weights with `srlm checkpoint convert \(checkpoint.name)`"
                : "its weights \(checkpoint.uri) are gone too: restore them, or remove what made it (`srlm rm --round N` "
                  + "for a loop's round) and run that again"))
        }
        guard size == gguf.size else {
            throw SRLMError.invalid("checkpoint '\(checkpoint.name)': \(gguf.path) is \(size) bytes, registered as \(gguf.size): "
                                     + "the file changed; convert again with `srlm checkpoint convert \(checkpoint.name)`")
        }
        return (gguf.path, checkpoint.name)
    }

    /// Where a checkpoint's GGUF goes by default: beside its Hugging Face folder, `FOLDER.TYPE.gguf`.
    public static func defaultGGUFPath(hfFolder: String, type: GGUFType) -> String {
        URL(fileURLWithPath: hfFolder).standardizedFileURL.path + ".\(type.rawValue).gguf"
    }

    /// Converts the checkpoint's Hugging Face folder to GGUF and registers the file (format gguf) on it.
    @discardableResult
    public static func convert(_ store: Store, experiment: String, name: String, type: GGUFType = .q8_0, output: String? = nil,
                               home: EngineHome, echo: Bool) throws -> (checkpoint: Checkpoint, conversion: GGUFConversion) {
        let checkpoint = try resolve(store, experiment: experiment, name: name, home: home)
        guard let folder = hfFolder(checkpoint) else {
            throw SRLMError.invalid("checkpoint '\(name)' has no Hugging Face folder to convert (its uri is \(checkpoint.uri))")
        }
        let out = output ?? defaultGGUFPath(hfFolder: folder, type: type)
        let conversion = try GGUFConverter.convert(source: folder, output: out, type: type, home: home,
                                                   logPath: out + ".log", echo: echo)
        let file = try FileDigest.file(conversion.output, format: .gguf)
        let updated = try store.write { db in
            try Checkpoints.addFiles(db, checkpoint: checkpoint.id, [file])
            return try Checkpoints.byID(db, checkpoint.id)
        }
        return (updated, conversion)
    }
}
