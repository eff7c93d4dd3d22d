import Foundation
import Testing
@testable import SRLMExport
@testable import SRLMImport
@testable import SRLMStore

/// Real data through import → export → import: the re-imported version must hold exactly the same rows.
@Suite struct ExportRoundTripTests {
    func roundTrip(source: String, sourceFormat: ImportFormat, target: ImportTarget,
                   export: ExportFormat, reimport: ImportFormat, minimumRows: Int) throws {
        let store = try TestSupport.makeStore()
        let first = try Importer.run(store, ImportOptions(target: target, path: TestSupport.sharedData(source),
                                                          format: sourceFormat, name: "original"))
        let original = try #require(first.version)
        #expect(original.rowCount >= minimumRows)
        let dir = TestSupport.temporaryDirectory("roundtrip")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("export.jsonl").path
        #expect(try Exporter.run(store, version: original, format: export, to: FileSink(path: path)) == original.rowCount)
        let second = try Importer.run(store, ImportOptions(target: target, path: path, format: reimport, name: "reimported"))
        let back = try #require(second.version)
        #expect(back.rowCount == original.rowCount)
        #expect(back.contentHash == original.contentHash)
        let diff = try store.read { try Differ.diff($0, from: original, to: back) }
        #expect(diff.unchanged == original.rowCount && diff.rows.isEmpty)
    }

    @Test func hhRLHFThroughTRL() throws {
        try roundTrip(source: "hh-rlhf/harmless-base_test.jsonl.gz", sourceFormat: .hhRlhf, target: .pairs,
                      export: .trl, reimport: .trl, minimumRows: 2000)
    }

    @Test func oasstThroughMessages() throws {
        try roundTrip(source: "oasst/en_trees_60.jsonl", sourceFormat: .oasst, target: .ift,
                      export: .messages, reimport: .messages, minimumRows: 50)
    }
}
