import Foundation
import GRDB
import Testing
@testable import SRLMImport
@testable import SRLMStore

/// Inputs that must be refused with a located error, and that must leave the store file exactly as it was.
@Suite struct ImportSafetyTests {
    static func oasstLine(rank: String) -> String {
        #"{"prompt": {"text": "q", "role": "prompter", "replies": [{"text": "a", "role": "assistant", "rank": \#(rank)}]}}"#
    }

    @Test func numbersThatDoNotFitTheirColumnAreLocatedErrors() throws {
        let store = try TestSupport.makeStore()
        for rank in ["18446744073709551616", "99999999999999999999999", "9223372036854775808", "-1", "1.5"] {
            let path = TestSupport.writeTemp(Self.oasstLine(rank: "0") + "\n" + Self.oasstLine(rank: rank) + "\n", name: "ranks.jsonl")
            let error = #expect(throws: ImportError.self, "\(rank)") {
                try Importer.run(store, ImportOptions(target: .ranked, path: path, format: .oasst))
            }
            #expect(error?.description.hasPrefix("ranks.jsonl:2: field 'prompt.replies.0.rank': ") == true, "\(String(describing: error))")
        }
        // The largest rank that fits is kept as it is.
        let fits = TestSupport.writeTemp(Self.oasstLine(rank: "9223372036854775807") + "\n", name: "fits.jsonl")
        let version = try #require(try Importer.run(store, ImportOptions(target: .ranked, path: fits, format: .oasst)).version)
        #expect(try store.read { try Int64.fetchOne($0, sql: "SELECT human_rank FROM ranked_reply WHERE version_id = ?", arguments: [version.id]) } == Int64.max)

        let score = TestSupport.writeTemp(#"{"prompt": "q", "chosen": "c", "rejected": "r", "score_chosen": 1\#(String(repeating: "0", count: 400))}"# + "\n",
                                          name: "scores.jsonl")
        let error = #expect(throws: ImportError.self) { try Importer.run(store, ImportOptions(target: .pairs, path: score, format: .trl)) }
        #expect(error?.description.hasPrefix("scores.jsonl:1: ") == true, "\(String(describing: error))")
        #expect(try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM dataset_version") } == 1)
    }

    /// The store file's bytes once the write-ahead log is folded in: what every reader sees, whichever connection
    /// happens to checkpoint. The last connection to close removes the log, as after a clean exit.
    static func consolidatedBytes(_ path: String) throws -> Data {
        do {
            let queue = try DatabaseQueue(path: path)
            try queue.writeWithoutTransaction { _ = try $0.checkpoint(.truncate) }
            try queue.close()
        }
        return try Data(contentsOf: URL(fileURLWithPath: path))
    }

    /// Opening the store, reading the input and failing must not change a byte of the store file.
    @Test func aFailedImportLeavesTheStoreFileByteIdentical() throws {
        let path: String
        do {
            let store = try TestSupport.makeStore()
            path = store.path
            _ = try writeSamplePairs(store, count: 3)
        }
        let original = try Self.consolidatedBytes(path)
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent()
        let bad = [
            TestSupport.writeTemp(ImportTests.pairLine(1) + "\n{\"prompt\": \n", name: "broken.jsonl"),
            TestSupport.writeTemp(Self.oasstLine(rank: "18446744073709551616") + "\n", name: "rank.jsonl"),
            dir.appendingPathComponent("missing.jsonl").path,
            dir.path,
        ]
        for input in bad {
            do {
                let store = try Store(path: path)
                #expect(throws: ImportError.self, "\(input)") {
                    try Importer.run(store, ImportOptions(target: input.hasSuffix("rank.jsonl") ? .ranked : .pairs, path: input))
                }
            }
            #expect(try Self.consolidatedBytes(path) == original, "\(input) changed the store file")
        }
        // The same through the command line, which opens the store before it reads the input.
        let (status, output) = try CLI.srlm(["import", "pairs", bad[0], "--store", path])
        #expect(status != 0 && output.contains("broken.jsonl:2"), "\(output)")
        #expect(try Self.consolidatedBytes(path) == original)
    }

    @Test func pipesStandardInputAndDirectories() throws {
        let store = try TestSupport.makeStore()
        let dir = TestSupport.temporaryDirectory("fifo")
        let fifo = dir.appendingPathComponent("pairs.jsonl").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let text = (1...3).map(ImportTests.pairLine).joined(separator: "\n") + "\n"
        Thread {
            let writer = FileHandle(forWritingAtPath: fifo)
            writer?.write(Data(text.utf8))
            try? writer?.close()
        }.start()
        let result = try Importer.run(store, ImportOptions(target: .pairs, path: fifo, format: .trl))
        #expect(result.rows == 3)

        let error = #expect(throws: ImportError.self) { try Importer.run(store, ImportOptions(target: .pairs, path: dir.path)) }
        #expect(error?.description.contains("is a directory") == true, "\(String(describing: error))")

        try store.close()
        let more = (4...5).map(ImportTests.pairLine).joined(separator: "\n") + "\n"
        for source in ["-", "/dev/stdin"] {
            let (status, output) = try CLI.srlm(["import", "pairs", source, "--name", "piped", "--format", "trl", "--store", store.path],
                                                stdin: Data((source == "-" ? more : text).utf8))
            #expect(status == 0 && output.contains("rows as piped@"), "\(source): \(output)")
        }
    }

    /// A small .gz that inflates to one endless line stops at the line limit, named, instead of filling memory.
    @Test func aGzipBombStopsAtTheLineLimit() throws {
        let store = try TestSupport.makeStore()
        let huge = TestSupport.writeTemp(#"{"prompt": ""# + String(repeating: "x", count: InputFile.maxLineBytes + 10), name: "bomb.jsonl")
        let gz = try ImportTests.gzip(huge)
        let error = #expect(throws: ImportError.self) { try Importer.run(store, ImportOptions(target: .pairs, path: gz)) }
        #expect(error?.description.hasPrefix("bomb.jsonl.gz:1: ") == true && error?.description.contains("longer than 16 MiB") == true,
                "\(String(describing: error))")
    }
}
