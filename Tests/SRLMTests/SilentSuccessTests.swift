import Foundation
import GRDB
import Testing
@testable import SRLMStore

/// Issue 28 goal 6: rounds, experiments and refs that do not exist are errors naming what does exist, and a version
/// with no rows needs --allow-empty.
@Suite struct SilentSuccessTests {
    /// The binary's exit status and everything it printed (the error is on stderr).
    func srlm(_ arguments: [String], _ store: Store) throws -> (status: Int32, output: String) {
        try TestSupport.run(EngineSupport.srlmBinary, arguments + ["--store", store.path])
    }

    @Test func roundsThatAreNotThereAreErrors() throws {
        let store = try ContractFixture.build()
        let missing = try srlm(["diff", "--rounds", "5", "6"], store)
        #expect(missing.status == 1 && missing.output.contains("experiment 'default' has no round 5; rounds: 1, 2"), "\(missing.output)")
        let half = try srlm(["diff", "--rounds", "1", "3", "--format", "json"], store)
        #expect(half.status == 1 && half.output.contains("has no round 3; rounds: 1, 2") && !half.output.contains("["), "\(half.output)")
        let other = try srlm(["diff", "--rounds", "1", "2", "--experiment-b", "nope"], store)
        #expect(other.status == 1 && other.output.contains("no experiment 'nope' in this store; experiments: default"), "\(other.output)")
        #expect(try srlm(["diff", "--rounds", "1", "2"], store).status == 0)
        #expect(throws: SRLMError.notFound("experiment 'default' has no round 3; rounds: 1, 2")) {
            try Rounds.require(store, experiment: "default", iteration: 3)
        }
    }

    @Test func aMistypedExperimentIsAnError() throws {
        let store = try ContractFixture.build()
        for arguments in [["log"], ["datasets"], ["checkpoints", "--format", "json"], ["show", "pairs"], ["query", "round-history"],
                          ["log", "--rounds"], ["blame", "pairs@1", "0"]] {
            let (status, output) = try srlm(arguments + ["--experiment", "defualt"], store)
            #expect(status == 1 && output.contains("no experiment 'defualt' in this store; experiments: default"), "\(arguments): \(output)")
        }
        #expect(try srlm(["log", "--experiment", "default"], store).status == 0)
    }

    @Test func refsThatAreNotThereNameWhatIs() throws {
        let store = try ContractFixture.build()
        let version = try srlm(["show", "pairs@9"], store)
        #expect(version.status == 1 && version.output.contains("versions: pairs@1, pairs@2"), "\(version.output)")
        let name = try srlm(["show", "pair"], store)
        #expect(name.status == 1 && name.output.contains("no dataset 'pair' in experiment 'default'; datasets: ")
                && name.output.contains("pairs, seeds"), "\(name.output)")
        let other = try srlm(["diff", "pairs@1", "exp:elsewhere/pairs@1"], store)
        #expect(other.status == 1 && other.output.contains("no experiment 'elsewhere'"), "\(other.output)")
    }

    @Test func anEmptyDeriveNeedsAllowEmpty() throws {
        let store = try ContractFixture.build()
        #expect(throws: SRLMError.emptyVersion("the condition keeps none of pairs@2's 2 rows: nothing written")) {
            try Derive.run(store, name: "none", from: "pairs@2", where: "0")
        }
        let refused = try srlm(["derive", "none", "--from", "pairs@1", "--where", "margin > 100"], store)
        #expect(refused.status == 1 && refused.output.contains("keeps none of pairs@1's 1 rows") && refused.output.contains("--allow-empty"),
                "\(refused.output)")
        #expect(try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM dataset WHERE name = 'none'") } == 0)
        let allowed = try srlm(["derive", "none", "--from", "pairs@1", "--where", "0", "--allow-empty"], store)
        #expect(allowed.status == 0 && allowed.output.contains("wrote none@1: 0 rows"), "\(allowed.output)")
    }
}
