import Foundation
import GRDB
@testable import SRLMImport
@testable import SRLMStore

/// Readers the import tests use to compute expectations on their own and to read back what was stored.
extension ImportTests {
    static func jsonLines(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
    }

    static func writeJSONLines(_ objects: [Any], name: String) throws -> String {
        let lines = try objects.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }
        return TestSupport.writeTemp(lines.joined(separator: "\n") + "\n", name: name)
    }

    /// gzip's own decompression, to check the importer's zlib reading against.
    static func gunzip(_ path: String) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-dc", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return data
    }

    /// `gzip -k`: writes path.gz next to the file.
    static func gzip(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-kf", path]
        try process.run()
        process.waitUntilExit()
        return path + ".gz"
    }

    /// An HH transcript's turns, split with plain string replacement (not the importer's scanner).
    static func turns(_ transcript: String) -> [Message] {
        transcript.replacingOccurrences(of: "\n\nHuman:", with: "\u{1}user\u{2}")
            .replacingOccurrences(of: "\n\nAssistant:", with: "\u{1}assistant\u{2}")
            .split(separator: "\u{1}").map { turn in
                let parts = turn.split(separator: "\u{2}", maxSplits: 1, omittingEmptySubsequences: false)
                return Message(role: String(parts[0]), content: parts[1].trimmingCharacters(in: .whitespacesAndNewlines))
            }
    }

    static func version(_ store: Store, _ ref: String) throws -> DatasetVersion {
        try store.read { try DatasetVersion.resolve($0, ref, experiment: "default") }
    }

    /// A blob column's message lists in row order.
    static func messages(_ store: Store, _ version: DatasetVersion, _ column: String, table: String? = nil) throws -> [Messages] {
        let table = table ?? version.kind.table
        return try store.read { db in
            try String.fetchAll(db, sql: "SELECT srlm_text(\(column)) FROM \(table) WHERE version_id = ? ORDER BY ord",
                                arguments: [version.id])
        }.map { try CanonicalJSON.decodeMessages(Data($0.utf8)) }
    }

    static func hashes(_ store: Store, _ version: DatasetVersion, _ column: String) throws -> [Data] {
        try store.read { db in
            try Data.fetchAll(db, sql: "SELECT \(column) FROM \(version.kind.table) WHERE version_id = ? ORDER BY ord",
                              arguments: [version.id])
        }
    }

    /// Row counts that any write would change.
    static func counts(_ store: Store) throws -> [Int] {
        try store.read { db in
            try ["run", "dataset_version", "dataset", "blob_pack", "zstd_dict", "experiment"].map {
                try Int.fetchOne(db, sql: "SELECT count(*) FROM \($0)") ?? -1
            }
        }
    }
}
