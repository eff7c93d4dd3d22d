import Foundation
import Synchronization

/// SHA-256 of files on disk (model weights: hundreds of MB), streamed in 4 MiB reads. Results are cached per process
/// by (path, size, modification time), so registering the same base in many stores hashes it once.
public enum FileDigest {
    private struct Key: Hashable { let path: String; let size: Int64; let modified: Double }
    private static let cache = Mutex<[Key: String]>([:])

    /// Every regular file under `folder` (recursively) with its size: what a run folder's copy, bundle and
    /// collection count.
    public static func regularFiles(under folder: String) -> [(url: URL, size: Int64)] {
        var files: [(url: URL, size: Int64)] = []
        let keys: [URLResourceKey] = [.isRegularFileKey, .fileSizeKey]
        let enumerator = FileManager.default.enumerator(at: URL(fileURLWithPath: folder), includingPropertiesForKeys: keys)
        while let url = enumerator?.nextObject() as? URL {
            guard let values = try? url.resourceValues(forKeys: Set(keys)), values.isRegularFile == true else { continue }
            files.append((url, Int64(values.fileSize ?? 0)))
        }
        return files
    }

    /// (hex SHA-256, size in bytes) of a regular file.
    public static func sha256(_ path: String) throws -> (sha256: String, size: Int64) {
        let attributes: [FileAttributeKey: Any]
        do { attributes = try FileManager.default.attributesOfItem(atPath: path) } catch {
            throw SRLMError.notFound("cannot read \(path): \(error.localizedDescription)")
        }
        guard attributes[.type] as? FileAttributeType == .typeRegular else {
            throw SRLMError.invalid("\(path) is not a regular file")
        }
        let size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
        let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let key = Key(path: path, size: size, modified: modified)
        if let hit = cache.withLock({ $0[key] }) { return (hit, size) }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw SRLMError.notFound("cannot open \(path)") }
        defer { try? handle.close() }
        var hasher = Hasher256()
        var total: Int64 = 0
        while true {
            let chunk = try handle.read(upToCount: 4 << 20) ?? Data()
            if chunk.isEmpty { break }
            hasher.update(chunk)
            total += Int64(chunk.count)
        }
        guard total == size else { throw SRLMError.invalid("\(path) changed while it was hashed (\(size) → \(total) bytes)") }
        let hex = hasher.finish().hex
        cache.withLock { $0[key] = hex }
        return (hex, size)
    }

    /// Weight files: what identifies a model (configs and tokenizers are small and follow the weights).
    public static let weightExtensions = ["safetensors", "bin", "gguf"]

    /// The weight files directly inside `directory` (not in subfolders), hashed, sorted by name, as `format`.
    public static func weightFiles(in directory: String, format: CheckpointFormat) throws -> [CheckpointFile] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw SRLMError.notFound("cannot list \(directory): \(error.localizedDescription)")
        }
        let weights = names.filter { weightExtensions.contains(URL(fileURLWithPath: $0).pathExtension) && !isTrainerState($0) }.sorted()
        guard !weights.isEmpty else {
            throw SRLMError.invalid("\(directory) holds no weight files (\(weightExtensions.map { "*." + $0 }.joined(separator: ", ")))")
        }
        return try weights.map { name in
            let path = URL(fileURLWithPath: directory).appendingPathComponent(name).standardizedFileURL.path
            let digest = try sha256(path)
            return CheckpointFile(path: path, format: format, sha256: digest.sha256, size: digest.size)
        }
    }

    /// Trainer's own .bin files (its arguments, optimizer and RNG state) sit beside the weights but are not weights.
    static func isTrainerState(_ name: String) -> Bool {
        ["training_args", "optimizer", "scheduler", "rng_state", "scaler"].contains { name.hasPrefix($0) }
    }

    /// One file as a checkpoint file of `format`.
    public static func file(_ path: String, format: CheckpointFormat) throws -> CheckpointFile {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        let digest = try sha256(absolute)
        return CheckpointFile(path: absolute, format: format, sha256: digest.sha256, size: digest.size)
    }
}
