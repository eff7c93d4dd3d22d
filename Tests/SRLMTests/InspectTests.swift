import Foundation
import GRDB
import Testing
@testable import CLI
@testable import SRLMStages
@testable import SRLMStore

/// One round built by hand the way the stages record it: seed prompts imported by a run, a gen-prompts run's prompts,
/// a gen-candidates run's two replies (the rejected one carries a terminal title escape), a judge run's two samples per
/// reply with a registered template, a pairs run's pair, and a DPO run that read the pairs and made M1 from M0.
enum LineageFixture {
    static let hostile = "\u{1b}]0;pwned\u{07}"
    static let question = "Name a prime number."
    static let chosenText = "Seven is prime."
    static let rejectedText = "Nine \(hostile)is prime."
    static let ggufSHA = String(repeating: "ab", count: 32)

    struct Built {
        let store: Store
        let runs: [String: Int64]
    }

    static func build() throws -> Built {
        let store = try TestSupport.makeStore()
        let template = try StageRows.registerTemplate(store, name: "judge-additive-5", version: 1, body: "Rate the reply from 0 to 5.")
        var runs: [String: Int64] = [:]
        try store.write { db in
            let experiment = "default"
            func finished(_ stage: String, _ config: [String: Any], seed: Int64? = nil, inputs: [Int64] = []) throws -> Int64 {
                let run = try Runs.begin(db, experiment: experiment, stage: stage, config: config, seed: seed, inputs: inputs)
                try Runs.finish(db, run.id)
                runs[stage] = run.id
                return run.id
            }
            let m0 = try Checkpoints.register(db, experiment: experiment, NewCheckpoint(
                name: "M0", uri: "/models/M0", files: [CheckpointFile(path: "m0.gguf", format: .gguf, sha256: ggufSHA, size: 1)]))

            let importRun = try finished("import", ["path": "seeds.jsonl", "format": "self-instruct"])
            let seeds = try VersionWriter(db, experiment: experiment, name: "seeds", kind: .prompts, runID: importRun)
            try seeds.append(["prompt": .text(Blobs.text([.user("Name a color.")])), "origin": .text("seed")])
            let seedVersion = try seeds.finish()

            let genPrompts = try finished("gen-prompts", ["round": 1, "seedShots": 6, "generatedShots": 2, "model": "M0",
                                                          "sampling": ["temperature": 0.6, "topP": 0.9, "maxTokens": 128, "seed": 7]],
                                          seed: 7, inputs: [seedVersion.id])
            let prompts = try VersionWriter(db, experiment: experiment, name: "generated-prompts", kind: .prompts, runID: genPrompts)
            try prompts.append(["prompt": .text(Blobs.text([.user("Say hello.")])), "origin": .text("generated"), "source_run_id": .int(genPrompts)])
            try prompts.append(["prompt": .text(Blobs.text([.user(question)])), "origin": .text("generated"), "source_run_id": .int(genPrompts)])
            let promptVersion = try prompts.finish()
            try Rounds.setVersion(db, experiment: experiment, iteration: 1, role: .prompts, version: promptVersion.id)

            let modelKey = "sha256:" + ggufSHA
            let genCandidates = try finished("gen-candidates", ["round": 1, "candidates": 2, "model": "m0.gguf", "modelKey": modelKey,
                                                                "prompts": promptVersion.ref], seed: 0, inputs: [promptVersion.id])
            let candidates = try VersionWriter(db, experiment: experiment, name: "candidates", kind: .candidates, runID: genCandidates)
            for (index, text) in [chosenText, rejectedText].enumerated() {
                try candidates.append(["prompt": .text(Blobs.text([.user(question)])), "response": .text(Blobs.text([.assistant(text)])),
                                       "model": .text("m0.gguf"), "sample_index": .int(Int64(index)), "temperature": .real(0.7),
                                       "top_p": .real(0.9), "max_tokens": .int(512), "seed": .int(Int64(index)),
                                       "completion_tokens": .int(Int64(10 + index)), "finish_reason": .text("stop"),
                                       "call_hash": .bytes(Data([0xca, 0xfe, UInt8(index)]))])
            }
            let candidateVersion = try candidates.finish()
            try Rounds.setVersion(db, experiment: experiment, iteration: 1, role: .candidates, version: candidateVersion.id)

            let judge = try finished("judge", ["round": 1, "samples": 2, "model": "m0.gguf", "modelKey": modelKey,
                                               "template": "judge-additive-5@1", "candidates": candidateVersion.ref],
                                     inputs: [candidateVersion.id])
            let judgments = try VersionWriter(db, experiment: experiment, name: "judgments", kind: .judgments, runID: judge)
            for (text, scores, side) in [(chosenText, [4.0, 5.0], "chosen"), (rejectedText, [2.0, 1.0], "rejected")] {
                for (k, score) in scores.enumerated() {
                    try judgments.append(["prompt": .text(Blobs.text([.user(question)])), "response": .text(Blobs.text([.assistant(text)])),
                                          "judge_model": .text("m0.gguf"), "sample_index": .int(Int64(k)),
                                          "output": .text("Rationale \(side) \(k)\(side == "rejected" ? hostile : "").\nScore: \(Int(score))"),
                                          "score": .real(score), "mode": .text("free"), "template": .blob(template)])
                }
            }
            let judgmentVersion = try judgments.finish()
            try Rounds.setVersion(db, experiment: experiment, iteration: 1, role: .judgments, version: judgmentVersion.id)

            let pairsRun = try finished("pairs", ["round": 1, "minMargin": 0, "judgments": judgmentVersion.ref], inputs: [judgmentVersion.id])
            let pairs = try VersionWriter(db, experiment: experiment, name: "pairs", kind: .pairs, runID: pairsRun)
            try pairs.append([.text(Blobs.text([.user(question)])), .text(Blobs.text([.assistant(chosenText)])),
                              .text(Blobs.text([.assistant(rejectedText)])), .real(4.5), .real(1.5)])
            let pairVersion = try pairs.finish()
            try Rounds.setVersion(db, experiment: experiment, iteration: 1, role: .pairs, version: pairVersion.id)

            let train = try finished("train-dpo", ["beta": 0.1, "name": "M1", "base": "M0"], seed: 42, inputs: [pairVersion.id])
            try Checkpoints.register(db, experiment: experiment, NewCheckpoint(
                name: "M1", uri: "/models/M1", baseID: m0.id, trainRunID: train, dataVersionID: pairVersion.id,
                files: [CheckpointFile(path: "m1.safetensors", format: .hf, sha256: String(repeating: "cd", count: 32), size: 2)]))
        }
        return Built(store: store, runs: runs)
    }

