import ArgumentParser
import SRLMEval
import SRLMStages
import SRLMStore

/// `srlm meta-judge --round N`: the model compares its own judgments (MetaJudge), then ratings and judge-training
/// pairs follow from the battles without a model (JudgePairs).
struct MetaJudgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meta-judge",
        abstract: "Meta-Rewarding: the model compares two of its judgments of each candidate; ratings and judge-training pairs follow.",
        discussion: """
            Every two differing parsed judge samples of a candidate are compared in both orders (a verdict that flips \
            is a tie). The battles are the round's meta-judgments (labeled pairs); each judgment gets a Bradley–Terry \
            rating on the Elo scale among its candidate's judgments, and the best and worst rated become a \
            judge-training pair (judge-pairs). `srlm train dpo --round N --judge-pairs round` mixes them with the \
            actor pairs, at most --judge-share of the training rows.
            """)
    static let defaults = MetaJudge.Config(round: 1)
    @OptionGroup var round: RoundOptions
    @OptionGroup var model: ModelOptions
    @Option(help: "Judgment version (default: the round's judge output).") var judgments: String?
    @Flag(help: "Constrain the output to end with a verdict line (llama.cpp grammar / vLLM structured outputs).") var structured = false
    @Option(help: "Most tokens per meta-judgment.") var maxTokens = defaults.sampling.maxTokens
    @Option(help: "Candidates compared at most (0: all).") var maxCandidates = defaults.maxCandidates

    func run() async throws {
        var config = MetaJudge.Config(round: round.round)
        config.judgments = judgments ?? ""
        config.structured = structured
        config.sampling.maxTokens = maxTokens
        config.maxCandidates = maxCandidates
        let context = try round.context()
        printResult("meta-judge", try await perform(MetaJudge(config: config), context, model: model))
        printResult("judge-pairs", try await context.perform(JudgePairs(config: JudgePairs.Config(round: round.round))))
    }
}
