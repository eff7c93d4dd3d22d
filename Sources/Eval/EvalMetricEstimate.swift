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