    static func version(_ store: Store, _ ref: String) throws -> DatasetVersion {
        try store.read { try DatasetVersion.resolve($0, ref, experiment: "default") }
    }
}

@Suite struct BlameTests {
    /// A pair's row leads to every record behind it and to the training run that used it.
    @Test func blameFindsEveryLinkOfAPair() throws {
        let built = try LineageFixture.build()
        let blame = try Lineage.blame(built.store, try LineageFixture.version(built.store, "pairs@1"), row: "0")
        #expect(blame.madeBy?.id == built.runs["pairs"] && blame.kind == .pairs)

        #expect(blame.prompt.text == LineageFixture.question)
        #expect(blame.prompt.row == Lineage.RowRef(version: "generated-prompts@1", ord: 1) && blame.prompt.origin == "generated")
        #expect(blame.prompt.run?.id == built.runs["gen-prompts"] && blame.prompt.run?.seed == 7)
        #expect(blame.prompt.run?.config["seedShots"] == .int(6) && blame.prompt.run?.config["sampling"]?["temperature"] == .double(0.6))

        #expect(blame.candidates?.version == "candidates@1" && blame.candidates?.run?.id == built.runs["gen-candidates"])
        let chosen = try #require(blame.chosen), rejected = try #require(blame.rejected)
        #expect(chosen.text == LineageFixture.chosenText && chosen.score == 4.5 && rejected.score == 1.5)
        let chosenCandidate = try #require(chosen.candidates.first)
        #expect(chosen.candidates.count == 1 && chosenCandidate.row.ord == 0 && chosenCandidate.seed == 0)
        #expect(chosenCandidate.completionTokens == 10 && chosenCandidate.finishReason == "stop" && chosenCandidate.callHash == "cafe00")
        #expect(rejected.candidates.map(\.row.ord) == [1] && rejected.candidates.first?.temperature == 0.7)

        #expect(chosen.judgments.map(\.score) == [4, 5] && rejected.judgments.map(\.score) == [2, 1])
        #expect(chosen.judgments.allSatisfy { $0.template == Lineage.TemplateRef(name: "judge-additive-5", version: 1) && $0.judgeModel == "m0.gguf" })
        #expect(rejected.judgments.first?.output.hasPrefix("Rationale rejected 0") == true)

        #expect(blame.judging?.step.version == "judgments@1" && blame.judging?.step.run?.id == built.runs["judge"])
        #expect(blame.judging?.checkpoint?.name == "M0" && blame.judging?.checkpoint?.matchedBy == "model key")

        let use = try #require(blame.usedBy.first)
        #expect(blame.usedBy.count == 1 && use.run.id == built.runs["train-dpo"] && use.run.stage == "train-dpo")
        #expect(use.checkpoint?.name == "M1" && use.checkpoint?.base == "M0" && use.checkpoint?.dataVersion == "pairs@1")
    }

