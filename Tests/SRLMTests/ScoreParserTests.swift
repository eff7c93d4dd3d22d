import Foundation
import GRDB
import Testing
@testable import SRLMImport
@testable import SRLMStore

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

    /// Imported EFT examples are read by the same parser as the judge's outputs: "Score: 10" is no score for either.
    @Test func importReadsScoresAsTheJudgeDoes() throws {
        let store = try TestSupport.makeStore()
        let responses = ["Fine.\nScore: 4", "Too generous.\nScore: 10", "**Score:** 3"]
        let lines = try responses.map { response in
            String(decoding: try JSONSerialization.data(withJSONObject: ["prompt": "Q?", "completion": response]), as: UTF8.self)
        }
        let path = TestSupport.writeTemp(lines.joined(separator: "\n") + "\n")
        let version = try #require(try Importer.run(store, ImportOptions(target: .eft, path: path)).version)
        let scores = try store.read { try Double?.fetchAll($0, sql: "SELECT score FROM eft_example WHERE version_id = ? ORDER BY ord", arguments: [version.id]) }
        #expect(scores == [4, nil, 3])
        #expect(scores == responses.map { ScoreParser.parse($0).score })
    }
}
