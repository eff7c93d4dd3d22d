import Foundation
import GRDB
import SRLMEngines
import SRLMStages
import SRLMStore

/// Can a model act as a judge at all? It judges a fixed probe set of (question, response) pairs free-form, one sample
/// each, and the run records how many outputs held a parseable score. Before EFT a small model's free-form judgments
/// rarely parse; the demo prints this rate before and after.
public struct JudgeProbe: Sendable {
    public static let stage = "judge-probe"
    public static let dataset = "probe-judgments"

    public struct Config: Codable, Hashable, Sendable {
        public var sampling = Sampling(temperature: 0.7, topP: 0.9, maxTokens: 256)
        public var probe = ""
        public var template = ""
        public var model = ""
        public var modelKey = ""

        public init() {}
    }

    public var config: Config
    public var probeRef: String
    public var concurrency: Int?

    public init(config: Config = Config(), probeRef: String = "probe", concurrency: Int? = nil) {
        self.config = config
        self.probeRef = probeRef
        self.concurrency = concurrency
    }

    public struct Outcome: Sendable {
        public let version: DatasetVersion
        public let judged: Int
        public let parsed: Int
        /// An earlier finished run with the same config and probe answered for this one.
        public var reused = false
        public var parseRate: Double { judged == 0 ? 0 : Double(parsed) / Double(judged) }
    }

    public func run(_ context: StageContext, session: ModelSession) async throws -> Outcome {
        let probe = try context.store.read { try DatasetVersion.resolve($0, probeRef, experiment: context.experiment) }
        guard probe.kind == .ift else { throw StoreError.invalid("\(probe.ref): a probe set is (prompt, response) rows, an ift dataset") }
        let (template, templateBlob) = try JudgeTemplate.load(context.store)
        var config = self.config
        config.probe = probe.ref
        config.template = template.versionTag
        config.model = session.spec.label
        config.modelKey = session.modelKey
        if let done = try context.finishedRun(stage: Self.stage, config: config, inputs: [probe.id]),
           let version = try context.output(ofRun: done) {
            var earlier = try outcome(context, version)
            earlier.reused = true
            return earlier
        }
        let items: [(prompt: BlobID, response: BlobID, question: Messages, answer: String)] = try context.store.read { db in
            try Row.fetchAll(db, sql: "SELECT prompt, response FROM ift_example WHERE version_id = ? ORDER BY ord", arguments: [probe.id])
                .map { row in
                    let p: BlobID = row[0], r: BlobID = row[1]
                    return (p, r, try Blobs.messages(db, p), try Blobs.messages(db, r).lastContent)
                }
        }
        let requests = items.map {
            template.request(question: $0.question, answer: $0.answer, sampling: config.sampling, structured: false)
        }
        let run = try context.beginRun(stage: Self.stage, config: config, inputs: [probe.id], seed: config.sampling.seed,
                                       provenance: session.provenance)
        do {
            let scheduler = CallScheduler(client: session.client, journal: Journal(store: context.store),
                                          modelKey: session.modelKey, concurrency: concurrency ?? session.slots, runID: run.id)
            let progress = ProgressReporter(label: "judge-probe", total: requests.count, quiet: context.quiet)
            let results = try await scheduler.run(requests, progress: progress)
            var parsed = 0
            let stats = { () -> [String: Any] in
                ["judged": results.count, "parsed": parsed,
                 "parse_rate": results.isEmpty ? 0 : Double(parsed) / Double(results.count)]
            }
            let version = try context.commit(run: run, round: nil, role: "probe", stats: stats) { db in
                let writer = try VersionWriter(db, experiment: context.experiment, name: Self.dataset, kind: .judgments, runID: run.id)
                for (i, result) in results.enumerated() {
                    guard case .success(let answer) = result else { continue }
                    if try Judge.append(writer, prompt: items[i].prompt, response: items[i].response, judge: config.model,
                                        request: requests[i], output: answer.text, structured: false,
                                        template: templateBlob, modelKey: session.modelKey) {
                        parsed += 1
                    }
                }
                return try writer.finish()
            }
            return try outcome(context, version)
        } catch {
            throw context.failRun(run, error)
        }
    }

    func outcome(_ context: StageContext, _ version: DatasetVersion) throws -> Outcome {
        try context.store.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT count(*), count(score) FROM judgment WHERE version_id = ?", arguments: [version.id])!
            return Outcome(version: version, judged: row[0], parsed: row[1])
        }
    }
}
