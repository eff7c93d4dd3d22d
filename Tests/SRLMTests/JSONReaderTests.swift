import Foundation
import Testing
@testable import SRLMImport

/// The import's JSON reader against Foundation's `JSONSerialization`: the same values for what both accept, a
/// refusal for what Foundation refuses, and errors that say where.
struct JSONReaderTests {
    /// A value as comparable text: objects with sorted keys, numbers by their Double value, booleans apart from 0/1.
    static func canonical(_ value: Any) -> String {
        switch value {
        case let text as String: return "s" + text.debugDescription
        case let array as [Any]: return "[" + array.map(canonical).joined(separator: ",") + "]"
        case let object as [String: Any]:
            return "{" + object.keys.sorted().map { $0.debugDescription + ":" + canonical(object[$0]!) }.joined(separator: ",") + "}"
        case let number as NSNumber:
            if String(cString: number.objCType) == "c" { return number.boolValue ? "true" : "false" }
            return "n\(Double(number.stringValue) ?? number.doubleValue)"
        case is NSNull: return "null"
        default: return "?\(type(of: value))"
        }
    }

    func both(_ text: String) throws -> (mine: String, foundation: String) {
        let bytes = ArraySlice(Array(text.utf8))
        let foundation = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        return (Self.canonical(try JSONReader.parse(bytes)), Self.canonical(foundation))
    }

    @Test func readsWhatFoundationReadsTheSameWay() throws {
        let texts = [
            #"{"prompt": "q", "chosen": [{"role": "assistant", "content": "a"}], "score": 3, "w": 0.25}"#,
            #"  [1, -0, 0.5, -12.75e-3, 1E+2, 3e2, 9223372036854775807, -9223372036854775808, 18446744073709551616]  "#,
            #"[true, false, null, "", {}, [], [[]], {"a": {"b": {"c": [null]}}}]"#,
            #""tab\there \"quoted\" back\\slash \/ \b\f\n\r é ü 日本 😀""#,
            #""\u00e9\u65E5\ud83d\ude00\u0000 end""#,
            #"{"dup": 1, "dup": 2}"#,
            "\"caf\u{e9} \u{1F600}\"",
            "42", "-7.5", "null", "true",
            #"{"weird keys": {"": 1, "a.b": 2, "\u0041": 3}}"#,
        ]
        for text in texts {
            let (mine, foundation) = try both(text)
            #expect(mine == foundation, "\(text)")
        }
        #expect(Self.canonical(try JSONReader.parse(ArraySlice(Array(#"{"dup": 1, "dup": 2}"#.utf8)))) == #"{"dup":n2.0}"#)
    }

    @Test func refusesWhatFoundationRefuses() {
        let texts = [
            "", "   ", "{", "[1 2]", #"{"a" 1}"#, "{a: 1}", "[01]", "[1.]", "[.5]", "[1e]", "[-]",
            "[+1]", "tru", "nul", "[True]", #""unclosed"#, "\"raw\ttab\"", #""bad \x escape""#, #""\u12""#,
            #""\ud83d alone""#, #""\ude00 alone""#, "[1] [2]", "[NaN]", "[Infinity]", "'single'",
        ]
        for text in texts {
            #expect(throws: JSONReader.Failure.self, "\(text)") { try JSONReader.parse(ArraySlice(Array(text.utf8))) }
            #expect(throws: (any Error).self, "Foundation accepted \(text)") {
                try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
            }
        }
        // Stricter than Foundation on Linux, which lets a trailing comma pass: RFC 8259 (and Python, DuckDB) do not.
        for text in ["[1,]", #"{"a": 1,}"#] {
            #expect(throws: JSONReader.Failure.self, "\(text)") { try JSONReader.parse(ArraySlice(Array(text.utf8))) }
        }
    }

    @Test func quotesEscapesAndControlBytesAreFoundAtEveryPlaceInAWord() throws {
        // The reader steps over plain text eight bytes at a time: whatever stops it must be seen at any offset.
        for offset in 0..<20 {
            let plain = String(repeating: "é", count: offset / 2) + String(repeating: "a", count: offset % 2)
            let escaped = "\"\(plain)\\n\(plain)\\\"x\""
            let (mine, foundation) = try both(escaped)
            #expect(mine == foundation && mine == "s" + "\(plain)\n\(plain)\"x".debugDescription, "\(escaped)")
            let control = Array("\"\(plain)".utf8) + [0x07] + Array("tail\"".utf8)
            #expect(throws: JSONReader.Failure.self, "offset \(offset)") { try JSONReader.parse(ArraySlice(control)) }
            let unclosed = Array("\"\(plain)abcdefgh".utf8)
            #expect(throws: JSONReader.Failure.self, "offset \(offset)") { try JSONReader.parse(ArraySlice(unclosed)) }
        }
    }

    @Test func sharedDataReadsAsFoundationReadsIt() throws {
        // Real rows with escapes, Unicode and nesting: OpenAssistant trees, HHH pairs, self-instruct seeds.
        for name in ["oasst/en_trees_60.jsonl", "hhh-alignment/hhh_alignment_pairs.jsonl", "self-instruct/seed_tasks.jsonl",
                     "mt-bench/question.jsonl"] {
            let text = try String(contentsOfFile: TestSupport.sharedData(name), encoding: .utf8)
            var lines = 0
            for line in text.split(separator: "\n") where !line.allSatisfy(\.isWhitespace) {
                let (mine, foundation) = try both(String(line))
                #expect(mine == foundation, "\(name) line \(lines + 1)")
                lines += 1
            }
            #expect(lines > 10, "\(name)")
        }
    }

    @Test func errorsSayWhereAndDeepNestingIsRefused() throws {
        let failure = try #require(throws: JSONReader.Failure.self) { try JSONReader.parse(ArraySlice(Array(#"{"a": [1, 2 x]}"#.utf8))) }
        #expect(failure.byte == 13 && failure.message.contains("',' or ']'"))
        let control = try #require(throws: JSONReader.Failure.self) { try JSONReader.parse(ArraySlice([0x5B, 0x1B, 0x5D])) }
        #expect(control.message == "unexpected character '0x1B'")  // never the raw control code
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let refusal = try #require(throws: JSONReader.Failure.self) { try JSONReader.parse(ArraySlice(Array(deep.utf8))) }
        #expect(refusal.message.contains("nested deeper than 512"))
        let fine = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(throws: Never.self) { try JSONReader.parse(ArraySlice(Array(fine.utf8))) }
        // A slice of a larger buffer reads from its own start (the import hands the reader lines cut from the file).
        let file = Array("xx[1]yy".utf8)
        #expect(Self.canonical(try JSONReader.parse(file[2..<5])) == "[n1.0]")
    }
}
