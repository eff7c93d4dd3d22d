import Foundation
import GRDB
import Testing
@testable import SRLMExport
@testable import SRLMStore

/// The export reads on one core and checks (SHA-256 of every text, the row hashes) and writes on another, a chunk of
/// about a megabyte at a time: the bytes, and which error wins, must be those of a single thread.
@Suite(.serialized) struct ExportPipelineTests {
    typealias F = ExportFixtures

    /// 3,000 pairs of about 1.2 KB: several chunks. Row `multiTurn`'s prompt has two turns (trl-standard refuses it).
    func bigStore(multiTurn: Int = 2999) throws -> (Store, DatasetVersion) {
        let store = try TestSupport.makeStore()
        let filler = String(repeating: "lorem ipsum ", count: 40)
        let rows = (0..<3000).map { i -> [String: Value] in
            let prompt: [Message] = i == multiTurn ? [.user("first \(i)"), .assistant("ok"), .user("then")] : [.user("question \(i) \(filler)")]
            return F.pair(prompt, "good \(i) \(filler)", "bad \(i % 13) \(filler)")
        }
        return (store, try F.write(store, "big", .pairs, rows))
    }

    /// Zeroes the stored key of the blob a row's column names, as a flipped bit on disk would leave it.
    func corruptKey(_ store: Store, _ version: DatasetVersion, ord: Int, column: String) throws {
        try store.write { db in
            try db.execute(sql: "DROP TRIGGER IF EXISTS blob_pack_immutable")
            let id = try #require(try Int64.fetchOne(db, sql: "SELECT \(column) FROM pair WHERE version_id = ? AND ord = ?",
                                                     arguments: [version.id, ord]))
            let pack = try #require(try Row.fetchOne(db, sql: "SELECT id, keys FROM blob_pack WHERE id <= ? ORDER BY id DESC LIMIT 1",
                                                     arguments: [id]))
            var keys: Data = pack["keys"]
            let at = 8 * Int(id - (pack["id"] as Int64))
            keys.replaceSubrange(at..<(at + 8), with: Data(count: 8))
            try db.execute(sql: "UPDATE blob_pack SET keys = ? WHERE id = ?", arguments: [keys, pack["id"] as Int64])
        }
    }

    @Test func oneAndTwoCoresWriteTheSameBytes() throws {
        let (store, version) = try bigStore()
        let dir = TestSupport.temporaryDirectory("export-pipeline")
        defer { try? FileManager.default.removeItem(at: dir) }
        var outputs: [Data] = []
        for threads in [1, 2] {
            let path = dir.appendingPathComponent("\(threads).jsonl").path
            #expect(try TestSupport.withThreads(threads) { try Exporter.run(store, version: version, format: .trl, to: FileSink(path: path)) } == 3000)
            outputs.append(try Data(contentsOf: URL(fileURLWithPath: path)))
        }
        #expect(outputs[0].count > 3 * exportBufferSize, "too small to take several chunks")
        #expect(outputs[0] == outputs[1])
        let objects = try F.objects(outputs[1])
        #expect(objects.count == 3000)
        #expect(F.messages(objects[1234]["chosen"])?.first?["content"]?.hasPrefix("good 1234 ") == true)
    }

    /// A corrupt text late in the version: the export fails naming it, and no line from its chunk on is written.
    /// The very next row, which trl-standard refuses while reading it (before the corrupt row's chunk is checked),
    /// does not hide it: the first fault in row order is the error, on any core count.
    @Test func theFirstFaultInRowOrderFailsTheExportBeforeItsLine() throws {
        let (store, version) = try bigStore(multiTurn: 2001)
        try corruptKey(store, version, ord: 2000, column: "chosen")
        for threads in [1, 2] {
            for format in [ExportFormat.trl, .trlStandard] {
                let sink = CollectingSink()
                let error = #expect(throws: SRLMError.self) {
                    try TestSupport.withThreads(threads) { try Exporter.run(store, version: version, format: format, to: sink) }
                }
                #expect(error?.description.contains("is corrupt") == true && error?.description.contains("row 2000 ") == true,
                        "\(threads) threads, \(format): \(String(describing: error))")
                #expect(sink.lines < 2000, "\(threads) threads, \(format): \(sink.lines) lines written")
                #expect(sink.data.isEmpty || sink.data.last == UInt8(ascii: "\n"), "a line written in part")
            }
        }
    }

    /// Past 8 MiB a file sink starts the disk's writeback as it goes; the file is still exactly what was written,
    /// whole writes and odd-sized ones alike.
    @Test func aFileOfManyMegabytesIsWrittenWhole() throws {
        let dir = TestSupport.temporaryDirectory("export-pipeline")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("big.jsonl").path
        var sink = FileSink(path: path)
        var expected = Data()
        var rng = SystemRandomNumberGenerator()
        for n in 0..<40 {
            let size = n % 3 == 0 ? exportBufferSize + 17 : Int.random(in: 1...300_000, using: &rng)
            let line = Data((String(repeating: String(UnicodeScalar(UInt8(97 + n % 26))), count: size - 1) + "\n").utf8)
            try sink.write(line)
            expected.append(line)
        }
        try sink.finish()
        #expect(expected.count > 16 << 20)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == expected)
    }

    /// Without the corruption, the same format error is met on one core and on two.
    @Test func aRowTheFormatRefusesIsNamedOnAnyCoreCount() throws {
        let (store, version) = try bigStore()
        for threads in [1, 2] {
            let error = #expect(throws: SRLMError.self) {
                try TestSupport.withThreads(threads) { try Exporter.run(store, version: version, format: .trlStandard, to: CollectingSink()) }
            }
            #expect(error?.description.contains("row ord 2999 ") == true, "\(threads) threads: \(String(describing: error))")
        }
    }
}