    /// A row named by its prompt's text is the same row; unknown rows and kinds without lineage are errors.
    @Test func rowsAreNamedByOrdOrPromptText() throws {
        let built = try LineageFixture.build()
        let pairs = try LineageFixture.version(built.store, "pairs@1")
        #expect(try Lineage.blame(built.store, pairs, row: LineageFixture.question).row.ord == 0)
        #expect(throws: SRLMError.notFound("pairs@1 has no row 3 (rows 0 to 0)")) { try Lineage.blame(built.store, pairs, row: "3") }
        #expect(throws: SRLMError.notFound("pairs@1 has no row whose prompt is 'x'); DROP TABLE pair; --'")) {
            try Lineage.blame(built.store, pairs, row: "x'); DROP TABLE pair; --")
        }
        let candidates = try LineageFixture.version(built.store, "candidates@1")
        #expect(throws: SRLMError.self) { try Lineage.blame(built.store, candidates, row: "Seven") }
    }

    /// A candidate leads back to its prompt and forward to its judge samples and the judge run that read it.
    @Test func blameOfACandidateAndOfAJudgment() throws {
        let built = try LineageFixture.build()
        let candidate = try Lineage.blame(built.store, try LineageFixture.version(built.store, "candidates@1"), row: "1")
        #expect(candidate.reply?.text == LineageFixture.rejectedText && candidate.reply?.judgments.map(\.score) == [2, 1])
        #expect(candidate.prompt.run?.id == built.runs["gen-prompts"] && candidate.judging?.step.version == "judgments@1")
        #expect(candidate.usedBy.map(\.run.id) == [built.runs["judge"]])
        let candidateTree = InspectOutput.tree(candidate)
        #expect(!candidateTree.contains("candidates: candidates@1") && candidateTree.contains("judgments: judgments@1"))

        let judgment = try Lineage.blame(built.store, try LineageFixture.version(built.store, "judgments@1"), row: "2")
        #expect(judgment.reply?.candidates.map(\.row.ord) == [1] && judgment.candidates?.version == "candidates@1")
        #expect(judgment.usedBy.map(\.run.id) == [built.runs["pairs"]] && judgment.judging?.checkpoint?.name == "M0")
    }

    /// An imported seed prompt names the import that brought it.
    @Test func aSeedPromptNamesItsImport() throws {
        let built = try LineageFixture.build()
        let blame = try Lineage.blame(built.store, try LineageFixture.version(built.store, "seeds@1"), row: "0")
        #expect(blame.prompt.origin == "seed" && blame.prompt.run?.stage == "import" && blame.prompt.run?.config["path"] == .string("seeds.jsonl"))
        #expect(blame.usedBy.map(\.run.stage) == ["gen-prompts"])
    }

    /// The tree shows every link and escapes the reply's and the rationale's control sequences; the JSON parses.
    @Test func treeAndJSONRenderings() throws {
        let built = try LineageFixture.build()
        let blame = try Lineage.blame(built.store, try LineageFixture.version(built.store, "pairs@1"), row: "0")
        let tree = InspectOutput.tree(blame)
        for expected in ["pairs@1 row 0 (pairs)", "generated by run \(built.runs["gen-prompts"]!) gen-prompts", "\"seedShots\":6",
                         "candidate candidates@1 #0: model m0.gguf, sample 0, temperature 0.7, top-p 0.9, max tokens 512, seed 0, 10 tokens, finish stop",
                         "template judge-additive-5 v1", "judging checkpoint: M0", "run \(built.runs["train-dpo"]!) train-dpo",
                         "produced checkpoint M1", "Nine \\x1b]0;pwned\\x07is prime.", "Rationale rejected 0\\x1b]0;pwned\\x07."] {
            #expect(tree.contains(expected), "missing: \(expected)\n\(tree)")
        }
        #expect(!tree.unicodeScalars.contains { $0.value == 0x1b || $0.value == 0x07 })

        let json = try InspectOutput.json(blame)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect((object["used_by"] as? [[String: Any]])?.count == 1)
        #expect(((object["rejected"] as? [String: Any])?["text"] as? String) == LineageFixture.rejectedText)
        #expect(!json.unicodeScalars.contains { $0.value == 0x1b || $0.value == 0x07 })
        #expect(try JSONDecoder.contract.decode(Lineage.Blame.self, from: Data(json.utf8)) == blame)
    }
}

