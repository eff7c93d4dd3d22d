/// What a version or checkpoint is to a round: the `role` column of `round_member`.
public enum RoundRole: String, Codable, CaseIterable, Sendable {
    /// Round 0's training data: instruction following and evaluation fine-tuning.
    case ift, eft
    /// Round r's self-instruction data, in the order the stages make it.
    case prompts, candidates, judgments, pairs
    /// The checkpoint a training step started from, and the one it made.
    case policy, result
    /// Meta-Rewarding: the meta-judge's verdicts between the round's judgments, and the judge-training pairs.
    case metaJudgments = "meta-judgments", judgePairs = "judge-pairs"
}
