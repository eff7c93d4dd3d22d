import Foundation
import GRDB
import Testing
@testable import SRLMExport
@testable import SRLMStore

/// Collects exported bytes in memory (a class, since `Exporter.run` takes its sink by value).
final class CollectingSink: ExportSink {
    var data = Data()
    var lines = 0
    func write(_ bytes: UnsafeRawBufferPointer) throws { data.append(contentsOf: bytes); lines += bytes.reduce(0) { $0 + ($1 == 10 ? 1 : 0) } }
}

enum ExportFixtures {
    static func list(_ messages: [Message]) -> Value { .text(String(decoding: CanonicalJSON.messages(messages), as: UTF8.self)) }

    /// Writes `rows` (by column name) as a new version of `name`.
    static func write(_ store: Store, _ name: String, _ kind: ArtifactKind, _ rows: [[String: Value]]) throws -> DatasetVersion {
        try store.write { db in
            let w = try VersionWriter(db, experiment: "default", name: name, kind: kind, runID: nil)
            for row in rows { try w.append(row) }
            return try w.finish()
        }
    }

    static func pair(_ prompt: [Message], _ chosen: String, _ rejected: String, scores: (Double, Double)? = nil) -> [String: Value] {
        var row: [String: Value] = ["prompt": list(prompt), "chosen": list([.assistant(chosen)]),
                                    "rejected": list([.assistant(rejected)])]
        if let scores { row["chosen_score"] = .real(scores.0); row["rejected_score"] = .real(scores.1) }
        return row
    }

    static func example(_ prompt: [Message], _ response: String) -> [String: Value] {
        ["prompt": list(prompt), "response": list([.assistant(response)])]
    }

    static func export(_ store: Store, _ version: DatasetVersion, _ format: ExportFormat) throws -> Data {
        let sink = CollectingSink()
        let n = try Exporter.run(store, version: version, format: format, to: sink)
        #expect(n == version.rowCount && sink.lines == n)
        return sink.data
    }

    /// Each line parsed as a JSON object; also checks every line ends in "\n".
    static func objects(_ data: Data) throws -> [[String: Any]] {
        #expect(data.isEmpty || data.last == UInt8(ascii: "\n"))
        return try data.split(separator: UInt8(ascii: "\n")).map {
            try #require(try JSONSerialization.jsonObject(with: Data($0)) as? [String: Any])
        }
    }

    static func messages(_ any: Any?) -> [[String: String]]? { any as? [[String: String]] }
}

@Suite struct ExportTests {
    typealias F = ExportFixtures

    func pairsStore() throws -> (Store, DatasetVersion) {
        let store = try TestSupport.makeStore()
        let v = try F.write(store, "hh", .pairs, [
            F.pair([.user("What is 2+2?")], "4", "5", scores: (5, 1)),
            F.pair([.user("Hi"), .assistant("Hello! How can I help?"), .user("Tell me a \"joke\"/pun")], "Puns…", "No."),
            F.pair([.user("Name a colour")], "Blue", "Seven"),
        ])
        return (store, v)
    }

    func iftStore() throws -> (Store, DatasetVersion) {
        let store = try TestSupport.makeStore()
        let v = try F.write(store, "sft", .ift, [
            F.example([.system("Be brief."), .user("Capital of France?")], "Paris."),
            F.example([.user("Say hi")], "Hi!"),
        ])
        return (store, v)
    }

    @Test func trlConversationalPreference() throws {
        let (store, v) = try pairsStore()
        let data = try F.export(store, v, .trl)
        #expect(String(decoding: data, as: UTF8.self).hasPrefix(#"{"chosen":[{"content":"4","role":"assistant"}],"prompt":["#))
        let rows = try F.objects(data)
        #expect(rows.count == 3)
        // Scores travel as score_chosen/score_rejected where a row has them.
        #expect(Set(rows[0].keys) == ["prompt", "chosen", "rejected", "score_chosen", "score_rejected"])
        #expect(rows[0]["score_chosen"] as? Double == 5 && rows[0]["score_rejected"] as? Double == 1)
        #expect(rows.dropFirst().allSatisfy { Set($0.keys) == ["prompt", "chosen", "rejected"] })
        #expect(F.messages(rows[0]["prompt"]) == [["role": "user", "content": "What is 2+2?"]])
        #expect(F.messages(rows[0]["rejected"]) == [["role": "assistant", "content": "5"]])
        #expect(F.messages(rows[1]["prompt"])?.map { $0["role"]! } == ["user", "assistant", "user"])
        #expect(F.messages(rows[1]["prompt"])?.last?["content"] == "Tell me a \"joke\"/pun")
        #expect(F.messages(rows[1]["chosen"]) == [["role": "assistant", "content": "Puns…"]])
        #expect(F.messages(rows[2]["chosen"])?.first?["content"] == "Blue")
    }

