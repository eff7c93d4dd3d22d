import Foundation
import SRLMMetrics
import SRLMStore

/// How the data moved between two versions (`srlm diff A B --summary`), not only which rows: per text column the
/// length distribution side by side and the novelty of B's word 3-grams; per number column (scores, margins, token
/// counts) the distribution and its histogram; pairs' chosen/rejected length ratio; and the overlap of rows,
/// prompts and texts. Means carry 95 % intervals so that noise is not read as drift: a seeded percentile bootstrap
/// over prompts (`PromptClusters`), since a version's rows share prompts and are not independent; novelty's is a
/// bootstrap over B's rows (seeded).
public struct DiffSummary: Codable, Sendable {
    public struct Distribution: Codable, Sendable, Equatable {
        public var count: Int
        /// The prompts those values answer: the n of the mean's interval, which resamples prompts.
        public var prompts: Int
        public var mean: Double?
        public var meanInterval: Interval?
        public var median: Double?
        public var p90: Double?
    }

    public struct Change: Codable, Sendable, Equatable {
        public var value: Double
        public var interval: Interval?
        /// True when the versions share prompts and the interval drew them together on both sides (paired).
        public var paired: Bool
    }

    public struct ColumnSummary: Codable, Sendable {
        public var column: String
        /// Characters for texts; the value for numbers.
        public var unit: String
        public var a: Distribution
        public var b: Distribution
        /// B's mean minus A's, with its bootstrap interval over prompts.
        public var change: Change?
        /// Numbers: how many values fall in each integer bucket ("4": 12), A and B.
        public var histogramA: [String: Int]?
        public var histogramB: [String: Int]?
        /// Texts: the share of B's word 3-grams that never occur in A.
        public var novelty: Estimate?
    }

    public struct Overlap: Codable, Sendable {
        /// Rows with the same key and meaning in both (what `srlm diff` calls unchanged).
        public var rows: Int
        public var prompts: Int
        public var promptsA: Int
        public var promptsB: Int
        /// Distinct texts (any text column) present in both.
        public var texts: Int
    }

    public var from: String
    public var to: String
    public var kind: String
    public var rowsA: Int
    public var rowsB: Int
    public var columns: [ColumnSummary]
    /// Pairs: mean chosen length over mean rejected length, A and B.
    public var lengthRatioA: Double?
    public var lengthRatioB: Double?
    public var overlap: Overlap

    public static func compute(_ a: VersionColumns, _ b: VersionColumns, unchangedRows: Int) -> DiffSummary {
        var columns: [ColumnSummary] = []
        for name in a.version.kind.columns.map(\.name) {
            if let textsA = a.texts[name], let textsB = b.texts[name] {
                let (la, lb) = (clusters(textsA.map { $0.map { Double($0.count) } }, a),
                                clusters(textsB.map { $0.map { Double($0.count) } }, b))
                columns.append(ColumnSummary(column: name, unit: "characters", a: distribution(la), b: distribution(lb),
                                             change: change(la, lb), novelty: novelty(of: textsB, against: textsA)))
            } else if let numbersA = a.numbers[name], let numbersB = b.numbers[name] {
                columns.append(numberSummary(name, clusters(numbersA, a), clusters(numbersB, b)))
            }
        }
        if a.version.kind == .pairs {
            columns.append(numberSummary("margin", clusters(margins(a), a), clusters(margins(b), b)))
        }
        func ratio(_ v: VersionColumns) -> Double? {
            guard let chosen = mean(lengths(v.texts["chosen"] ?? [])), let rejected = mean(lengths(v.texts["rejected"] ?? [])),
                  rejected > 0 else { return nil }
            return chosen / rejected
        }
        let promptsA = Set((a.blobs["prompt"] ?? []).compactMap { $0 }), promptsB = Set((b.blobs["prompt"] ?? []).compactMap { $0 })
        let textsA = Set(a.blobs.values.flatMap { $0 }.compactMap { $0 }), textsB = Set(b.blobs.values.flatMap { $0 }.compactMap { $0 })
        return DiffSummary(from: a.version.ref, to: b.version.ref, kind: a.version.kind.rawValue, rowsA: a.rows, rowsB: b.rows,
                           columns: columns, lengthRatioA: a.version.kind == .pairs ? ratio(a) : nil,
                           lengthRatioB: b.version.kind == .pairs ? ratio(b) : nil,
                           overlap: Overlap(rows: unchangedRows, prompts: promptsA.intersection(promptsB).count,
                                            promptsA: promptsA.count, promptsB: promptsB.count,
                                            texts: textsA.intersection(textsB).count))
    }

