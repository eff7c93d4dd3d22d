import Foundation
import SRLMEngines
import SRLMStore

/// The kinds of task a prompt can be, for per-category judge rubrics (`srlm judge --rubrics DIR`).
public enum PromptCategory: String, Codable, CaseIterable, Sendable {
    case coding, math, reasoning, writing, advice
    case openQA = "open-qa"

    /// Keyword rules, first match wins in this order (a coding question about numbers is coding); else open QA.
    /// Cheap and deterministic; the model classifier is the alternative.
    public static func byRules(_ text: String) -> PromptCategory {
        let lower = " " + text.lowercased() + " "
        func any(_ words: [String]) -> Bool { words.contains { lower.contains($0) } }
        if any(["code", "python", "javascript", "function", "program", " sql", "script", "compile", "regex", "algorithm", " bug",
                "java ", "c++", "html", "api "]) { return .coding }
        if any(["calculate", "solve", "equation", "integral", "derivative", "percent", "probability", "how many", "sum of",
                "math", "arithmetic", " x =", "multiply", "divide"]) { return .math }
        if any(["write a", "write an", "poem", "story", "essay", "email", "letter", "rewrite", "summarize", "summarise",
                "paragraph", "tweet", "slogan", "headline", "translate"]) { return .writing }
        if any(["should i", "how can i", "how do i", "advice", "tips", "recommend", "suggest", "help me"]) { return .advice }
        if any(["why ", "explain", "reason", "puzzle", "riddle", "logic", "compare", "what would happen", "pros and cons"]) { return .reasoning }
        return .openQA
    }

    /// The model classifier's prompt; its answer is constrained to `Category: <label>`.
    static func classifierPrompt(_ text: String) -> String {
        """
        Classify the user's request below into one category: coding (writing, fixing or explaining code), math \
        (calculation or a math problem), reasoning (logic, explanation, analysis), writing (creative or practical \
        text to produce or rewrite), advice (what the user should do), or open-qa (a factual or open question).

        [Request]
        \(text)
        [End of request]

        Answer with the category alone, as "Category: <category>".
        """
    }

    static let constraint = OutputConstraint(
        gbnf: "root ::= \"Category: \" (" + allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " | ") + ")",
        regex: "Category: (" + allCases.map(\.rawValue).joined(separator: "|") + ")")

    static func parse(_ output: String) -> PromptCategory? {
        guard let match = output.lowercased().firstMatch(of: #/category:\s*([a-z-]+)/#) else { return nil }
        return PromptCategory(rawValue: String(match.output.1))
    }
}

/// `srlm categorize --round N`: a new version of the round's prompts with each prompt's category, by keyword rules
/// or by the model (its answer constrained to a label); it becomes the round's prompts. The category is a column of
/// the prompt rows, so `derive --where "category = 'math'"` and SQL group by it.
public struct Categorize: Stage {
    public static let name = "categorize"

    public enum Classifier: String, Codable, Sendable { case rules, model }

    public struct Config: Codable, Hashable, Sendable {
        public var round: Int
        public var classifier = Classifier.rules
        /// The prompts to categorize ("": the round's); recorded resolved, as NAME@N.
        public var prompts = ""
        /// The model classifier's sampling: greedy and short.
        public var sampling = Sampling(temperature: 0, topP: 1, maxTokens: 8)
        public var model = ""
        public var modelKey = ""

        public init(round: Int) { self.round = round }
    }

    public struct Work: Sendable {
        let rows: [StageRows.PromptRow]
        let requests: [ChatRequest]
    }

    public var config: Config

    public init(config: Config) { self.config = config }

    public func plan(_ context: StageContext, model: ModelIdentity?) throws -> StagePlan<Config, Work> {
        let input = try Rounds.input(context.store, experiment: context.experiment, iteration: config.round, role: .prompts,
                                     explicit: config.prompts.isEmpty ? nil : config.prompts, producedBy: "gen-prompts")
        var config = self.config
        config.prompts = input.ref
        config.model = config.classifier == .model ? model?.label ?? "" : ""
        config.modelKey = config.classifier == .model ? model?.key ?? "" : ""
        let rows = try StageRows.promptRows(context.store, input)
        let requests = config.classifier == .rules ? [] : rows.map { row in
            ChatRequest(messages: [.user(PromptCategory.classifierPrompt(row.messages.lastContent))], temperature: config.sampling.temperature,
                        topP: config.sampling.topP, maxTokens: config.sampling.maxTokens, seed: config.sampling.seed, sampleIndex: 0,
                        constraint: PromptCategory.constraint, templateVersion: "categorize@1")
        }
        return StagePlan(config: config, inputs: [input],
                         destination: .init(dataset: input.name, kind: .prompts, round: config.round, role: .prompts),
                         seed: nil, work: Work(rows: rows, requests: requests))
    }

    public func execute(_ plan: StagePlan<Config, Work>, _ run: StageRun) async throws -> StageOutput {
        let work = plan.work
        let categories: [PromptCategory]
        var unparsed = 0
        if plan.config.classifier == .rules {
            categories = work.rows.map { PromptCategory.byRules($0.messages.lastContent) }
        } else {
            let answers = try await run.answers(work.requests, what: "categorize")
            categories = answers.map { answer in
                PromptCategory.parse(answer.text) ?? { unparsed += 1; return .openQA }()
            }
        }
        var counts: [String: Int] = [:]
        for category in categories { counts[category.rawValue, default: 0] += 1 }
        return StageOutput(stats: ["prompts": work.rows.count, "categories": counts, "unparsed": unparsed]) { writer in
            for (row, category) in zip(work.rows, categories) {
                try writer.append(row.values(["category": .text(category.rawValue)]))
            }
        }
    }
}
