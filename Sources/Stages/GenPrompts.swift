import Foundation
import GRDB
import SRLMStore
import SRLMEngines

/// Step 1 of self-instruction creation: new prompts by 8-shot self-instruct prompting (paper: 6 shots from the IFT
/// prompts, 2 from earlier generated ones; T 0.6, top-p 0.9), kept only when they pass Self-Instruct's filters
/// (length, keywords, exact and ROUGE-L near duplicates) and do not copy an evaluation set.
///
/// Requests go out in batches; the shots of batch b come from the prompts accepted before it, and attempt i draws
/// them with a generator seeded by (seed, i). So a rerun rebuilds exactly the same requests and finds their answers
/// in the journal: an interrupted run resumes without asking again.
public struct GenPrompts: Sendable {
    public static let stage = "gen-prompts"
    public static let dataset = "generated-prompts"

    public struct Config: Codable, Hashable, Sendable {
        public var round: Int
        /// Prompts to accept.
        public var count: Int
        public var seedShots = 6
        public var generatedShots = 2
        public var sampling = Sampling(temperature: 0.6, topP: 0.9, maxTokens: 128)
        public var filter = PromptFilterConfig()
        /// Requests per batch (the shots of a batch see the prompts accepted before it). Not the concurrency.
        public var batch = 8
        /// Give up after this many attempts (0: 20 per prompt asked for).
        public var maxAttempts = 0
        public var header = "Come up with a series of tasks:"
        public var seeds: String = ""
        public var decontaminate: [String] = []
        public var model: String = ""
        public var modelKey: String = ""

        public init(round: Int, count: Int) {
            self.round = round
            self.count = count
        }

        var attemptLimit: Int { maxAttempts > 0 ? maxAttempts : 20 * count }
    }

    public var config: Config
    public var seedsRef: String
    public var decontaminate: [String]
    public var concurrency: Int?

    /// - Parameters:
    ///   - seedsRef: the seed pool: any version with a `prompt` column (default: the IFT data).
    ///   - decontaminate: versions whose prompts generated ones must not copy (AlpacaEval, MT-Bench imported as prompts).
    public init(config: Config, seedsRef: String = "ift", decontaminate: [String] = [], concurrency: Int? = nil) {
        self.config = config
        self.seedsRef = seedsRef
        self.decontaminate = decontaminate
        self.concurrency = concurrency
    }

    /// The inputs: seed texts, generated prompts of earlier rounds, evaluation texts, and the versions they came from.
    struct Pools {
        var seeds: [String] = []
        var earlier: [String] = []
        var evaluation: [String] = []
        var versions: [DatasetVersion] = []
    }

    func pools(_ context: StageContext) throws -> Pools {
        try context.store.read { db in
            var pools = Pools()
            let seeds = try DatasetVersion.resolve(db, seedsRef, experiment: context.experiment)
            pools.seeds = try PromptTexts.read(db, seeds)
            guard !pools.seeds.isEmpty else { throw StoreError.invalid("the seed pool \(seeds.ref) has no prompts") }
            pools.versions.append(seeds)
            for ref in decontaminate {
                let version = try DatasetVersion.resolve(db, ref, experiment: context.experiment)
                pools.evaluation += try PromptTexts.read(db, version)
                pools.versions.append(version)
            }
            // Generated prompts of the earlier rounds: the versions those rounds used as their prompts.
            for iteration in 0..<config.round {
                if let version = try Rounds.version(db, experiment: context.experiment, iteration: iteration, role: "prompts"),
                   version.kind == .prompts {
                    pools.earlier += try PromptTexts.read(db, version, generatedOnly: true)
                    pools.versions.append(version)
                }
            }
            return pools
        }
    }

