import Foundation
import SRLMEngines
import SRLMStore

/// Evol-Instruct's operators (WizardLM, Xu et al. 2023), in srlm's own words: four in-depth rewrites that make a
/// prompt harder and one in-breadth that writes a new prompt in the same domain.
public enum EvolOperator: String, Codable, CaseIterable, Sendable {
    case addConstraints = "add-constraints"
    case deepen
    case concretize
    case reasoningSteps = "reasoning-steps"
    case breadth

    var instruction: String {
        switch self {
        case .addConstraints: "Rewrite the prompt so that it adds one more constraint or requirement the answer must meet."
        case .deepen: "Rewrite the prompt so that it asks about the topic in more depth and breadth."
        case .concretize: "Rewrite the prompt so that it replaces general ideas with more specific, concrete ones."
        case .reasoningSteps: "Rewrite the prompt so that answering it plainly needs several steps of reasoning."
        case .breadth: "Write a brand-new prompt in the same domain as the given one, but about something rarer."
        }
    }

    /// The rewriting request: the operator, the prompt, and a wish for a prompt a person would write (10–20 more
    /// words at most, no mention of the rewriting).
    func request(_ parent: String) -> String {
        """
        You are improving prompts for training an AI assistant. \(instruction) The result must stay reasonable, \
        answerable by a person, and self-contained; add at most 20 words; do not mention the original prompt or \
        that it was rewritten. Reply with the new prompt only.

        Prompt:
        \(parent)
        """
    }
}

/// `srlm gen-prompts --strategy evol`: each attempt takes a parent prompt (the seed pool and earlier rounds'
/// prompts) and an operator, both drawn from a generator seeded by (seed, attempt), and asks the model to rewrite it.
/// Evol-Instruct's elimination drops failed evolutions, each rejection stored with its reason: no new information
/// (ROUGE-L ≥ 0.9 with the parent, or the same text), the operator's wording copied ("rewritten prompt", "given
/// prompt"), and the model unable to answer it (its short greedy answer apologises or is mere punctuation); then
/// Self-Instruct's filters (length, keywords, duplicates among the evolved, evaluation sets). Every evolved prompt
/// keeps its parent and operator (`prompt.parent`, `prompt.evolution`; `v_prompts.parent_text`).
public struct EvolPrompts: Stage {
    public static let name = "evol-prompts"

    public struct Config: Codable, Hashable, Sendable {
        public var round: Int
        public var count: Int
        public var sampling = Sampling(temperature: 0.7, topP: 0.9, maxTokens: 160)
        /// The answerability check: a short greedy answer to each surviving evolution.
        public var answerTokens = 64
        public var noNewInformation = 0.9
        public var filter = PromptFilterConfig()
        public var batch = 8
        public var maxAttempts = 0
        public var operators = EvolOperator.allCases
        public var seeds = "ift"
        public var decontaminate: [String] = []
        public var model = ""
        public var modelKey = ""

        public init(round: Int, count: Int = 8) {
            self.round = round
            self.count = count
        }

        var attemptLimit: Int { maxAttempts > 0 ? maxAttempts : 20 * count }
    }

    public var config: Config

    public init(config: Config) { self.config = config }

    public func plan(_ context: StageContext, model: ModelIdentity?) throws -> StagePlan<Config, GenPrompts.Pools> {
        guard !config.operators.isEmpty else { throw SRLMError.invalid("evol needs at least one operator") }
        return try GenPrompts.plan(config, context, model: model)
    }

    /// Attempt `attempt`'s parent and operator.
    static func draw(_ config: Config, attempt: Int, parents: [String]) -> (parent: String, operator: EvolOperator) {
        var rng = SeededGenerator(seed: UInt64(bitPattern: config.sampling.seed) &+ UInt64(attempt) &* 0x9E37_79B9_7F4A_7C15)
        let parent = parents[Int.random(in: 0..<parents.count, using: &rng)]
        return (parent, config.operators[Int.random(in: 0..<config.operators.count, using: &rng)])
    }

    /// Evol-Instruct's elimination before the answer check: nil when the evolution may stay.
    static func eliminate(_ evolved: String, parent: String, threshold: Double) -> (reason: String, detail: String?)? {
        let lower = evolved.lowercased()
        if ["rewritten prompt", "given prompt", "#rewritten", "#given", "original prompt"].contains(where: lower.contains) {
            return ("evol: copied the operator's wording", nil)
        }
        let same = RougeL.f(evolved, parent)
        if PromptFilter.normalise(evolved).lowercased() == PromptFilter.normalise(parent).lowercased() || same >= threshold {
            return ("evol: no new information", String(format: "ROUGE-L %.2f with its parent", same))
        }
        return nil
    }

