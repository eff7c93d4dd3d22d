import Foundation
import GRDB

/// A version's columns as values, for summaries that compare the data of two versions (`srlm diff --summary`): each
/// text column's texts (a message list's last message, or the text itself) and blob ids, and each number column.
public struct VersionColumns: Sendable {
    public let version: DatasetVersion
    public var texts: [String: [String?]] = [:]
    public var blobs: [String: [BlobID?]] = [:]
    public var numbers: [String: [Double?]] = [:]
    public var rows: Int { version.rowCount }

    public static func read(_ store: Store, _ version: DatasetVersion) throws -> VersionColumns {
        let kind = version.kind
        var out = VersionColumns(version: version)
        let wanted = kind.columns.filter { [.blob, .int, .real].contains($0.kind) && !["template", "source_run_id", "seed", "max_tokens", "sample_index", "temperature", "top_p"].contains($0.name) }
        try store.read { db in
            let sql = "SELECT \(wanted.map(\.name).joined(separator: ", ")) FROM \(kind.table) WHERE version_id = ? ORDER BY ord"
            var cache: [BlobID: String] = [:]
            for row in try Row.fetchAll(db, sql: sql, arguments: [version.id]) {
                for (i, column) in wanted.enumerated() {
                    switch column.kind {
                    case .blob:
                        let id: BlobID? = row[i]
                        out.blobs[column.name, default: []].append(id)
                        out.texts[column.name, default: []].append(try id.map { id in
                            if let text = cache[id] { return text }
                            let text = Self.content(try BlobReader.data(db, id))
                            cache[id] = text
                            return text
                        })
                    default:
                        out.numbers[column.name, default: []].append(row[i] as Double?)
                    }
                }
            }
        }
        return out
    }

    /// A stored message list's last message, or the stored text as it is.
    static func content(_ data: Data) -> String {
        (try? CanonicalJSON.decodeMessages(data).lastContent) ?? String(decoding: data, as: UTF8.self)
    }
}
