import Foundation
import SRLMMetrics
import SRLMStore

extension EvalMetric {
    /// A statistic with its bootstrap interval, as `eval_metric` stores it.
    init(_ metric: String, _ estimate: Estimate?, n: Int) {
        self.init(metric, estimate?.value, lo: estimate?.interval?.low, hi: estimate?.interval?.high, n: n)
    }
}

extension Array where Element == EvalMetric {
    /// The figures as a run's stats (an undefined one as null).
    var stats: [String: Any] {
        Dictionary(map { ($0.metric, $0.value.map { $0 as Any } ?? NSNull()) }) { first, _ in first }
    }
}

extension EvalMetric {
    /// Whether the stored interval says anything about the spread (`Interval.isEstimable`: zero width is not
    /// estimable); nil when the figure has no interval. Decided when shown, so the stored bounds stay as computed.
    public var intervalEstimable: Bool? {
        guard let lo, let hi else { return nil }
        return Interval.isEstimable(low: lo, high: hi)
    }

    /// The interval as `eval` prints it: "[0.5000, 0.7500]", "not estimable", or "" when there is none.
    public var intervalText: String {
        guard let lo, let hi else { return "" }
        guard intervalEstimable == true else { return Interval.notEstimable }
        return "[\(String(format: "%.4f", lo)), \(String(format: "%.4f", hi))]"
    }
}
