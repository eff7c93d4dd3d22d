/// An index over many texts that answers "is there a text with ROUGE-L F >= threshold to this one?" fast at 100k+ texts.
///
/// Exact, not approximate. A text is a multiset of tokens; the k-th occurrence of a token is its own element
/// ("tok#k"), so shared elements count the multiset intersection, an upper bound on the LCS. F = 2·LCS/(n+m) ≥ t needs
/// (1) a length m in [n·t/(2−t), n·(2−t)/t] and (2) at least ceil(t·(n+m)/2) shared elements, so a match shares one of
/// the candidate's first n − ceil(t·(n+m)/2) + 1 elements in any fixed order (prefix filter). Probing the rarest
/// elements' posting lists gives few candidates. Each is screened by a 64-bit signature (its elements hashed to bits;
/// every bit it has and the candidate's lacks stands for at least one element the candidate lacks, which caps the
/// overlap), then by the exact multiset overlap, then by exact LCS.
///
/// Not thread-safe, queries included (they use scratch state): use one instance from one task at a time.
public final class RougeIndex {
    public let threshold: Double

    private var vocabulary: [String: Int32] = [:]
    /// Per token id: the element id of its k-th occurrence (k from 0).
    private var occurrenceElements: [[Int32]] = []
    /// Per element id: the texts holding it, in insertion order.
    private var postings: [[Int32]] = []
    /// Texts' token ids, flat; text r is `tokenStore[offsets[r]..<offsets[r+1]]`. `elementStore` holds each text's
    /// element ids in the same ranges (for the linear-time overlap check).
    private var tokenStore: [Int32] = []
    private var elementStore: [Int32] = []
    private var offsets: [Int] = [0]
    /// Per text: token count and element signature, compact so the posting scan stays in cache.
    private var lengths: [Int32] = []
    private var signatures: [UInt64] = []
    /// Per text: the query that last saw it, so a text reached through several postings is considered once.
    private var seenBy: [UInt32] = []
    /// Per element: the query that holds it (so a text's shared elements are counted in one pass over the text).
    private var elementMark: [UInt32] = []
    private var queryStamp: UInt32 = 0
    /// Per token id scratch counter for numbering occurrences (kept zeroed between calls).
    private var occurrenceScratch: [Int32] = []

    /// `threshold` must lie in (0, 1]: at 0 every pair would match, which no index can speed up.
    public init(threshold: Double = 0.7) {
        precondition(threshold > 0 && threshold <= 1, "RougeIndex threshold must be in (0, 1], got \(threshold)")
        self.threshold = threshold
    }

    /// Number of texts added (including ones without tokens, which can never match).
    public var count: Int { offsets.count - 1 }

    public func add(_ text: String) { add(tokens: RougeL.tokens(text)) }

    public func add(tokens: [String]) {
        let ref = Int32(count)
        var elements: [Int32] = []
        elements.reserveCapacity(tokens.count)
        for token in tokens {
            let id: Int32
            if let known = vocabulary[token] {
                id = known
            } else {
                id = Int32(occurrenceElements.count)
                vocabulary[token] = id
                occurrenceElements.append([])
                occurrenceScratch.append(0)
            }
            tokenStore.append(id)
            let k = Int(occurrenceScratch[Int(id)])
            occurrenceScratch[Int(id)] += 1
            if k == occurrenceElements[Int(id)].count {
                occurrenceElements[Int(id)].append(Int32(postings.count))
                postings.append([])
                elementMark.append(0)
            }
            let element = occurrenceElements[Int(id)][k]
            postings[Int(element)].append(ref)
            elements.append(element)
        }
        for token in tokens { occurrenceScratch[Int(vocabulary[token]!)] = 0 }
        elementStore.append(contentsOf: elements)
        offsets.append(tokenStore.count)
        lengths.append(Int32(tokens.count))
        signatures.append(elements.reduce(0) { $0 | Self.signatureBit($1) })
        seenBy.append(0)
    }

    /// The most similar indexed text with F >= threshold, if any (exact: never misses one a brute-force scan would
    /// find). Ties go to the earliest added text, as a linear scan keeping the first maximum would.
    public func nearDuplicate(of text: String) -> (index: Int, score: Double)? {
        nearDuplicate(ofTokens: RougeL.tokens(text))
    }