    @Test func trlStandardAcceptsSingleTurnAndRefusesMultiTurnNamingTheRow() throws {
        let store = try TestSupport.makeStore()
        let single = try F.write(store, "single", .pairs, [F.pair([.user("Q1")], "A1", "B1"),
                                                           F.pair([.user("Q/2")], "A\n2", "B2", scores: (4.5, 2))])
        let data = try F.export(store, single, .trlStandard)
        #expect(String(decoding: data, as: UTF8.self) == #"""
            {"chosen":"A1","prompt":"Q1","rejected":"B1"}
            {"chosen":"A\n2","prompt":"Q/2","rejected":"B2","score_chosen":4.5,"score_rejected":2}

            """#)
        let (pairs, v) = try pairsStore()
        do {
            _ = try F.export(pairs, v, .trlStandard)
            Issue.record("a multi-turn prompt was exported as trl-standard")
        } catch {
            let message = String(describing: error)
            #expect(message.contains("row ord 1 of hh@1"), "\(message)")
            #expect(message.contains("3 (user, assistant, user)"), "\(message)")
        }
        // A system message before the user turn is refused too: it would be lost in a plain string prompt.
        let system = try F.write(store, "sys", .pairs, [F.pair([.user("ok")], "a", "b"), F.pair([.system("S"), .user("Q")], "a", "b")])
        #expect(throws: SRLMError.invalid("row ord 1 of sys@1: format trl-standard needs a prompt of exactly one user message, "
                                           + "this one has 2 (system, user); format trl keeps whole conversations")) {
            _ = try F.export(store, system, .trlStandard)
        }
    }

    @Test func openAIPreferenceShape() throws {
        let (store, v) = try pairsStore()
        let data = try F.export(store, v, .openaiPreference)
        #expect(String(decoding: data, as: UTF8.self).hasPrefix(#"{"input":{"messages":[{"content":"What is 2+2?","role":"user"}]},"non_preferred_output":"#))
        let rows = try F.objects(data)
        #expect(rows.count == 3)
        #expect(rows.allSatisfy { Set($0.keys) == ["input", "preferred_output", "non_preferred_output"] })
        let input = try #require(rows[1]["input"] as? [String: Any])
        #expect(Set(input.keys) == ["messages"])
        #expect(F.messages(input["messages"])?.count == 3)
        #expect(F.messages(rows[0]["preferred_output"]) == [["role": "assistant", "content": "4"]])
        #expect(F.messages(rows[0]["non_preferred_output"]) == [["role": "assistant", "content": "5"]])
    }

    @Test func sftMessagesAndOpenAIChatShapes() throws {
        let (store, v) = try iftStore()
        let sft = try F.objects(F.export(store, v, .sft))
        #expect(sft.count == 2 && sft.allSatisfy { Set($0.keys) == ["prompt", "completion"] })
        #expect(F.messages(sft[0]["prompt"]) == [["role": "system", "content": "Be brief."], ["role": "user", "content": "Capital of France?"]])
        #expect(F.messages(sft[0]["completion"]) == [["role": "assistant", "content": "Paris."]])
        let expected: [[[String: String]]] = [
            [["role": "system", "content": "Be brief."], ["role": "user", "content": "Capital of France?"],
             ["role": "assistant", "content": "Paris."]],
            [["role": "user", "content": "Say hi"], ["role": "assistant", "content": "Hi!"]],
        ]
        for format in [ExportFormat.messages, .openaiChat] {
            let data = try F.export(store, v, format)
            let rows = try F.objects(data)
            #expect(rows.allSatisfy { Set($0.keys) == ["messages"] })
            #expect(rows.map { F.messages($0["messages"]) ?? [] } == expected)
            #expect(String(decoding: data, as: UTF8.self).split(separator: "\n").last
                    == #"{"messages":[{"content":"Say hi","role":"user"},{"content":"Hi!","role":"assistant"}]}"#)
        }
    }

    @Test func eftAndCandidatesExportAsConversations() throws {
        let store = try TestSupport.makeStore()
        let eft = try F.write(store, "eft", .eft, [
            ["prompt": F.list([.user("Judge this")]), "response": F.list([.assistant("Good. Score: 4")]),
             "score": .real(4), "target_origin": .text("human"), "split": .text("train")],
        ])
        let candidates = try F.write(store, "cands", .candidates, [
            ["prompt": F.list([.user("Q")]), "response": F.list([.assistant("A")]), "model": .text("m"),
             "sample_index": .int(0), "temperature": .real(0.7)],
        ])
        #expect(F.messages(try F.objects(F.export(store, eft, .openaiChat))[0]["messages"])?.last?["content"] == "Good. Score: 4")
        #expect(F.messages(try F.objects(F.export(store, candidates, .sft))[0]["completion"]) == [["role": "assistant", "content": "A"]])
    }

    @Test func openAIChatRefusesRolesOpenAIRejects() throws {
        let store = try TestSupport.makeStore()
        let v = try F.write(store, "odd", .ift, [
            F.example([.user("fine")], "ok"),
            ["prompt": F.list([Message(role: "prompter", content: "Q")]), "response": F.list([.assistant("A")])],
        ])
        #expect(throws: SRLMError.invalid("row ord 1 of odd@1: role 'prompter' is not one OpenAI chat fine-tuning accepts (system, developer, user, assistant)")) {
            _ = try F.export(store, v, .openaiChat)
        }
        // The generic messages format keeps roles as they are.
        #expect(try F.objects(F.export(store, v, .messages)).count == 2)
        // An empty prompt list splices to the response alone.
        let bare = try F.write(store, "bare", .ift, [["prompt": F.list([]), "response": F.list([.assistant("A")])]])
        #expect(String(decoding: try F.export(store, bare, .messages), as: UTF8.self)
                == #"{"messages":[{"content":"A","role":"assistant"}]}"# + "\n")
    }

    @Test func wrongKindIsRefusedWithTheFormatsNeeds() throws {
        let (store, pairs) = try pairsStore()
        #expect(throws: SRLMError.invalid("dataset 'hh@1' holds pairs; format sft needs ift, eft or candidates")) {
            _ = try Exporter.run(store, version: pairs, format: .sft, to: CollectingSink())
        }
        let (ift, sft) = try iftStore()
        #expect(throws: SRLMError.invalid("dataset 'sft@1' holds ift; format trl needs pairs")) {
            _ = try Exporter.run(ift, version: sft, format: .trl, to: CollectingSink())
        }
        for format in ExportFormat.allCases {
            #expect(format.acceptedKinds.contains(.pairs) != format.acceptedKinds.contains(.ift))
        }
    }

    @Test func fileExportsAreDeterministicAndAtomic() throws {
        let (store, v) = try pairsStore()
        let dir = TestSupport.temporaryDirectory("export")
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.jsonl").path, b = dir.appendingPathComponent("b.jsonl").path
        #expect(try Exporter.run(store, version: v, format: .trl, to: FileSink(path: a)) == 3)
        #expect(try Exporter.run(store, version: v, format: .trl, to: FileSink(path: b)) == 3)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: a))
        #expect(bytes == (try Data(contentsOf: URL(fileURLWithPath: b))))
        #expect(bytes == (try F.export(store, v, .trl)))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["a.jsonl", "b.jsonl"])

        // trl-standard fails at row 1: the existing file stays as it was and no temporary file is left behind.
        #expect(throws: SRLMError.self) { try Exporter.run(store, version: v, format: .trlStandard, to: FileSink(path: a)) }
        let fresh = dir.appendingPathComponent("fresh.jsonl").path
        #expect(throws: SRLMError.self) { try Exporter.run(store, version: v, format: .trlStandard, to: FileSink(path: fresh)) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["a.jsonl", "b.jsonl"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: a)) == bytes)

        let missing = dir.appendingPathComponent("no/such/dir/out.jsonl").path
        #expect(throws: SRLMError.self) { try Exporter.run(store, version: v, format: .trl, to: FileSink(path: missing)) }
    }

    @Test func emptyVersionExportsAnEmptyFile() throws {
        let store = try TestSupport.makeStore()
        let v = try F.write(store, "empty", .ift, [])
        let path = TestSupport.temporaryDirectory("export").appendingPathComponent("empty.jsonl").path
        #expect(try Exporter.run(store, version: v, format: .messages, to: FileSink(path: path)) == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).isEmpty)
    }

    @Test func corruptBlobIsAnErrorNotWrongText() throws {
        let (store, _) = try pairsStore()
        // A pack whose keys no longer match its bytes (as a flipped bit on disk would leave it; SQL must first drop
        // the seal that keeps packs unchanged).
        let v = try F.write(store, "bad", .ift, [["prompt": F.list([.user("q")]), "response": F.list([.assistant("x")])]])
        try store.write { db in
            try db.execute(sql: "DROP TRIGGER blob_pack_immutable")
            try db.execute(sql: "UPDATE blob_pack SET keys = zeroblob(length(keys)) WHERE id = (SELECT max(id) FROM blob_pack)")
        }
        do {
            _ = try F.export(store, v, .messages)
            Issue.record("a corrupt blob was exported")
        } catch {
            #expect(String(describing: error).contains("is corrupt"), "\(error)")
        }
    }
}
