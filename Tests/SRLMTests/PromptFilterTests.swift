import Foundation
import Testing
@testable import SRLMStages

/// ROUGE-L against the Python rouge_score package (expected values computed with rouge-score 0.1.2), the exact index
/// against brute force, Self-Instruct's filters and the instruction extractor.
@Suite struct PromptFilterTests {
    /// The 175 seed and 252 user-oriented instructions, in file order (seed lines 0…174, user lines 175…426).
    /// Read per test, throwing: a missing file fails the tests that need it, not the whole runner.
    static func instructions() throws -> [String] {
        try ["self-instruct/seed_tasks.jsonl", "self-instruct/user_oriented_instructions.jsonl"].flatMap { file in
            let text = try String(contentsOfFile: TestSupport.sharedData(file), encoding: .utf8)
            return try text.split(separator: "\n").map { line in
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                return try #require(object?["instruction"] as? String, "\(file): a line without an instruction")
            }
        }
    }

    // MARK: - RougeL vs rouge_score

    @Test func tokensMatchRougeScore() {
        #expect(RougeL.tokens("Translate 'good morning' into French.") == ["translate", "good", "morning", "into", "french"])
        #expect(RougeL.tokens("What is 3.14 times 2?") == ["what", "is", "3", "14", "times", "2"])
        #expect(RougeL.tokens("snake_case and CamelCase") == ["snake", "case", "and", "camelcase"])
        // Python lowercases first: "İ" → "i̇" gives "i", the Kelvin sign gives "k"; other non-ASCII letters separate.
        #expect(RougeL.tokens("İstanbul KELVIN \u{212A} ÉCOLE naïve café 3.14 x_y")
                == ["i", "stanbul", "kelvin", "k", "cole", "na", "ve", "caf", "3", "14", "x", "y"])
        #expect(RougeL.tokens("Ünïcödé—dash…ellipsis ﬁ ligature") == ["n", "c", "d", "dash", "ellipsis", "ligature"])
        #expect(RougeL.tokens("  !!! ??? ").isEmpty && RougeL.tokens("").isEmpty)
    }

    @Test func syntheticPairsMatchRougeScore() {
        let cases: [(String, String, Double)] = [
            ("Write a short poem about the sea.", "Write a poem about the deep blue sea.", 0.800000),
            ("Explain why the sky is blue.", "Why is the sky blue? Explain briefly.", 0.615385),
            ("List three fruits that are red.", "Name 3 red fruits.", 0.200000),
            ("Summarize the article in two sentences.", "Summarize the following article in 2 sentences, please!", 0.714286),
            ("the the the cat", "the cat the the", 0.750000),
            ("Translate 'good morning' into French.", "TRANSLATE \"Good-Morning\" INTO FRENCH!!!", 1.000000),
            ("Give me a recipe for pancakes without eggs.", "Give me a recipe for eggless pancakes.", 0.800000),
            ("Résumé: write a café menu for İstanbul", "resum write a caf menu for i stanbul", 0.823529),
            ("What is 3.14 times 2?", "what is 3 14 times two", 0.833333),
            ("Sort the numbers: 5, 3, 9, 1.", "Sort these numbers in ascending order: 5, 3, 9, 1.", 0.705882),
            ("!!! ???", "Anything at all", 0.000000),
        ]
        for (a, b, expected) in cases {
            #expect(abs(RougeL.f(a, b) - expected) < 5e-7, "\(a) | \(b)")
            #expect(RougeL.f(b, a) == RougeL.f(a, b))
        }
    }

    /// Drops every third whitespace word (the same rule the Python side used).
    static func dropEveryThird(_ t: String) -> String {
        t.split(whereSeparator: \.isWhitespace).enumerated().filter { $0.offset % 3 != 2 }.map { String($0.element) }
            .joined(separator: " ")
    }

    /// Swaps words 0↔1, 4↔5, 8↔9, …
    static func swapPairs(_ t: String) -> String {
        var w = t.split(whereSeparator: \.isWhitespace).map(String.init)
        var k = 0
        while k + 1 < w.count { w.swapAt(k, k + 1); k += 4 }
        return w.joined(separator: " ")
    }

    @Test func sharedInstructionPairsMatchRougeScore() throws {
        let texts = try Self.instructions()
        #expect(texts.count == 427)
        // (kind, line i, line j, rouge_score F): plain = F(text i, text j); drop3/swap = text i against its perturbation.
        let cases: [(String, Int, Int, Double)] = [
            ("plain", 277, 398, 0.250000), ("plain", 417, 349, 0.266667), ("plain", 312, 59, 0.272727),
            ("plain", 280, 67, 0.272727), ("plain", 37, 108, 0.357143), ("plain", 160, 174, 0.400000),
            ("plain", 60, 292, 0.400000), ("plain", 335, 346, 0.470588), ("plain", 342, 177, 0.000000),
            ("plain", 165, 77, 0.090909), ("drop3", 16, 16, 0.833333), ("swap", 34, 34, 0.722222),
            ("drop3", 53, 53, 0.800000), ("swap", 71, 71, 0.700000), ("drop3", 90, 90, 0.833333),
            ("swap", 108, 108, 0.727273), ("drop3", 127, 127, 0.750000), ("swap", 145, 145, 0.857143),
        ]
        for (kind, i, j, expected) in cases {
            let got: Double
            switch kind {
            case "plain": got = RougeL.f(texts[i], texts[j])
            case "drop3": got = RougeL.f(texts[i], Self.dropEveryThird(texts[i]))
            default: got = RougeL.f(Self.swapPairs(texts[i]), texts[i])
            }
            #expect(abs(got - expected) < 5e-7, "\(kind) \(i) \(j): \(got)")
        }
    }

    @Test func lcsAndArithmeticEdgeCases() {
        #expect(RougeL.lcs([1, 2, 3, 4, 5], [2, 4, 5, 1]) == 3)
        #expect(RougeL.lcs([], [1]) == 0 && RougeL.lcs([7, 7, 7], [7, 7]) == 2)
        // 2·21/(23+37) is 0.7 on paper but 0.6999999999999998 in rouge_score's float arithmetic; 14/20 is exactly 0.7.
        #expect(RougeL.fMeasure(lcs: 21, candidateCount: 23, referenceCount: 37) == 0.6999999999999998)
        #expect(RougeL.fMeasure(lcs: 7, candidateCount: 10, referenceCount: 10) == 0.7)
    }

    // MARK: - RougeIndex vs brute force


    /// A variant of `text`: a few word drops, adjacent swaps, repeats or words borrowed from another instruction.
    static func perturb(_ text: String, _ rng: inout SeededGenerator, donors: [String]) -> String {
        var words = text.split(whereSeparator: \.isWhitespace).map(String.init)
        for _ in 0..<Int.random(in: 1...3, using: &rng) where words.count > 2 {
            let k = Int.random(in: 0..<words.count, using: &rng)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: words.remove(at: k)
            case 1: if k + 1 < words.count { words.swapAt(k, k + 1) }
            case 2: words.insert(words[k], at: k)
            default:
                let donor = donors.randomElement(using: &rng)!.split(separator: " ")
                words[k] = String(donor.randomElement(using: &rng)!)
            }
        }
        return words.joined(separator: " ")
    }

    static func corpus(size: Int, seed: UInt64) throws -> [String] {
        var rng = SeededGenerator(seed: seed)
        let instructions = try instructions()
        var out = instructions
        while out.count < size { out.append(perturb(out.randomElement(using: &rng)!, &rng, donors: instructions)) }
        out.shuffle(using: &rng)
        return out
    }

    @Test(arguments: [0.5, 0.7, 0.9])
    func indexAgreesWithBruteForce(threshold: Double) throws {
        let texts = try Self.corpus(size: 2_000, seed: 42)
        let instructions = try Self.instructions()
        let index = RougeIndex(threshold: threshold)
        let indexed = Array(texts.prefix(1_500))
        for t in indexed { index.add(t) }
        #expect(index.count == 1_500)
        var rng = SeededGenerator(seed: 7)
        let queries = Array(texts.suffix(500)) + (0..<500).map { _ in
            Self.perturb(indexed.randomElement(using: &rng)!, &rng, donors: instructions)
        }
        var hits = 0
        for q in queries {
            let fast = index.nearDuplicate(of: q), slow = index.bruteForceNearDuplicate(of: q)
            #expect(fast?.index == slow?.index && fast?.score == slow?.score, "\(threshold): \(q)")
            if fast != nil { hits += 1 }
        }
        // The comparison has to exercise both answers, not only "no match".
        #expect(hits > 100 && hits < queries.count, "hits \(hits)")

        // The integer brute force itself agrees with RougeL.f on strings (a slower, independent path).
        let tokens = indexed.map(RougeL.tokens)
        for q in queries.prefix(60) {
            let qt = RougeL.tokens(q)
            var best: (index: Int, score: Double)?
            for (r, t) in tokens.enumerated() {
                let f = RougeL.f(qt, t)
                if f >= threshold, f > (best?.score ?? -1) { best = (r, f) }
            }
            let slow = index.bruteForceNearDuplicate(of: q)
            #expect(best?.index == slow?.index && best?.score == slow?.score)
        }
    }

    @Test func indexThresholdBoundaryAndEdges() {
        // 23-token candidate vs 37-token reference sharing a 21-token subsequence: F = 0.6999999999999998 < 0.7.
        let ref = (0..<37).map { "w\($0)" }
        let near = Array(ref.prefix(21)) + ["x1", "x2"]
        let index = RougeIndex(threshold: 0.7)
        index.add(tokens: ref)
        index.add("")
        #expect(index.count == 2)
        #expect(index.nearDuplicate(ofTokens: near) == nil && index.bruteForceNearDuplicate(of: near.joined(separator: " ")) == nil)
        // 7 of 10 shared in order: exactly 0.7, which counts.
        let ten = (0..<10).map { "v\($0)" }
        index.add(tokens: ten)
        let hit = index.nearDuplicate(ofTokens: Array(ten.prefix(7)) + ["y1", "y2", "y3"])
        #expect(hit?.index == 2 && hit?.score == 0.7)
        // Ties go to the earliest text; empty queries never match.
        index.add(tokens: ten)
        #expect(index.nearDuplicate(ofTokens: ten)?.index == 2)
        #expect(index.nearDuplicate(of: "...") == nil)
        // Repeated tokens: "a a a b" vs "a b b b" shares only "a", "b" (LCS 2 → F 0.5).
        let rep = RougeIndex(threshold: 0.5)
        rep.add("a b b b")
        #expect(rep.nearDuplicate(of: "a a a b")?.score == 0.5)
        #expect(RougeIndex(threshold: 0.51).nearDuplicate(of: "a a a b") == nil)
    }

    // MARK: - PromptFilter

    @Test func everyRejectReason() {
        var config = PromptFilterConfig()
        config.keywords.append("spreadsheet")
        let filter = PromptFilter(config: config,
                                  existing: ["Write a short poem about the ocean at night.", "Give three tips for staying healthy."],
                                  evaluationSets: ["Explain the difference between a virus and a bacterium in simple terms.",
                                                   "What is the capital city of Australia?"])
        func reason(_ s: String) -> RejectReason? { filter.check(s).reason }
        #expect(reason("   \n\t ") == .empty)
        #expect(reason("Write a poem.") == .tooShort)                       // 3 words: Self-Instruct drops <= 3
        #expect(reason(Array(repeating: "word", count: 151).joined(separator: " ")) == .tooLong)
        #expect(filter.check("Describe the image below in detail.").detail == "keyword 'image'")
        #expect(reason("Please GO   TO the store and buy milk.") == .keyword)  // phrase, case and spacing normalised
        #expect(reason("Create a SPREADSHEET of monthly expenses for a family.") == .keyword)
        #expect(reason("\"Summarize this paragraph in one sentence.") == .punctuationStart)
        #expect(reason("Sure, here are the tasks you asked for:") == .chatPreamble)
        #expect(reason("Here's how you can do it step by step:") == .chatPreamble)
        #expect(filter.check("Surely you can list five rivers in Europe?").accepted)   // "sure" only as a whole word
        #expect(reason("¿Cuál es la capital de Francia hoy?") == .nonASCIIStart)
        #expect(reason("give three TIPS for  staying healthy.") == .exactDuplicate)
        #expect(reason("What is the capital city of Australia?") == .contaminated)
        let contaminated = filter.check("Explain the difference between a virus and a bacterium in plain terms.")
        #expect(contaminated.reason == .contaminated && contaminated.detail?.hasPrefix("ROUGE-L 0.92 to evaluation text: Explain") == true)
        let near = filter.check("Write a short poem about the ocean at dawn.")
        #expect(near.reason == .nearDuplicate)
        #expect(near.detail == "ROUGE-L 0.89 to: Write a short poem about the ocean at night.")
        // Rejected prompts are not indexed; accepted ones are, so the batch deduplicates against itself.
        #expect(filter.indexedCount == 3)
        #expect(filter.check("Plan a three day trip to Kyoto on a small budget.") == .accept)
        #expect(filter.indexedCount == 4)
        #expect(reason("Plan a three day trip to Kyoto on a tight budget.") == .nearDuplicate)
        #expect(Set(RejectReason.allCases.map(\.rawValue)) == ["empty", "too-short", "too-long", "keyword", "chat-preamble", "punctuation-start",
            "non-ascii-start", "exact-duplicate", "near-duplicate", "contaminated"])
    }

    @Test func keywordsAreWholeWords() {
        let filter = PromptFilter(config: PromptFilterConfig(), existing: [])
        #expect(filter.check("Imagine you are a pirate and describe your ship.").accepted)       // not "image"
        #expect(filter.check("Explain what a mapping between two sets means.").accepted)          // not "map"
        #expect(filter.check("Explain what a profile is in social networks.").accepted)           // not "file"
        #expect(filter.check("Label the maps' legends with their colors please.").reason == .keyword)
        #expect(filter.check("Sketch a plot_summary of the novel in few words.").accepted)        // "_" is a word char
        #expect(filter.check("Play some Music for a relaxing evening at home.").reason == .keyword)
    }

    @Test func lengthLimitsFollowConfig() {
        var config = PromptFilterConfig()
        config.minWords = 1
        config.maxWords = 4
        let filter = PromptFilter(config: config, existing: [])
        #expect(filter.check("Hello").reason == .tooShort)
        #expect(filter.check("Say hello").accepted)
        #expect(filter.check("Count from one to ten").reason == .tooLong)
    }

    @Test func configDecodesPartiallyAndNamesBadFields() throws {
        let decoded = try JSONDecoder().decode(PromptFilterConfig.self, from: Data(#"{"rougeThreshold": 0.6}"#.utf8))
        var expected = PromptFilterConfig()
        expected.rougeThreshold = 0.6
        #expect(decoded == expected)
        let roundTrip = try JSONDecoder().decode(PromptFilterConfig.self, from: JSONEncoder().encode(expected))
        #expect(roundTrip == expected)
        for (json, field) in [(#"{"rougeTreshold": 0.6}"#, "rougeTreshold"), (#"{"rougeThreshold": 1.5}"#, "rougeThreshold"),
                              (#"{"minWords": 10, "maxWords": 5}"#, "maxWords"), (#"{"keywords": ["ok", " "]}"#, "keywords")] {
            do {
                _ = try JSONDecoder().decode(PromptFilterConfig.self, from: Data(json.utf8))
                Issue.record("accepted \(json)")
            } catch let DecodingError.dataCorrupted(context) {
                #expect(context.codingPath.last?.stringValue == field, "\(json): \(context.debugDescription)")
            }
        }
    }

    // MARK: - InstructionExtractor

    @Test func extractorHandlesTrickyCompletions() {
        let cases: [(String, String?)] = [
            ("Task 9: Write a poem.\nTask 10: Summarize the news.", "Write a poem."),
            (" Write a poem about rain.\nTask 10: Something else", "Write a poem about rain."),
            ("9. \"Explain X\"", "Explain X"),
            ("9. \"Explain X\"\n10. Explain Y", "Explain X"),
            ("\n\n   Task 9: List five prime numbers.\n\nTask 10: x", "List five prime numbers."),
            ("Task 9:\nDescribe a sunset in three sentences.\nTask 10: y", "Describe a sunset in three sentences."),
            ("**Task 9:** Name two rivers in Europe.", "Name two rivers in Europe."),
            ("### Task 9. Instruction: Rewrite the sentence in passive voice.", "Rewrite the sentence in passive voice."),
            ("Write a story.\nIt should be funny.\n\nMore text", "Write a story.\nIt should be funny."),
            ("“Translate the phrase into German.”", "Translate the phrase into German."),
            ("\"Describe your ideal weekend", "Describe your ideal weekend"),
            ("'Cat' or 'dog': which is the better pet?", "'Cat' or 'dog': which is the better pet?"),
            ("Explain why the dogs' tails wag.", "Explain why the dogs' tails wag."),
            ("9.5 liters is how many gallons?", "9.5 liters is how many gallons?"),
            ("Task 9 Write a haiku.", "Write a haiku."),
            ("", nil), ("   \n\n  ", nil), ("Task 9:", nil), ("Task 9: \"\"", nil), ("Task 9:\nTask 10: x", nil),
        ]
        for (completion, expected) in cases {
            #expect(InstructionExtractor.extract(completion) == expected, "\(completion.debugDescription)")
        }
    }
}