    /// A column's values (one per row, nil where absent) with the prompt of each row.
    typealias ColumnValues = (values: [Double], clusters: PromptClusters)

    static func clusters(_ values: [Double?], _ v: VersionColumns) -> ColumnValues {
        (values.compactMap { $0 }, PromptClusters(values: values, prompts: v.blobs["prompt"] ?? []))
    }

    static func numberSummary(_ name: String, _ a: ColumnValues, _ b: ColumnValues) -> ColumnSummary {
        ColumnSummary(column: name, unit: "value", a: distribution(a), b: distribution(b), change: change(a, b),
                      histogramA: histogram(a.values), histogramB: histogram(b.values))
    }

    /// One per row, nil where either score is missing, so that rows stay aligned with their prompts.
    static func margins(_ v: VersionColumns) -> [Double?] {
        zip(v.numbers["chosen_score"] ?? [], v.numbers["rejected_score"] ?? []).map { c, r in
            guard let c, let r else { return nil }
            return c - r
        }
    }

    static func lengths(_ texts: [String?]) -> [Double] { texts.compactMap { $0.map { Double($0.count) } } }

    static func mean(_ values: [Double]) -> Double? { values.isEmpty ? nil : values.reduce(0, +) / Double(values.count) }

    static func distribution(_ column: ColumnValues) -> Distribution {
        let sorted = column.values.sorted()
        return Distribution(count: sorted.count, prompts: column.clusters.prompts.count, mean: mean(column.values),
                            meanInterval: column.clusters.meanInterval(),
                            median: sorted.isEmpty ? nil : Bootstrap.percentile(sorted, 0.5),
                            p90: sorted.isEmpty ? nil : Bootstrap.percentile(sorted, 0.9))
    }

    /// B's mean minus A's (over rows, as the means are) with the bootstrap interval over prompts.
    static func change(_ a: ColumnValues, _ b: ColumnValues) -> Change? {
        guard let ma = mean(a.values), let mb = mean(b.values) else { return nil }
        let resampled = PromptClusters.change(a.clusters, b.clusters)
        return Change(value: mb - ma, interval: resampled?.interval, paired: resampled?.paired ?? false)
    }

    static func histogram(_ values: [Double]) -> [String: Int] {
        Dictionary(grouping: values, by: { String(Int($0.rounded(.down))) }).mapValues(\.count)
    }

    static func trigrams(_ text: String) -> [String] {
        let words = text.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init)
        guard words.count >= 3 else { return [] }
        return (0..<(words.count - 2)).map { words[$0..<($0 + 3)].joined(separator: " ") }
    }

    /// The share of B's word 3-gram occurrences never seen in A, with a seeded bootstrap over B's rows.
    static func novelty(of b: [String?], against a: [String?]) -> Estimate? {
        let seen = Set(a.compactMap { $0 }.flatMap(trigrams))
        let rows = b.compactMap { $0 }.map { text -> (unseen: Int, total: Int) in
            let grams = trigrams(text)
            return (grams.count { !seen.contains($0) }, grams.count)
        }.filter { $0.total > 0 }
        guard !rows.isEmpty else { return nil }
        let estimates = Bootstrap.estimates(units: rows.count, options: BootstrapOptions(resamples: 200)) { indices -> [String: Double] in
            let total = indices.reduce(0) { $0 + rows[$1].total }
            return total == 0 ? [:] : ["novelty": Double(indices.reduce(0) { $0 + rows[$1].unseen }) / Double(total)]
        }
        return estimates["novelty"]
    }
}