    /// The self-instruct prompt: the header, then "Task k: <instruction>" for each shot, then the open "Task n+1:".
    static func prompt(header: String, shots: [String]) -> Messages {
        var lines = [header, ""]
        for (i, shot) in shots.enumerated() {
            lines.append("Task \(i + 1): " + shot.split(whereSeparator: \.isWhitespace).joined(separator: " "))
        }
        lines.append("Task \(shots.count + 1):")
        return [.user(lines.joined(separator: "\n"))]
    }

    /// Attempt `attempt`'s shots: `seedShots` seeds and up to `generatedShots` generated prompts (seeds fill in while
    /// there are fewer generated ones), drawn without replacement.
    static func shots(config: Config, attempt: Int, seeds: [String], generated: [String]) -> [String] {
        var rng = SeededGenerator(seed: UInt64(bitPattern: config.sampling.seed) &+ UInt64(attempt) &* 0x9E37_79B9_7F4A_7C15)
        let fromGenerated = min(config.generatedShots, generated.count)
        let fromSeeds = min(seeds.count, config.seedShots + config.generatedShots - fromGenerated)
        return Array(seeds.shuffled(using: &rng).prefix(fromSeeds)) + Array(generated.shuffled(using: &rng).prefix(fromGenerated))
    }

    /// The config a run records and its inputs, for a model known by its label and journal key.
    func resolved(_ context: StageContext, label: String, modelKey: String) throws -> (config: Config, pools: Pools) {
        guard config.count > 0 else { throw StoreError.invalid("--count must be at least 1") }
        let pools = try pools(context)
        var config = self.config
        config.model = label
        config.modelKey = modelKey
        config.seeds = pools.versions[0].ref
        config.decontaminate = pools.versions[1...].prefix(decontaminate.count).map(\.ref)
        return (config, pools)
    }

    /// The output of an earlier finished run with the same config and inputs, if any (no model needed).
    public func reusable(_ context: StageContext, label: String, modelKey: String) throws -> StageResult? {
        let (config, pools) = try resolved(context, label: label, modelKey: modelKey)
        return try context.reuse(stage: Self.stage, config: config, inputs: pools.versions.map(\.id), round: config.round, role: "prompts")
    }

