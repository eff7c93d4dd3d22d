/// The self-rewarding paper's figures (Yuan et al. 2024, Llama 2 70B; ../shared/PAPER.md), set beside a run's own.
public enum PaperFigures {
    /// Table 4, reward modelling on the EFT eval set (human rankings): SFT baseline, M1, M2, M3.
    public static let checkpoints = ["SFT", "M1", "M2", "M3"]
    public static let table4: [(metric: String, label: String, values: [Double])] = [
        ("pairwiseAccuracy", "pairwise accuracy", [0.651, 0.787, 0.804, 0.817]),
        ("fiveBest", "5-best", [0.396, 0.415, 0.443, 0.432]),
        ("exactMatch", "exact match", [0.101, 0.131, 0.143, 0.143]),
        ("spearmanPerPrompt", "Spearman ρ", [0.253, 0.279, 0.331, 0.349]),
        ("kendallPerPrompt", "Kendall τ", [0.233, 0.253, 0.315, 0.324]),
    ]
    /// Head to head, GPT-4 judging 256 prompts in both orders: A's win and loss shares.
    public static let headToHead: [(a: String, b: String, win: Double, loss: Double)] = [
        ("M1", "SFT", 0.305, 0.309), ("M2", "SFT", 0.492, 0.145), ("M2", "M1", 0.555, 0.117),
        ("M3", "SFT", 0.625, 0.098), ("M3", "M2", 0.477, 0.125),
    ]
}
