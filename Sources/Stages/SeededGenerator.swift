import SRLMMetrics

/// SplitMix64: draws that depend only on the seed (gen-prompts' shots, build-eft's split and rebalancing, the
/// benchmarks' and tests' generated corpora). One implementation serves srlm: it lives in the dependency-free
/// SRLMMetrics, whose bootstrap needs it too.
public typealias SeededGenerator = SplitMix64