    public func run(_ context: StageContext, session: ModelSession) async throws -> StageResult {
        let (config, pools) = try resolved(context, label: session.spec.label, modelKey: session.modelKey)
        let inputs = pools.versions.map(\.id)
        if let reused = try context.reuse(stage: Self.stage, config: config, inputs: inputs, round: config.round, role: "prompts") {
            return reused
        }
        let run = try context.beginRun(stage: Self.stage, config: config, inputs: inputs, seed: config.sampling.seed,
                                       provenance: session.provenance)
        do {
            let filter = PromptFilter(config: config.filter, existing: pools.seeds + pools.earlier, evaluationSets: pools.evaluation)
            var accepted: [String] = []
            var rejected: [(text: String, reason: String, detail: String?)] = []
            var attempts = 0, calls = 0, fromJournal = 0, tokens = 0
            let started = Date()
            let progress = ProgressReporter(label: "gen-prompts", total: config.count, quiet: context.quiet)
            let scheduler = CallScheduler(client: session.client, journal: Journal(store: context.store),
                                          modelKey: session.modelKey, concurrency: concurrency ?? session.slots, runID: run.id)
            while accepted.count < config.count && attempts < config.attemptLimit {
                let size = min(config.batch, config.attemptLimit - attempts)
                let requests = (attempts..<(attempts + size)).map { attempt in
                    ChatRequest(messages: Self.prompt(header: config.header,
                                                      shots: Self.shots(config: config, attempt: attempt, seeds: pools.seeds,
                                                                        generated: pools.earlier + accepted)),
                                temperature: config.sampling.temperature, topP: config.sampling.topP,
                                maxTokens: config.sampling.maxTokens, seed: config.sampling.seed + Int64(attempt),
                                sampleIndex: attempt)
                }
                attempts += size
                let results = try await scheduler.run(requests)
                try StageContext.requireAnswers(results, what: "self-instruct")
                // Answers are checked in attempt order, whatever order they arrived in: the outcome is deterministic.
                for result in results {
                    guard case .success(let answer) = result else { continue }
                    calls += 1
                    fromJournal += answer.fromJournal ? 1 : 0
                    tokens += answer.completionTokens ?? 0
                    guard accepted.count < config.count else { continue }
                    guard let instruction = InstructionExtractor.extract(answer.text) else {
                        rejected.append((answer.text, "unparsable", "no instruction found in the completion"))
                        continue
                    }
                    let verdict = filter.check(instruction)
                    if verdict.accepted {
                        accepted.append(instruction)
                        progress.record(completionTokens: answer.completionTokens, fromJournal: answer.fromJournal, failed: false)
                    } else {
                        rejected.append((instruction, verdict.reason?.rawValue ?? "rejected", verdict.detail))
                    }
                }
            }
            progress.finish()
            var stats = Self.stats(accepted: accepted.count, asked: config.count, attempts: attempts, rejected: rejected)
            let seconds = Date().timeIntervalSince(started)
            stats.merge(["calls": calls, "from_journal": fromJournal, "completion_tokens": tokens, "seconds": seconds,
                         "calls_per_s": Double(calls) / max(seconds, 1e-9)]) { $1 }
            if accepted.count < config.count && !context.quiet {
                FileHandle.standardError.write(Data("gen-prompts: accepted \(accepted.count) of \(config.count) after \(attempts) attempts\n".utf8))
            }
            let version = try context.commit(run: run, round: config.round, role: "prompts", stats: { stats }) { db in
                let writer = try VersionWriter(db, experiment: context.experiment, name: Self.dataset, kind: .prompts, runID: run.id)
                for instruction in accepted {
                    try writer.append(["prompt": .text(Blobs.text([.user(instruction)])), "origin": .text("generated"),
                                       "source_run_id": .int(run.id)])
                }
                let insert = try db.makeStatement(sql: "INSERT INTO prompt_rejection(run_id, prompt, reason, detail) VALUES (?, ?, ?, ?)")
                for r in rejected {
                    try insert.execute(arguments: [run.id, try writer.blobs.put(Blobs.text([.user(r.text)])), r.reason, r.detail])
                }
                return try writer.finish()
            }
            return StageResult(version: version, runID: run.id, reused: false,
                               stats: ["accepted": Double(accepted.count), "attempts": Double(attempts),
                                       "rejected": Double(rejected.count)])
        } catch {
            throw context.failRun(run, error)
        }
    }

    static func stats(accepted: Int, asked: Int, attempts: Int,
                      rejected: [(text: String, reason: String, detail: String?)]) -> [String: Any] {
        var reasons: [String: Int] = [:]
        for r in rejected { reasons[r.reason, default: 0] += 1 }
        return ["accepted": accepted, "asked": asked, "attempts": attempts, "rejected": rejected.count,
                "rejected_by_reason": reasons]
    }
}

/// The prompt texts of a version: the last user message of each row's prompt.
enum PromptTexts {
    static func read(_ db: Database, _ version: DatasetVersion, generatedOnly: Bool = false) throws -> [String] {
        guard version.kind.columnIndex("prompt") != nil else {
            throw StoreError.invalid("\(version.ref) holds \(version.kind.rawValue) rows, which have no prompts")
        }
        let filter = generatedOnly ? " AND origin = 'generated'" : ""
        var seen = Set<BlobID>()
        return try BlobID.fetchAll(db, sql: "SELECT prompt FROM \(version.kind.table) WHERE version_id = ?\(filter) ORDER BY ord",
                                   arguments: [version.id])
            .filter { seen.insert($0).inserted }  // ranked data repeats each prompt once per reply
            .compactMap { try Blobs.messages(db, $0).last { $0.role == "user" }?.content }
    }
}