    public func nearDuplicate(ofTokens tokens: [String]) -> (index: Int, score: Double)? {
        let n = tokens.count
        guard n > 0, count > 0 else { return nil }
        let query = encode(tokens)
        let (minLength, maxLength) = lengthBounds(n)
        guard minLength <= maxLength else { return nil }

        // Local references: the loops then read plain arrays, with no per-access exclusivity checks on `self`.
        let postings = self.postings, offsets = self.offsets, lengths = self.lengths, signatures = self.signatures
        // Rarest first; elements absent from the index (df 0) lead and cost nothing to probe.
        let ordered = query.elements.sorted { a, b in
            let fa = postings[Int(a)].count, fb = postings[Int(b)].count
            return fa != fb ? fa < fb : a < b
        }
        let absent = n - ordered.count
        let prefix = n - minOverlap(n, minLength) + 1
        let needed = (minLength...maxLength).map { minOverlap(n, $0) }
        let querySignature = query.elements.reduce(0) { $0 | Self.signatureBit($1) }

        nextStamp()
        let stamp = queryStamp
        var survivors: [Int32] = []
        seenBy.withUnsafeMutableBufferPointer { seen in
            var position = absent
            var maxAtPosition = maxLength
            for element in ordered {
                if position >= prefix { break }
                // A match first seen at `position` shares at most n − position elements; that caps its length.
                while maxAtPosition >= minLength && needed[maxAtPosition - minLength] > n - position { maxAtPosition -= 1 }
                position += 1
                if maxAtPosition < minLength { break }
                for ref in postings[Int(element)] where seen[Int(ref)] != stamp {
                    seen[Int(ref)] = stamp
                    let m = Int(lengths[Int(ref)])
                    guard m >= minLength && m <= maxAtPosition else { continue }
                    let lacking = (signatures[Int(ref)] & ~querySignature).nonzeroBitCount
                    if m - lacking >= needed[m - minLength] { survivors.append(ref) }
                }
            }
        }
        guard !survivors.isEmpty else { return nil }
        for element in query.elements { elementMark[Int(element)] = stamp }
        var best: (index: Int, score: Double)?
        query.ids.withUnsafeBufferPointer { ids in
            tokenStore.withUnsafeBufferPointer { tokens in
                elementStore.withUnsafeBufferPointer { elements in
                    elementMark.withUnsafeBufferPointer { mark in
                        for ref in survivors {
                            let r = Int(ref), lower = offsets[r], upper = offsets[r + 1], m = upper - lower
                            let needed = needed[m - minLength]
                            // Shared elements (multiset overlap): an upper bound on the LCS.
                            var overlap = 0
                            for e in elements[lower..<upper] { overlap &+= mark[Int(e)] == stamp ? 1 : 0 }
                            if overlap < needed { continue }
                            if let b = best, RougeL.fMeasure(lcs: overlap, candidateCount: n, referenceCount: m) < b.score { continue }
                            let lcs = RougeL.lcsKernel(ids, UnsafeBufferPointer(rebasing: tokens[lower..<upper]))
                            let score = RougeL.fMeasure(lcs: lcs, candidateCount: n, referenceCount: m)
                            guard score >= threshold else { continue }
                            if let b = best, score < b.score || (score == b.score && r > b.index) { continue }
                            best = (r, score)
                        }
                    }
                }
            }
        }
        return best
    }

    /// The same answer by scanning every text with exact LCS: the reference the index is tested and benchmarked against.
    public func bruteForceNearDuplicate(of text: String) -> (index: Int, score: Double)? {
        let tokens = RougeL.tokens(text)
        guard !tokens.isEmpty else { return nil }
        let ids = tokens.map { vocabulary[$0] ?? -1 }
        var best: (index: Int, score: Double)?
        ids.withUnsafeBufferPointer { ids in
            tokenStore.withUnsafeBufferPointer { tokens in
                for r in 0..<count {
                    let slice = UnsafeBufferPointer(rebasing: tokens[offsets[r]..<offsets[r + 1]])
                    let score = RougeL.fMeasure(lcs: RougeL.lcsKernel(ids, slice), candidateCount: ids.count,
                                                referenceCount: slice.count)
                    if score >= threshold, score > (best?.score ?? -1) { best = (r, score) }
                }
            }
        }
        return best
    }

    // MARK: - Bounds

    /// Slack so float rounding in F = 2PR/(P+R) can never make a bound reject a pair whose computed F reaches t.
    private static let slack = 1e-7

    /// Fewest shared elements (and LCS) with which texts of n and m tokens can reach F >= t.
    @inline(__always)
    private func minOverlap(_ n: Int, _ m: Int) -> Int {
        max(1, Int((threshold * Double(n + m) / 2 - Self.slack).rounded(.up)))
    }

    /// Lengths m for which F >= t is possible at all (LCS <= min(n, m)).
    private func lengthBounds(_ n: Int) -> (Int, Int) {
        let lower = Int((Double(n) * threshold / (2 - threshold) - Self.slack).rounded(.up))
        let upper = Int((Double(n) * (2 - threshold) / threshold + Self.slack).rounded(.down))
        return (max(1, lower), upper)
    }

    // MARK: - Helpers

    private struct Encoded { var ids: [Int32]; var elements: [Int32] }

    /// Token ids (−1 for tokens never indexed) and the elements the index knows; the others match nothing.
    private func encode(_ tokens: [String]) -> Encoded {
        var ids: [Int32] = [], elements: [Int32] = []
        ids.reserveCapacity(tokens.count)
        elements.reserveCapacity(tokens.count)
        for token in tokens {
            guard let id = vocabulary[token] else { ids.append(-1); continue }
            ids.append(id)
            let k = Int(occurrenceScratch[Int(id)])
            occurrenceScratch[Int(id)] += 1
            let known = occurrenceElements[Int(id)]
            if k < known.count { elements.append(known[k]) }
        }
        for id in ids where id >= 0 { occurrenceScratch[Int(id)] = 0 }
        return Encoded(ids: ids, elements: elements)
    }

    @inline(__always)
    private static func signatureBit(_ element: Int32) -> UInt64 {
        1 << ((UInt32(bitPattern: element) &* 0x9E37_79B1) >> 26)
    }

    private func nextStamp() {
        if queryStamp == UInt32.max {
            for i in seenBy.indices { seenBy[i] = 0 }
            for i in elementMark.indices { elementMark[i] = 0 }
            queryStamp = 0
        }
        queryStamp += 1
    }
}