@Suite struct PairLineageQueryTests {
    /// queries/pair-lineage.sql gives the version-level links blame follows.
    @Test func theNamedQueryLinksPairsToJudgmentsAndCheckpoints() throws {
        let built = try LineageFixture.build()
        let result = try SQLQuery.run(built.store, try Schema.query(named: "pair-lineage"), arguments: ["experiment": "default"])
        let rows = result.rows.map { Dictionary(uniqueKeysWithValues: zip(result.columns, $0.map(QueryResult.display))) }
        #expect(rows.count == 1)
        #expect(rows.first?["pairs"] == "pairs@1" && rows.first?["made_by"] == "pairs" && rows.first?["judgments"] == "judgments@1")
        #expect(rows.first?["used_by"] == "\(built.runs["train-dpo"]!) train-dpo" && rows.first?["checkpoints"] == "M1")
    }
}

@Suite struct SideBySideTests {
    /// Both sides carry their samples from the judgments the pairs run read; the columns escape control sequences.
    @Test func columnsShowBothSidesSamplesEscaped() throws {
        let built = try LineageFixture.build()
        let view = try Lineage.sideBySide(built.store, try LineageFixture.version(built.store, "pairs@1"), limit: 10, offset: 0)
        #expect(view.judgments == "judgments@1" && view.rows.count == 1)
        let row = try #require(view.rows.first)
        #expect(row.prompt == LineageFixture.question && row.chosen.samples.count == 2 && row.rejected.samples.count == 2)

        let text = InspectOutput.sideBySide(view, width: 100)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("CHOSEN (score 4.5)") && $0.contains("│ REJECTED (score 1.5)") }, "\(text)")
        #expect(lines.contains { $0.contains("── judge sample 1: score 5") && $0.contains("│ ── judge sample 1: score 1") }, "\(text)")
        #expect(lines.allSatisfy { InspectOutput.displayWidth($0) <= 100 })
        for expected in ["Rationale chosen 0.", "Rationale rejected 1\\x1b]0;pwned\\x07.", "Nine \\x1b]0;pwned\\x07is prime.", "margin 3"] {
            #expect(text.contains(expected), "missing: \(expected)\n\(text)")
        }
        #expect(!text.unicodeScalars.contains { $0.value == 0x1b || $0.value == 0x07 })

        let blocks = InspectOutput.sideBySide(view, width: nil)
        #expect(blocks.contains("\nCHOSEN (score 4.5)\nSeven is prime.") && blocks.contains("\nREJECTED (score 1.5)\nNine \\x1b]0;pwned\\x07is prime."))
        #expect(!blocks.contains("│"))
    }

    /// `--offset` past the rows shows none; a curated copy of the pairs still finds the judgments through its derive run.
    @Test func offsetsAndDerivedPairs() throws {
        let built = try LineageFixture.build()
        #expect(try Lineage.sideBySide(built.store, try LineageFixture.version(built.store, "pairs@1"), limit: 10, offset: 1).rows.isEmpty)
        _ = try SRLMStore.Derive.run(built.store, name: "wide-pairs", from: "pairs@1", where: "margin >= 2")
        let derived = try Lineage.sideBySide(built.store, try LineageFixture.version(built.store, "wide-pairs@1"), limit: 10, offset: 0)
        #expect(derived.judgments == "judgments@1" && derived.rows.first?.rejected.samples.map(\.score) == [2, 1])
        let json = try InspectOutput.json(derived)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["pairs"] as? String == "wide-pairs@1" && (object["rows"] as? [Any])?.count == 1)
    }

    /// Pairs without a run take the judgments of their round; imported pairs have none, and say so.
    @Test func roundJudgmentsAndImportedPairs() throws {
        let built = try LineageFixture.build()
        try built.store.write { db in
            let judgments = try DatasetVersion.resolve(db, "judgments@1", experiment: "default")
            let handMade = try VersionWriter(db, experiment: "default", name: "hand-pairs", kind: .pairs, runID: nil)
            try handMade.append([.text(Blobs.text([.user(LineageFixture.question)])), .text(Blobs.text([.assistant(LineageFixture.chosenText)])),
                                 .text(Blobs.text([.assistant(LineageFixture.rejectedText)])), .real(4.5), .real(1.5)])
            try Rounds.setVersion(db, experiment: "default", iteration: 2, role: .pairs, version: try handMade.finish().id)
            try Rounds.setVersion(db, experiment: "default", iteration: 2, role: .judgments, version: judgments.id)
            let importRun = try Runs.begin(db, experiment: "default", stage: "import", config: ["path": "hh.jsonl"])
            let imported = try VersionWriter(db, experiment: "default", name: "hh", kind: .pairs, runID: importRun.id)
            try imported.append([.text(Blobs.text([.user("Imported question?")])), .text(Blobs.text([.assistant("Yes.")])),
                                 .text(Blobs.text([.assistant("No.")])), .null, .null])
            try imported.finish()
            try Runs.finish(db, importRun.id)
        }
        let fromRound = try Lineage.sideBySide(built.store, try LineageFixture.version(built.store, "hand-pairs@1"), limit: 5, offset: 0)
        #expect(fromRound.judgments == "judgments@1" && fromRound.rows.first?.chosen.samples.map(\.score) == [4, 5])

        let hh = try LineageFixture.version(built.store, "hh@1")
        let view = try Lineage.sideBySide(built.store, hh, limit: 5, offset: 0)
        #expect(view.judgments == nil && view.rows.first?.chosen.samples.isEmpty == true)
        #expect(InspectOutput.sideBySide(view, width: 80).contains("no judgments found"))
        let blame = try Lineage.blame(built.store, hh, row: "0")
        #expect(blame.madeBy?.stage == "import" && blame.judging == nil && blame.candidates == nil && blame.prompt.row == nil)
        #expect(blame.chosen?.candidates.isEmpty == true && blame.chosen?.score == nil && blame.usedBy.isEmpty)
        let tree = InspectOutput.tree(blame)
        #expect(tree.contains("in no prompts version of this experiment") && tree.contains("no candidate row found")
                && tree.contains("no run has read hh@1"))
    }

    /// Long words are cut, spaces kept, tabs expanded; nothing is longer than the width.
    @Test func wrapping() {
        #expect(InspectOutput.wrap("abcdefgh ij", width: 3) == ["abc", "def", "gh", "ij"])
        #expect(InspectOutput.wrap("a b c\n\td", width: 5) == ["a b c", "    d"])
        #expect(InspectOutput.wrap("one two three", width: 7) == ["one two", "three"])
        #expect(InspectOutput.wrap("x\n\ny", width: 4) == ["x", "", "y"])
        // Wide characters take two columns each.
        #expect(InspectOutput.wrap("日本語テキスト", width: 6) == ["日本語", "テキス", "ト"])
        #expect(InspectOutput.displayWidth("é 日本") == 6 && InspectOutput.wrap("é 日本", width: 6) == ["é 日本"])
        #expect(InspectOutput.wrap("é 日本", width: 5) == ["é", "日本"])
        #expect(InspectOutput.wrap("日日", width: 1) == ["日", "日"])
    }
}

