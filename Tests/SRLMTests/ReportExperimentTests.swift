import Foundation
import GRDB
import Testing
@testable import SRLMEval
@testable import SRLMReport
@testable import SRLMStore

/// The report's experiment sections on a hand-made store: probe runs with Wilson intervals, the EFT claim decided by
/// whether the intervals separate, the notes placed after the claims, the machine and command of each run.
@Suite struct ReportExperimentTests {
    static func store(probes: [(model: String, parsed: Int)]) throws -> Store {
        let store = try TestSupport.makeStore()
        try store.write { db in
            for (model, parsed) in probes {
                let run = try Runs.begin(db, experiment: "default", stage: "judge-probe",
                                         config: ["model": model, "probe": "probe@1", "template": "judge-additive-5@2"])
                try db.execute(sql: "UPDATE run SET stats = ? WHERE id = ?", arguments: ["{\"judged\":33,\"parsed\":\(parsed)}", run.id])
                try Runs.finish(db, run.id)
            }
        }
        return store
    }

    func markdown(_ store: Store, notes: String? = nil) throws -> String {
        MarkdownRenderer.render(try ReportBuilder.build(store, experiment: "default", notes: notes))
    }

    @Test func aSeparatedParseRateIsReproducedAndAnOverlapIsNot() throws {
        let separated = try markdown(try Self.store(probes: [("M0", 2), ("SFT", 3), ("M1", 33)]), notes: "First.\n\nSecond.")
        #expect(separated.contains("M1 100.0 % [89.6, 100.0], SFT 9.1 % [3.1, 23.6] — M1 vs SFT: higher; goal reached."))
        #expect(separated.contains("| M0 | probe@1 | judge-additive-5@2 | 2 / 33 | 6.1 % [2, 20] |"))
        let claims = try #require(separated.range(of: "## Against the paper")), notes = try #require(separated.range(of: "## Reading the results"))
        let table4 = try #require(separated.range(of: "## The judge against human rankings"))
        #expect(claims.lowerBound < notes.lowerBound && notes.lowerBound < table4.lowerBound)
        #expect(separated.contains("First.\n\nSecond."))

        let overlapping = try markdown(try Self.store(probes: [("SFT", 14), ("M1", 20)]))
        #expect(overlapping.contains("M1 vs SFT: no difference measured (intervals overlap); goal not reached."))
        #expect(!overlapping.contains("## Reading the results"))
    }

    @Test func claimsAreAListEscapedInBothRenderers() {
        let report = Report(title: "t", sections: [Section(title: "s", blocks: [.list(["<b>M1</b> & more", "second | claim"])])])
        #expect(HTMLRenderer.render(report).contains("<ul><li>&lt;b&gt;M1&lt;/b&gt; &amp; more</li><li>second | claim</li></ul>"))
        #expect(MarkdownRenderer.render(report).contains("- &lt;b&gt;M1&lt;/b&gt; &amp; more\n- second \\| claim"))
    }

    @Test func runsRecordTheirMachineAndCommand() throws {
        let store = try Self.store(probes: [("M0", 1)])
        let provenance = try store.read { try String.fetchOne($0, sql: "SELECT provenance FROM run") } ?? ""
        let object = try #require(try JSONSerialization.jsonObject(with: Data(provenance.utf8)) as? [String: Any])
        let machine = try #require(object["machine"] as? [String: Any])
        #expect((machine["cpus"] as? Int ?? 0) >= 1)
        #expect((object["invocation"] as? String)?.hasPrefix("srlm") == true)
        let report = try markdown(store)
        #expect(report.contains("## What ran") && report.contains("| command | runs | first_run |"))
        #expect(report.contains("## Where the time went"))
    }
}
