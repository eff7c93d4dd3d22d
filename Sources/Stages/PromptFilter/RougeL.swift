/// Self-Instruct's ROUGE-L (rouge_score's RougeScorer(["rougeL"], use_stemmer=False)): tokens = lowercase, every run of
/// non [a-z0-9] characters is a separator; score = LCS-based F-measure  2PR/(P+R), P = LCS/|candidate|, R = LCS/|reference|.
public enum RougeL {
    /// rouge_score's default tokenizer: `text.lower()`, replace `[^a-z0-9]+` by a space, split, no stemming.
    /// Python lowercases with full Unicode mappings before the ASCII test, so "İ" (→ "i̇") and the Kelvin sign (→ "k")
    /// yield ASCII letters; Swift's `lowercased()` uses the same mappings, so non-ASCII text takes that path.
    public static func tokens(_ text: String) -> [String] {
        var out: [String] = []
        var current: [UInt8] = []
        func flush() {
            if !current.isEmpty {
                out.append(String(decoding: current, as: UTF8.self))
                current.removeAll(keepingCapacity: true)
            }
        }
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            for byte in text.utf8 {
                if let c = asciiTokenByte(byte) { current.append(c) } else { flush() }
            }
        } else {
            for scalar in text.lowercased().unicodeScalars {
                if scalar.isASCII, let c = asciiTokenByte(UInt8(scalar.value)) { current.append(c) } else { flush() }
            }
        }
        flush()
        return out
    }

    /// The lowercase token byte for an ASCII letter or digit, nil for a separator.
    @inline(__always)
    static func asciiTokenByte(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): return byte
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return byte + 32
        default: return nil
        }
    }

    /// ROUGE-L F-measure of candidate `a` against reference `b` (symmetric; 0 when either is empty).
    public static func f(_ a: [String], _ b: [String]) -> Double {
        guard !a.isEmpty, !b.isEmpty else { return 0 }
        // Ids local to the pair make the DP compare integers instead of strings.
        var ids: [String: Int32] = [:]
        let x = a.map { t in ids[t] ?? { let id = Int32(ids.count); ids[t] = id; return id }() }
        let y = b.map { t in ids[t] ?? -1 }
        return fMeasure(lcs: lcs(x, y), candidateCount: a.count, referenceCount: b.count)
    }

    /// ROUGE-L F of two texts, tokenised as rouge_score does.
    public static func f(_ a: String, _ b: String) -> Double { f(tokens(a), tokens(b)) }

    /// rouge_score's arithmetic, operation for operation, so results agree to the last bit:
    /// `2 * precision * recall / (precision + recall)`.
    @inline(__always)
    public static func fMeasure(lcs: Int, candidateCount: Int, referenceCount: Int) -> Double {
        guard candidateCount > 0, referenceCount > 0 else { return 0 }
        let precision = Double(lcs) / Double(candidateCount)
        let recall = Double(lcs) / Double(referenceCount)
        guard precision + recall > 0 else { return 0 }
        return 2 * precision * recall / (precision + recall)
    }

    /// Length of the longest common subsequence of two id sequences.
    public static func lcs(_ a: [Int32], _ b: [Int32]) -> Int {
        a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in lcsKernel(x, y) } }
    }

    /// O(n·m) DP with two rows over the shorter sequence.
    @inline(__always)
    static func lcsKernel(_ a: UnsafeBufferPointer<Int32>, _ b: UnsafeBufferPointer<Int32>) -> Int {
        if a.isEmpty || b.isEmpty { return 0 }
        let (outer, inner) = b.count > a.count ? (b, a) : (a, b)
        let width = inner.count + 1
        return withUnsafeTemporaryAllocation(of: Int32.self, capacity: 2 * width) { buffer -> Int in
            buffer.initialize(repeating: 0)
            var previous = buffer.baseAddress!
            var current = previous + width
            for x in outer {
                var diagonal: Int32 = 0, left: Int32 = 0
                for j in 0..<inner.count {
                    let up = previous[j + 1]
                    let value = x == inner[j] ? diagonal + 1 : (up > left ? up : left)
                    current[j + 1] = value
                    diagonal = up
                    left = value
                }
                swap(&previous, &current)
            }
            return Int(previous[width - 1])
        }
    }
}