@Suite struct TerminalTextTests {
    @Test func controlsAreEscapedNewlinesAndTabsKept() {
        #expect(TerminalText.escaped("a\u{1b}[2Jb\rc\u{9b}d\u{7f}") == "a\\x1b[2Jb\\x0dc\\x9bd\\x7f")
        #expect(TerminalText.escaped("line\n\tnext é 日本") == "line\n\tnext é 日本")
        #expect(TerminalText.escapedJSON("{\"a\":\"x\u{9b}y\"}") == "{\"a\":\"x\\u009by\"}")
    }
}

@Suite struct InspectCommandTests {
    /// The srlm binary's verbs print what the library finds: blame's JSON decodes to the lineage, `show --side-by-side`
    /// piped prints plain blocks and with `--width` columns, escaped either way; csv and missing rows are errors.
    @Test func theVerbsPrintTheLineage() throws {
        let built = try LineageFixture.build()
        func srlm(_ arguments: [String]) throws -> (status: Int32, output: String) {
            try TestSupport.run(EngineSupport.srlmBinary, arguments + ["--store", built.store.path])
        }
        let blame = try srlm(["blame", "pairs@1", "0", "--format", "json"])
        #expect(blame.status == 0)
        let decoded = try JSONDecoder.contract.decode(Lineage.Blame.self, from: Data(blame.output.utf8))
        #expect(blame.output.contains("\"used_by\"") && !blame.output.contains("usedBy"))
        #expect(decoded.usedBy.first?.checkpoint?.name == "M1" && decoded.judging?.checkpoint?.name == "M0")

        let blocks = try srlm(["show", "pairs@1", "--side-by-side"])
        #expect(blocks.status == 0 && blocks.output.contains("\nREJECTED (score 1.5)\nNine \\x1b]0;pwned\\x07is prime.") && !blocks.output.contains("│"))
        let columns = try srlm(["show", "pairs@1", "--side-by-side", "--width", "90"])
        #expect(columns.output.contains("│ REJECTED (score 1.5)") && columns.output.contains("│ Rationale rejected 1\\x1b]0;pwned\\x07."))
        for output in [blame.output, blocks.output, columns.output] {
            #expect(!output.unicodeScalars.contains { $0.value == 0x1b || $0.value == 0x07 })
        }

        let csv = try srlm(["show", "pairs@1", "--side-by-side", "--format", "csv"])
        #expect(csv.status != 0 && csv.output.contains("shown as text or json"))
        let missing = try srlm(["blame", "pairs@1", "9"])
        #expect(missing.status != 0 && missing.output.contains("pairs@1 has no row 9"))
    }
}
