/// A tiny seeded generator (Steele, Lea & Flood's SplitMix64) so that every bootstrap interval and random-judge
/// baseline is reproducible from its seed, on every platform and Swift version: the standard library's generator
/// is not seedable, and its `random(in:using:)` algorithms are not promised to stay the same.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in `0..<bound` by Lemire's multiply-and-shift with rejection (no modulo bias); written here
    /// rather than taken from the standard library so the sequence of draws is fixed by this file alone.
    public mutating func next(below bound: Int) -> Int {
        precondition(bound > 0, "bound must be positive")
        let range = UInt64(bound)
        var product = next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold {
                product = next().multipliedFullWidth(by: range)
            }
        }
        return Int(product.high)
    }
}
