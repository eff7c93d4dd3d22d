import Foundation
import SRLMStore
import SRLMEngines

/// Step 1 of self-instruction creation: new prompts by 8-shot self-instruct prompting (paper: 6 shots from the IFT
/// prompts, 2 from earlier generated ones; T 0.6, top-p 0.9), kept only when they pass Self-Instruct's filters
/// (length, keywords, exact and ROUGE-L near duplicates) and do not copy an evaluation set.
///
/// Requests go out in batches; the shots of batch b come from the prompts accepted before it, and attempt i draws
/// them with a generator seeded by (seed, i). So a rerun rebuilds exactly the same requests and finds their answers
/// in the journal: an interrupted run resumes without asking again.
public struct GenPrompts: Stage {
    public static let name = "gen-prompts"
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
        /// The seed pool (any version with prompts) and the evaluation sets generated prompts must not copy;
        /// recorded resolved, as NAME@N.
        public var seeds = "ift"
        public var decontaminate: [String] = []
        /// Filled by `plan`: the generating model's label and journal key.
        public var model: String = ""
        public var modelKey: String = ""

        public init(round: Int, count: Int = 8) {
            self.round = round
            self.count = count
        }

        var attemptLimit: Int { maxAttempts > 0 ? maxAttempts : 20 * count }
    }

    public var config: Config

    public init(config: Config) { self.config = config }

    /// The inputs: seed texts, generated prompts of earlier rounds, evaluation texts, and the versions they came from.
    public struct Pools: Sendable {
        var seeds: [String] = []
        var earlier: [String] = []
        var evaluation: [String] = []
        var versions: [DatasetVersion] = []
    }

    /// The plan of a stage that makes a round's prompts (self-instruct, evol): the seed pool, the evaluation sets and
    /// earlier rounds' prompts read, the model and the versions recorded (as NAME@N), the round's prompts written.
    static func plan<C: PromptMakingConfig>(_ config: C, _ context: StageContext, model: ModelIdentity?) throws -> StagePlan<C, Pools> {
        guard config.count > 0 else { throw SRLMError.outOfRange(setting: "count", value: "\(config.count)", expected: "at least 1") }
        let pools = try pools(context, round: config.round, seeds: config.seeds, decontaminate: config.decontaminate)
        var resolved = config
        resolved.model = model?.label ?? ""
        resolved.modelKey = model?.key ?? ""
        resolved.seeds = pools.versions[0].ref
        resolved.decontaminate = pools.versions[1...].prefix(config.decontaminate.count).map(\.ref)
        return StagePlan(config: resolved, inputs: pools.versions,
                         destination: .init(dataset: dataset, kind: .prompts, round: config.round, role: .prompts),
                         seed: config.sampling.seed, work: pools)
    }

    static func pools(_ context: StageContext, round: Int, seeds seedRef: String, decontaminate: [String]) throws -> Pools {
        var pools = Pools()
        let seeds = try context.version(seedRef)
        pools.seeds = try StageRows.promptTexts(context.store, seeds)
        guard !pools.seeds.isEmpty else { throw SRLMError.invalid("the seed pool \(seeds.ref) has no prompts") }
        pools.versions.append(seeds)
        for ref in decontaminate {
            let version = try context.version(ref)
            pools.evaluation += try StageRows.promptTexts(context.store, version)
            pools.versions.append(version)
        }
        // Generated prompts of the earlier rounds: the versions those rounds used as their prompts.
        for iteration in 0..<round {
            if let version = try Rounds.version(context.store, experiment: context.experiment, iteration: iteration, role: .prompts),
               version.kind == .prompts {
                pools.earlier += try StageRows.promptTexts(context.store, version, generatedOnly: true)
                pools.versions.append(version)
            }
        }
        return pools
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

    public func plan(_ context: StageContext, model: ModelIdentity?) throws -> StagePlan<Config, Pools> {
        try Self.plan(config, context, model: model)
    }

    public func execute(_ plan: StagePlan<Config, Pools>, _ run: StageRun) async throws -> StageOutput {
        let (config, pools) = (plan.config, plan.work)
        let filter = PromptFilter(config: config.filter, existing: pools.seeds + pools.earlier, evaluationSets: pools.evaluation)
        var accepted: [String] = []
        var rejected: [(text: String, reason: String, detail: String?)] = []
        var attempts = 0
        let progress = ProgressReporter(label: Self.name, total: config.count, quiet: run.context.quiet)
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
            // Answers are checked in attempt order, whatever order they arrived in: the outcome is deterministic.
            for answer in try await run.answers(requests, what: "self-instruct", showProgress: false) {
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
        if accepted.count < config.count && !run.context.quiet {
            FileHandle.standardError.write(Data("gen-prompts: accepted \(accepted.count) of \(config.count) after \(attempts) attempts\n".utf8))
        }
        let runID = run.record.id
        return StageOutput(stats: Self.stats(accepted: accepted.count, asked: config.count, attempts: attempts, rejected: rejected)) { writer in
            for instruction in accepted {
                try writer.append(["prompt": .text(Blobs.text([.user(instruction)])), "origin": .text("generated"),
                                   "source_run_id": .int(runID)])
            }
            for r in rejected {
                try RunLifecycle.recordRejection(writer, run: runID, text: Blobs.text([.user(r.text)]), reason: r.reason, detail: r.detail)
            }
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

/// The fields every prompt-making stage's config shares, which `GenPrompts.plan` reads and records resolved.
protocol PromptMakingConfig: Codable, Hashable, Sendable {
    var round: Int { get }
    var count: Int { get }
    var sampling: Sampling { get }
    var seeds: String { get set }
    var decontaminate: [String] { get set }
    var model: String { get set }
    var modelKey: String { get set }
}

extension GenPrompts.Config: PromptMakingConfig {}
extension EvolPrompts.Config: PromptMakingConfig {}
