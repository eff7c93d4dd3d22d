import Foundation
import SRLMEngines
import SRLMStore

/// A step of the loop that reads versions and writes one new version: gen-prompts, gen-candidates, judge, pairs,
/// build-eft, judge-probe and the evaluations. Each has a typed `Config` whose `init` holds the paper's defaults
/// (the CLI flags, the loop plan and the docs read them from there), and goes through one lifecycle,
/// `StageContext.perform`: plan (pure) → reuse a finished run with the same config and inputs → prepare → begin the
/// run → execute (model calls, every one journaled and required to answer) → commit the version, or fail the run.
public protocol Stage: Sendable {
    associatedtype Config: Codable & Hashable & Sendable
    /// What `plan` resolved that `execute` needs (rows, requests, templates).
    associatedtype Work: Sendable

    /// The run's stage name (`run.stage`).
    static var name: String { get }
    var config: Config { get }

    /// Pure: resolves the inputs and the config the run records, for the model that would answer (nil: a stage
    /// without a model, or a model not known yet). Reads the store; never writes.
    func plan(_ context: StageContext, model: ModelIdentity?) throws -> StagePlan<Config, Work>

    /// Writes what the run needs before it starts (e.g. registers its judge template). Default: nothing.
    func prepare(_ plan: inout StagePlan<Config, Work>, _ context: StageContext) throws

    /// Does the work inside an open run and returns the rows to commit with their stats.
    func execute(_ plan: StagePlan<Config, Work>, _ run: StageRun) async throws -> StageOutput
}

extension Stage {
    public func prepare(_ plan: inout StagePlan<Config, Work>, _ context: StageContext) throws {}
}

/// A stage whose calls are all known before it runs: `srlm batch export` writes them for offline inference.
public protocol BatchableStage: Stage {
    static func requests(_ work: Work) -> [ChatRequest]
}

/// A stage's resolved plan: the config as recorded (hashed for reuse), the versions read, where the output goes,
/// and the stage's own work.
public struct StagePlan<Config: Codable & Hashable & Sendable, Work: Sendable>: Sendable {
    public var config: Config
    public var inputs: [DatasetVersion]
    public var destination: RunLifecycle.Destination
    public var seed: Int64?
    public var work: Work

    public init(config: Config, inputs: [DatasetVersion], destination: RunLifecycle.Destination, seed: Int64?, work: Work) {
        self.config = config
        self.inputs = inputs
        self.destination = destination
        self.seed = seed
        self.work = work
    }
}

/// What `execute` hands back: the run's stats (kept/dropped with reasons, ...) and the rows of its version.
public struct StageOutput {
    public var stats: [String: Any]
    public var rows: (VersionWriter) throws -> Void

    public init(stats: [String: Any], rows: @escaping (VersionWriter) throws -> Void) {
        self.stats = stats
        self.rows = rows
    }
}

/// Result of a stage: the version it wrote (or reused) and what it counted (a reused run's recorded numbers).
public struct StageResult: Sendable {
    public let version: DatasetVersion
    public let runID: Int64
    public let reused: Bool
    public let stats: [String: Double]
}

/// Sampling settings shared by the generating stages; each stage's Config holds its paper defaults.
public struct Sampling: Codable, Hashable, Sendable {
    public var temperature: Double
    public var topP: Double
    public var maxTokens: Int
    public var seed: Int64

    public init(temperature: Double, topP: Double, maxTokens: Int, seed: Int64 = 0) {
        self.temperature = temperature
        self.topP = topP
        self.maxTokens = maxTokens
        self.seed = seed
    }
}
