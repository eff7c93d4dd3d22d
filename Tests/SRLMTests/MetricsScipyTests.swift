import Foundation
import Testing
@testable import SRLMMetrics

extension MetricsTests {
    /// Runs Tests/Fixtures/metrics_check.py (the script that cross-checks stored results) on the hand-worked
    /// fixture, so the script and the Swift definitions are held to each other.
    @Suite struct ScipyScript {
        static let scipyAvailable: Bool = (try? TestSupport.run("python3", ["-c", "import scipy"]).status) == 0

        @Test(.enabled(if: scipyAvailable, "python3 cannot import scipy: the cross-check script needs it"))
        func scriptAgreesWithTheLibrary() throws {
            let replies = MetricsTests.fixture.map { prompt in
                ["replies": prompt.replies.map { reply -> [String: Any] in
                    ["rank": reply.humanRank, "score": reply.meanScore.map { $0 as Any } ?? NSNull(), "length": reply.length]
                }]
            }
            let directory = TestSupport.temporaryDirectory("srlm-ranked")
            defer { try? FileManager.default.removeItem(at: directory) }
            let file = directory.appendingPathComponent("ranked.json")
            try JSONSerialization.data(withJSONObject: replies).write(to: file)
            let output = try TestSupport.run("python3", [TestSupport.fixture("metrics_check.py"), file.path])
            #expect(output.status == 0, "\(output.output)")
            let checked = try JSONDecoder().decode([String: Double?].self, from: Data(output.output.utf8))
            let result = RankedAgreement.compute(MetricsTests.fixture, bootstrap: BootstrapOptions(resamples: 0),
                                                 randomJudge: RandomJudgeOptions(repetitions: 0))
            for metric in [RankedMetric.spearmanPerPrompt, .kendallPerPrompt, .spearmanPooled, .kendallPooled,
                           .pairwiseAccuracy] {
                let scipy = try #require(checked[metric.rawValue] ?? nil, "\(metric) missing from \(output.output)")
                #expect(close(result[metric]?.value, scipy), "\(metric): srlm \(String(describing: result[metric])), scipy \(scipy)")
            }
        }
    }
}
