import GRDB

/// `name` (the latest version) or `name@N`.
public struct DatasetRef: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public let version: Int?

    public init(name: String, version: Int? = nil) {
        self.name = name
        self.version = version
    }

    public init(parsing text: String) throws {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard let first = parts.first, !first.isEmpty, parts.count <= 2 else {
            throw SRLMError.invalid("'\(text)' is not a dataset reference (NAME or NAME@VERSION)")
        }
        try DatasetRef.validate(name: String(first))
        name = String(first)
        if parts.count == 2 {
            guard let v = Int(parts[1]), v >= 1 else {
                throw SRLMError.invalid("'\(text)': the version after @ must be a positive integer")
            }
            version = v
        } else {
            version = nil
        }
    }

    public static func validate(name: String) throws {
        let ok = name.unicodeScalars.allSatisfy {
            ($0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil)) || "-_.:".unicodeScalars.contains($0)
        }
        guard ok, !name.isEmpty, name.count <= 128 else {
            throw SRLMError.invalid("dataset name '\(TerminalText.escaped(name, keepingNewlinesAndTabs: false))' may hold only ASCII letters, digits, '-', '_', '.', ':'")
        }
    }

    public var description: String { version.map { "\(name)@\($0)" } ?? name }
}

/// A resolved, existing dataset version.
public struct DatasetVersion: Hashable, Sendable, Codable {
    public let id: Int64
    public let experiment: String
    public let name: String
    public let kind: ArtifactKind
    public let version: Int
    public let parentID: Int64?
    public let runID: Int64?
    public let rowCount: Int
    public let contentHash: String
    public let created: String

    public var ref: String { "\(name)@\(version)" }

    static let select = """
        SELECT v.id, e.name AS experiment, d.name, d.kind, v.version, v.parent_id, v.run_id, v.row_count,
               v.content_hash, v.created
        FROM dataset_version v JOIN dataset d ON d.id = v.dataset_id JOIN experiment e ON e.id = d.experiment_id
        """

    init(row: Row) throws {
        id = row["id"]
        experiment = row["experiment"]
        name = row["name"]
        let kindName: String = row["kind"]
        guard let kind = ArtifactKind(rawValue: kindName) else { throw SRLMError.invalid("unknown kind \(kindName)") }
        self.kind = kind
        version = row["version"]
        parentID = row["parent_id"]
        runID = row["run_id"]
        rowCount = row["row_count"]
        contentHash = row["content_hash"]
        created = row["created"]
    }

    /// Resolves `name` / `name@N` within an experiment.
    public static func resolve(_ db: Database, _ ref: DatasetRef, experiment: String) throws -> DatasetVersion {
        var sql = select + " WHERE e.name = ? AND d.name = ?"
        var args: StatementArguments = [experiment, ref.name]
        if let v = ref.version {
            sql += " AND v.version = ?"
            args += [v]
        }
        sql += " ORDER BY v.version DESC LIMIT 1"
        guard let row = try Row.fetchOne(db, sql: sql, arguments: args) else { throw try missing(db, ref, experiment: experiment) }
        return try DatasetVersion(row: row)
    }

    /// The error for a ref that names nothing, listing what there is: the experiments, the experiment's datasets, or
    /// the dataset's versions.
    static func missing(_ db: Database, _ ref: DatasetRef, experiment: String) throws -> SRLMError {
        let experimentID = try Experiment.requireID(db, experiment)
        let versions = try Int.fetchAll(db, sql: """
            SELECT v.version FROM dataset_version v JOIN dataset d ON d.id = v.dataset_id
            WHERE d.experiment_id = ? AND d.name = ? ORDER BY v.version
            """, arguments: [experimentID, ref.name])
        if !versions.isEmpty {
            return .notFound("dataset \(ref) has no such version in experiment '\(experiment)'; versions: "
                             + versions.map { "\(ref.name)@\($0)" }.joined(separator: ", "))
        }
        let names = try String.fetchAll(db, sql: "SELECT name FROM dataset WHERE experiment_id = ? ORDER BY name", arguments: [experimentID])
        let listed = names.prefix(30).joined(separator: ", ") + (names.count > 30 ? ", … (\(names.count - 30) more)" : "")
        return .notFound("no dataset '\(ref.name)' in experiment '\(experiment)'; "
                         + (names.isEmpty ? "it has no datasets yet" : "datasets: " + listed))
    }

    public static func resolve(_ db: Database, _ text: String, experiment: String) throws -> DatasetVersion {
        try resolve(db, DatasetRef(parsing: text), experiment: experiment)
    }

    public static func byID(_ db: Database, _ id: Int64) throws -> DatasetVersion {
        guard let row = try Row.fetchOne(db, sql: select + " WHERE v.id = ?", arguments: [id]) else {
            throw SRLMError.notFound("no dataset version with id \(id)")
        }
        return try DatasetVersion(row: row)
    }

    /// Every version, optionally of one experiment, by experiment, name and version.
    public static func all(_ db: Database, experiment: String? = nil) throws -> [DatasetVersion] {
        var sql = select
        var args: StatementArguments = []
        if let experiment {
            sql += " WHERE e.name = ?"
            args += [experiment]
        }
        sql += " ORDER BY e.name, d.name, v.version"
        return try Row.fetchAll(db, sql: sql, arguments: args).map(DatasetVersion.init(row:))
    }
}