    /// The answerability check: an apology in a short answer, or an answer of punctuation and stop words only.
    static func unanswered(_ answer: String) -> String? {
        let words = answer.split(whereSeparator: \.isWhitespace)
        let lower = answer.lowercased()
        if words.count < 80 && (lower.contains("sorry") || lower.contains("i cannot") || lower.contains("i can't")) {
            return "evol: the model could not answer it"
        }
        let stop: Set<String> = ["the", "a", "an", "and", "or", "of", "to", "is", "it", "i"]
        if words.allSatisfy({ stop.contains($0.lowercased().trimmingCharacters(in: .punctuationCharacters)) || $0.allSatisfy(\.isPunctuation) }) {
            return "evol: the answer is empty"
        }
        return nil
    }

    public func execute(_ plan: StagePlan<Config, GenPrompts.Pools>, _ run: StageRun) async throws -> StageOutput {
        let (config, pools) = (plan.config, plan.work)
        let parents = pools.seeds + pools.earlier
        let filter = PromptFilter(config: config.filter, existing: [], evaluationSets: pools.evaluation)
        var accepted: [(text: String, parent: String, operator: EvolOperator)] = []
        var rejected: [(text: String, reason: String, detail: String?)] = []
        var attempts = 0
        let progress = ProgressReporter(label: "gen-prompts evol", total: config.count, quiet: run.context.quiet)
        while accepted.count < config.count && attempts < config.attemptLimit {
            let size = min(config.batch, config.attemptLimit - attempts)
            let draws = (attempts..<(attempts + size)).map { Self.draw(config, attempt: $0, parents: parents) }
            let requests = draws.enumerated().map { i, draw in
                ChatRequest(messages: [.user(draw.operator.request(draw.parent))], temperature: config.sampling.temperature,
                            topP: config.sampling.topP, maxTokens: config.sampling.maxTokens, seed: config.sampling.seed + Int64(attempts + i),
                            sampleIndex: attempts + i)
            }
            attempts += size
            var survivors: [(text: String, parent: String, operator: EvolOperator)] = []
            for (draw, answer) in zip(draws, try await run.answers(requests, what: "evol", showProgress: false)) {
                let evolved = answer.text.trimmingCharacters(in: .whitespacesAndNewlines)
                if let failure = Self.eliminate(evolved, parent: draw.parent, threshold: config.noNewInformation) {
                    rejected.append((evolved, failure.reason, failure.detail))
                } else {
                    survivors.append((evolved, draw.parent, draw.operator))
                }
            }
            let checks = survivors.map { survivor in
                ChatRequest(messages: [.user(survivor.text)], temperature: 0, topP: 1, maxTokens: config.answerTokens,
                            seed: config.sampling.seed, sampleIndex: 0)
            }
            // In attempt order, whatever order the answers came in: the outcome is deterministic.
            for (survivor, answer) in zip(survivors, try await run.answers(checks, what: "evol answer check", showProgress: false)) {
                guard accepted.count < config.count else { continue }
                if let reason = Self.unanswered(answer.text) {
                    rejected.append((survivor.text, reason, String(answer.text.prefix(200))))
                    continue
                }
                let verdict = filter.check(survivor.text)
                if verdict.accepted {
                    accepted.append(survivor)
                    progress.record(completionTokens: nil, fromJournal: answer.fromJournal, failed: false)
                } else {
                    rejected.append((survivor.text, verdict.reason?.rawValue ?? "rejected", verdict.detail))
                }
            }
        }
        progress.finish()
        let runID = run.record.id
        var stats = GenPrompts.stats(accepted: accepted.count, asked: config.count, attempts: attempts, rejected: rejected)
        var operators: [String: Int] = [:]
        for a in accepted { operators[a.operator.rawValue, default: 0] += 1 }
        stats["operators"] = operators
        return StageOutput(stats: stats) { writer in
            for a in accepted {
                try writer.append(["prompt": .text(Blobs.text([.user(a.text)])), "origin": .text("generated"), "source_run_id": .int(runID),
                                   "parent": .text(Blobs.text([.user(a.parent)])), "evolution": .text(a.operator.rawValue)])
            }
            for r in rejected {
                try RunLifecycle.recordRejection(writer, run: runID, text: Blobs.text([.user(r.text)]), reason: r.reason, detail: r.detail)
            }
        }
    }
}
