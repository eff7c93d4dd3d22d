import Foundation
import GRDB
import Testing
@testable import SRLMEngines
@testable import SRLMStages
@testable import SRLMStore

/// Issue 15, item 1: Evol-Instruct's rewrites, their elimination rules, and the lineage each evolved prompt keeps.
@Suite struct EvolTests {
    @Test func eliminationRulesByHand() {
        let parent = "Explain how vaccines help the body fight infections."
        #expect(EvolPrompts.eliminate("Rewritten prompt: explain vaccines in depth", parent: parent, threshold: 0.9)?.reason
                == "evol: copied the operator's wording")
        #expect(EvolPrompts.eliminate("Explain how vaccines help the body fight infections!", parent: parent, threshold: 0.9)?.reason
                == "evol: no new information")
        #expect(EvolPrompts.eliminate("Compare how mRNA and inactivated vaccines train immune memory, with one example each.",
                                      parent: parent, threshold: 0.9) == nil)
        #expect(EvolPrompts.unanswered("I'm sorry, but I cannot help with that.") == "evol: the model could not answer it")
        #expect(EvolPrompts.unanswered("... the a ,") == "evol: the answer is empty")
        #expect(EvolPrompts.unanswered("Vaccines show the immune system a harmless piece of a germ.") == nil)
    }

    /// Attempt i always draws the same parent and operator: a rerun asks the same calls and finds them journaled.
    @Test func drawsAreSeeded() {
        let config = EvolPrompts.Config(round: 1)
        let parents = (0..<20).map { "parent \($0)" }
        let first = (0..<10).map { EvolPrompts.draw(config, attempt: $0, parents: parents) }
        let again = (0..<10).map { EvolPrompts.draw(config, attempt: $0, parents: parents) }
        #expect(first.map(\.parent) == again.map(\.parent) && first.map(\.operator) == again.map(\.operator))
        #expect(Set(first.map(\.operator)).count > 1 && Set(first.map(\.parent)).count > 1)
    }

    /// Lineage is provenance: it does not change a row's hash, and it shows in v_prompts.
    @Test func lineageIsStoredButNotHashed() throws {
        let store = try TestSupport.makeStore()
        let (plain, evolved) = try store.write { db -> (DatasetVersion, DatasetVersion) in
            func write(_ name: String, lineage: Bool) throws -> DatasetVersion {
                let w = try VersionWriter(db, experiment: "default", name: name, kind: .prompts, runID: nil)
                try w.append(["prompt": .text(Blobs.text([.user("A harder prompt")])), "origin": .text("generated"),
                              "parent": lineage ? .text(Blobs.text([.user("An easy prompt")])) : .null,
                              "evolution": lineage ? .text("deepen") : .null])
                return try w.finish()
            }
            return (try write("plain", lineage: false), try write("evolved", lineage: true))
        }
        #expect(plain.contentHash == evolved.contentHash)
        let row = try store.read { try Row.fetchOne($0, sql: "SELECT evolution, parent_text FROM v_prompts WHERE ref = 'evolved@1'") }
        #expect(row?["evolution"] as String? == "deepen" && row?["parent_text"] as String? == "An easy prompt")
        #expect(try Fsck.run(store).ok)
    }
}

extension EngineBacked {
    @Suite struct EvolEngineTests {
        /// SmolLM2 rewrites seed prompts: accepted prompts keep their parent and operator, failed evolutions are
        /// stored with Evol-Instruct's reasons, and a rerun reuses the run.
        @Test func smolLMEvolvesSeedPrompts() throws {
            let store = try TestSupport.makeStore()
            let seeds = TestSupport.packageRoot.appendingPathComponent("datasets/seeds.jsonl").path
            let arguments = ["gen-prompts", "--round", "1", "--strategy", "evol", "--count", "3", "--seeds", "seeds", "--quiet"]
            for args in [["import", "prompts", seeds, "--format", "alpaca", "--name", "seeds"], arguments] {
                let (status, output) = try EngineSupport.srlm(args, store: store)
                #expect(status == 0, "\(output)")
            }
            let rows = try store.read { try Row.fetchAll($0, sql: "SELECT evolution, parent_text, prompt_text FROM v_prompts WHERE ref = 'generated-prompts@1'") }
            #expect(!rows.isEmpty && rows.count <= 3)
            #expect(rows.allSatisfy { EvolOperator(rawValue: $0["evolution"] as String? ?? "") != nil && !($0["parent_text"] as String? ?? "").isEmpty })
            let seedTexts = Set(try store.read { try String.fetchAll($0, sql: "SELECT prompt_text FROM v_prompts WHERE ref = 'seeds@1'") })
            #expect(rows.allSatisfy { seedTexts.contains($0["parent_text"] as String? ?? "") })
            let stats = try store.read { try String.fetchOne($0, sql: "SELECT stats FROM run WHERE stage = 'evol-prompts'") } ?? ""
            #expect(stats.contains("operators"))
            let (status, output) = try EngineSupport.srlm(arguments, store: store)
            #expect(status == 0 && output.contains("reused"), "\(output)")
        }
    }
}
