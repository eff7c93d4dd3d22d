import Testing
@testable import SRLMStages

@Suite struct ScoreParserTests {
    @Test(arguments: [
        ("The answer is relevant and clear.\nScore: 4", 4.0),
        ("Score: 2\nOn reflection it deserves more.\nScore: 3.5", 3.5),
        ("**Score:** 5", 5.0),
        ("score : 0", 0.0),
        ("Justification here. Score: 4/5", 4.0),
        ("Total: Score - 1.", 1.0),
    ])
    func parsesTheLastValidScore(output: String, expected: Double) {
        #expect(ScoreParser.parse(output) == .score(expected))
    }

    @Test(arguments: [
        "The response is great, 100 points!",
        "Score: 10",
        "Score: 8/10",
        "Score: 4/10",
        "",
        "I would give it four out of five.",
    ])
    func failuresAreFailuresNotNumbers(output: String) {
        #expect(ScoreParser.parse(output).score == nil)
        #expect(ScoreParser.parse(output).failure != nil)
    }
}
