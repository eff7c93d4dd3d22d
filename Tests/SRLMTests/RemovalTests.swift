import Foundation
import GRDB
import Testing
import SRLMStages
@testable import SRLMStore

/// Issue 13, item 5: `srlm rm` and `srlm gc` on a two-round experiment written the way the stages write it
/// (runs reading versions, journaled calls, checkpoints with model files), without engines.
@Suite struct RemovalTests {
    /// Round r: prompts → candidates (journaled calls) → pairs → a trained checkpoint `M<r>` from `M<r-1>`.
    static func writeRound(_ store: Store, experiment: String, round: Int, folder: URL) throws {
        try store.write { db in
            let policy = try Checkpoints.resolve(db, experiment: experiment, name: "M\(round - 1)")
            func run(_ stage: String, _ inputs: [Int64], config: [String: Any] = [:]) throws -> Int64 {
                try Runs.begin(db, experiment: experiment, stage: stage, config: config.merging(["round": round]) { $1 }, inputs: inputs).id
            }
            func finish(_ writer: VersionWriter, _ run: Int64) throws -> DatasetVersion {
                let version = try writer.finish()
                try Runs.finish(db, run)
                return version
            }
            let genPrompts = try run("gen-prompts", [], config: ["model": policy.name])
            let prompts = try VersionWriter(db, experiment: experiment, name: "prompts", kind: .prompts, runID: genPrompts)
            for i in 0..<3 {
                try prompts.append(["prompt": .text(Blobs.text([.user("Round \(round) prompt \(i) about \(experiment)")])),
                                    "origin": .text("generated"), "source_run_id": .int(genPrompts)])
            }
            let promptVersion = try finish(prompts, genPrompts)
            let gen = try run("gen-candidates", [promptVersion.id], config: ["model": policy.name])
            let candidates = try VersionWriter(db, experiment: experiment, name: "candidates", kind: .candidates, runID: gen)
            let blobs = try BlobWriter.in(db)
            for i in 0..<3 {
                for sample in 0..<2 {
                    let reply = "Round \(round) answer \(sample) to prompt \(i) of \(experiment): " + String(repeating: "detail \(i * 7 + sample) ", count: 40)
                    let hash = ContentHash(of: Data("\(experiment) \(round) \(i) \(sample)".utf8)).bytes
                    try db.execute(sql: """
                        INSERT INTO model_call(request_hash, model_key, request, response, status, run_id) VALUES (?, 'k', ?, ?, 'ok', ?)
                        """, arguments: [hash, try blobs.put("request \(experiment) \(round) \(i) \(sample)"), try blobs.put(reply), gen])
                    try candidates.append(["prompt": .text(Blobs.text([.user("Round \(round) prompt \(i) about \(experiment)")])),
                                           "response": .text(Blobs.text([.assistant(reply)])), "model": .text(policy.name),
                                           "sample_index": .int(Int64(sample)), "call_hash": .bytes(hash)])
                }
            }
            let candidateVersion = try finish(candidates, gen)
            let pairing = try run("pairs", [candidateVersion.id])
            let pairs = try VersionWriter(db, experiment: experiment, name: "pairs", kind: .pairs, runID: pairing)
            for i in 0..<3 {
                try pairs.append(["prompt": .text(Blobs.text([.user("Round \(round) prompt \(i) about \(experiment)")])),
                                  "chosen": .text(Blobs.text([.assistant("Round \(round) chosen \(i) \(experiment)")])),
                                  "rejected": .text(Blobs.text([.assistant("Round \(round) rejected \(i) \(experiment)")])),
                                  "chosen_score": .real(5), "rejected_score": .real(2)])
            }
            let pairVersion = try finish(pairs, pairing)
            let train = try run("train-dpo", [pairVersion.id], config: ["base": policy.name])
            let modelFolder = folder.appendingPathComponent("\(experiment)-M\(round)")
            try FileManager.default.createDirectory(at: modelFolder, withIntermediateDirectories: true)
            let weights = modelFolder.appendingPathComponent("model.safetensors")
            try Data("weights of \(experiment) M\(round)".utf8).write(to: weights)
            let model = try Checkpoints.register(db, experiment: experiment, NewCheckpoint(
                name: "M\(round)", uri: modelFolder.path, baseID: policy.id, trainRunID: train, dataVersionID: pairVersion.id,
                files: [try FileDigest.file(weights.path, format: .hf)]))
            try Runs.finish(db, train)
            try Rounds.setCheckpoint(db, experiment: experiment, iteration: round, role: .policy, checkpoint: policy.id)
            for (role, version) in [(RoundRole.prompts, promptVersion), (.candidates, candidateVersion), (.pairs, pairVersion)] {
                try Rounds.setVersion(db, experiment: experiment, iteration: round, role: role, version: version.id)
            }
            try Rounds.setCheckpoint(db, experiment: experiment, iteration: round, role: .result, checkpoint: model.id)
        }
    }

    /// An experiment with M0 (imported: no training run) and `rounds` rounds; the model files are in the store's run
    /// folder, where training puts them (gc deletes nothing outside it).
    static func makeExperiment(_ store: Store, _ experiment: String = "default", rounds: Int = 2) throws -> URL {
        let folder = URL(fileURLWithPath: RunFolder.root(store: store.path)).appendingPathComponent("models")
        let base = folder.appendingPathComponent("\(experiment)-M0")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        try Data("base weights".utf8).write(to: base.appendingPathComponent("model.safetensors"))
        try store.write { db in
            _ = try Checkpoints.register(db, experiment: experiment, NewCheckpoint(
                name: "M0", uri: base.path, files: [try FileDigest.file(base.appendingPathComponent("model.safetensors").path, format: .hf)]))
        }
        for round in 1...rounds { try writeRound(store, experiment: experiment, round: round, folder: folder) }
        return folder
    }

    static func hashes(_ store: Store, _ experiment: String = "default") throws -> [String: String] {
        Dictionary(uniqueKeysWithValues: try store.read { try DatasetVersion.all($0, experiment: experiment) }.map { ($0.ref, $0.contentHash) })
    }

    static func texts(_ store: Store, _ ref: String) throws -> [String] {
        try store.read { db in
            let version = try DatasetVersion.resolve(db, ref, experiment: "default")
            return try String.fetchAll(db, sql: "SELECT srlm_text(response) FROM candidate WHERE version_id = ? ORDER BY ord", arguments: [version.id])
        }
    }

    @Test func aVersionSomethingDependsOnIsKeptAndTheDependentsAreNamed() throws {
        let store = try TestSupport.makeStore()
        _ = try Self.makeExperiment(store)
        let before = try Self.hashes(store)
        let error = #expect(throws: SRLMError.self) { try Remover.run(store, experiment: "default", target: .version(DatasetRef(name: "pairs", version: 1))) }
        guard case .inUse(_, let by)? = error else { Issue.record("not inUse: \(String(describing: error))"); return }
        #expect(by.contains { $0.contains("(train-dpo) reads pairs@1") })
        #expect(by.contains("checkpoint M1 was trained on pairs@1"))
        #expect(by.contains("round 1 uses pairs@1 as its pairs"))
        #expect(!by.contains { $0.contains("derived") })  // pairs@2 is only the next version of the same dataset
        // Round 2 starts from round 1's model and versions: round 1 cannot go before round 2.
        let round = #expect(throws: SRLMError.self) { try Remover.run(store, experiment: "default", target: .round(1)) }
        guard case .inUse(_, let roundBy)? = round else { Issue.record("not inUse"); return }
        #expect(roundBy.contains("checkpoint M1 was trained on pairs@1"))
        #expect(try Self.hashes(store) == before)
    }

    @Test func theLastRoundGoesAndGCReclaimsItsTextsAndModelFiles() throws {
        let store = try TestSupport.makeStore()
        let folder = try Self.makeExperiment(store)
        let before = try Self.hashes(store)
        let round1Texts = try Self.texts(store, "candidates@1")

        let dry = try Remover.run(store, experiment: "default", target: .round(2), dryRun: true)
        #expect(dry.versions.sorted() == ["candidates@2", "pairs@2", "prompts@2"])
        #expect(dry.checkpoints == ["M2"] && dry.rounds == [2] && dry.runs.count == 4 && dry.rows == 12 && dry.journalCalls == 6)
        #expect(try Self.hashes(store) == before)

        let removed = try Remover.run(store, experiment: "default", target: .round(2))
        #expect(removed.versions == dry.versions && removed.files == [folder.appendingPathComponent("default-M2/model.safetensors").path])
        var kept = before
        for ref in dry.versions { kept.removeValue(forKey: ref) }
        #expect(try Self.hashes(store) == kept)
        #expect(try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM model_call") } == 6)
        #expect(try store.read { try String.fetchOne($0, sql: "SELECT what FROM removal") } == "round 2")
        #expect(try Rounds.iterations(store, experiment: "default") == [1])

        let preview = try GarbageCollector.run(store)
        #expect(preview.dryRun && preview.blobs > 0 && preview.blobBytes > 0 && preview.files.map(\.bytes) == [Int64("weights of default M2".utf8.count)])
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("default-M2/model.safetensors").path))
        var apply = GCOptions()
        apply.dryRun = false
        let done = try GarbageCollector.run(store, apply)
        #expect(done.blobs == preview.blobs && done.packBytesAfter < done.packBytesBefore)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("default-M2/model.safetensors").path))
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("default-M1/model.safetensors").path))
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("default-M0/model.safetensors").path))

        let fsck = try Fsck.run(store)
        #expect(fsck.ok, "\(fsck.summary)")
        #expect(fsck.holes > 0 && fsck.holes <= done.blobs)  // holes of packs deleted whole are gone with them
        #expect(try Self.hashes(store) == kept)
        #expect(try Self.texts(store, "candidates@1") == round1Texts)
        #expect(try GarbageCollector.run(store, apply).blobs == 0)
    }

    /// A process that read a pack before gc made holes in it must not hand a removed blob's id to a new row: its
    /// decode cache is dropped when gc's epoch changes, and a hole never counts as the same bytes.
    @Test func aWriterThatCachedARemovedTextStoresItAgain() throws {
        let store = try TestSupport.makeStore()
        _ = try Self.makeExperiment(store)
        let reply = try Self.texts(store, "candidates@2")[0]
        let other = try Store(path: store.path)
        // The writing connection decodes the pack that gc is about to make holes in.
        #expect(try other.write { db in try String.fetchOne(db, sql: "SELECT srlm_text(response) FROM candidate ORDER BY version_id DESC LIMIT 1") }?.isEmpty == false)
        _ = try Remover.run(store, experiment: "default", target: .round(2))
        var apply = GCOptions()
        apply.dryRun = false
        #expect(try GarbageCollector.run(store, apply).blobs > 0)
        let id = try other.write { db in
            let w = try VersionWriter(db, experiment: "default", name: "again", kind: .ift, runID: nil)
            try w.append(["prompt": .text(Blobs.text([.user("again")])), "response": .text(reply)])
            _ = try w.finish()
            return try BlobID.fetchOne(db, sql: "SELECT response FROM ift_example ORDER BY version_id DESC LIMIT 1")!
        }
        #expect(try other.read { try BlobReader.text($0, id) } == reply)
        #expect(try Fsck.run(store).ok)
    }

    /// Evaluations of the round's model (and a comparison that read them) go with the round; a later version of the
    /// same dataset (another model's answers) stays, now with the nearest kept ancestor as its parent; a version
    /// derived into another dataset blocks.
    @Test func measurementsGoWithTheRoundAndLaterVersionsAreReparented() throws {
        let store = try TestSupport.makeStore()
        _ = try Self.makeExperiment(store)
        func answers(_ model: String) throws -> DatasetVersion {
            try store.write { db in
                let run = try Runs.begin(db, experiment: "default", stage: "eval-answers", config: ["model": model], inputs: [])
                let w = try VersionWriter(db, experiment: "default", name: "answers", kind: .candidates, runID: run.id)
                try w.append(["prompt": .text(Blobs.text([.user("eval prompt")])), "response": .text(Blobs.text([.assistant("answer of \(model)")])),
                              "model": .text(model), "sample_index": .int(0)])
                let version = try w.finish()
                try Runs.finish(db, run.id)
                return version
            }
        }
        let m1 = try answers("M1"), m2 = try answers("M2"), m0 = try answers("M0")
        #expect(m0.parentID == m2.id)
        let compare = try store.write { db in
            let run = try Runs.begin(db, experiment: "default", stage: "eval-compare", config: ["model": "M0"], inputs: [m2.id, m1.id])
            try Runs.finish(db, run.id)
            return run.id
        }
        let before = try Self.hashes(store)
        let removed = try Remover.run(store, experiment: "default", target: .round(2))
        #expect(removed.versions.contains("answers@2") && removed.runs.contains(compare))
        #expect(try store.read { try DatasetVersion.resolve($0, "answers@3", experiment: "default") }.parentID == m1.id)
        #expect(try Self.hashes(store)["answers@3"] == before["answers@3"])
        #expect(try Fsck.run(store).ok)

        // A real derivation into another dataset blocks.
        _ = try Derive.run(store, name: "short", from: "pairs@1", where: "1")
        let error = #expect(throws: SRLMError.self) { try Remover.run(store, experiment: "default", target: .version(DatasetRef(name: "pairs", version: 1))) }
        guard case .inUse(_, let by)? = error else { Issue.record("not inUse"); return }
        #expect(by.contains("short@1 is derived from pairs@1"))
    }

    @Test func anExperimentGoesWholeAndTheOtherIsUntouched() throws {
        let store = try TestSupport.makeStore()
        let folder = try Self.makeExperiment(store, "default", rounds: 1)
        _ = try Self.makeExperiment(store, "other", rounds: 2)
        let before = try Self.hashes(store)
        let removed = try Remover.run(store, experiment: "other", target: .experiment)
        #expect(removed.versions.count == 6 && removed.checkpoints == ["M0", "M1", "M2"])
        // M0 was imported, not trained: its files are not srlm's to delete.
        #expect(removed.files.count == 2 && !removed.files.contains { $0.contains("other-M0") })
        #expect(try store.read { try Experiment.existingID($0, "other") } == nil)
        var apply = GCOptions()
        apply.dryRun = false
        _ = try GarbageCollector.run(store, apply)
        #expect(try Self.hashes(store) == before)
        #expect(try Fsck.run(store).ok)
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("other-M0/model.safetensors").path))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("other-M1/model.safetensors").path))
        // The name can be used again.
        _ = try Self.makeExperiment(store, "other", rounds: 1)
    }

    @Test func aLeafVersionGoesWithTheRunThatOnlyMadeIt() throws {
        let store = try TestSupport.makeStore()
        _ = try Self.makeExperiment(store, rounds: 1)
        let derived = try store.write { db -> DatasetVersion in
            let run = try Runs.begin(db, experiment: "default", stage: "derive", config: ["where": "x"], inputs: [])
            let w = try VersionWriter(db, experiment: "default", name: "subset", kind: .ift, runID: run.id)
            try w.append(["prompt": .text(Blobs.text([.user("only here")])), "response": .text("only here too")])
            let version = try w.finish()
            try Runs.finish(db, run.id)
            return version
        }
        let removed = try Remover.run(store, experiment: "default", target: .version(DatasetRef(name: "subset")))
        #expect(removed.versions == ["subset@1"] && removed.runs == [derived.runID!])
        #expect(try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM dataset WHERE name = 'subset'") } == 0)
        var apply = GCOptions()
        apply.dryRun = false
        #expect(try GarbageCollector.run(store, apply).blobs == 2)
        #expect(try Fsck.run(store).ok)
    }

    /// A recorded model file that changed after its checkpoint was removed is not srlm's to delete any more.
    @Test func gcKeepsAModelFileThatChangedSinceItsRemoval() throws {
        let store = try TestSupport.makeStore()
        let folder = try Self.makeExperiment(store)
        _ = try Remover.run(store, experiment: "default", target: .round(2))
        let weights = folder.appendingPathComponent("default-M2/model.safetensors")
        try Data("someone else's weights".utf8).write(to: weights)
        var apply = GCOptions()
        apply.dryRun = false
        let report = try GarbageCollector.run(store, apply)
        #expect(report.files.first?.skipped?.contains("changed") == true)
        #expect(FileManager.default.fileExists(atPath: weights.path))
    }

    /// The guards come back: after a removal, plain SQL still cannot delete a kept version or a pack.
    @Test func theImmutabilityTriggersAreBackAfterARemoval() throws {
        let store = try TestSupport.makeStore()
        _ = try Self.makeExperiment(store)
        _ = try Remover.run(store, experiment: "default", target: .round(2))
        var apply = GCOptions()
        apply.dryRun = false
        _ = try GarbageCollector.run(store, apply)
        #expect(throws: DatabaseError.self) { try store.write { try $0.execute(sql: "DELETE FROM dataset_version") } }
        #expect(throws: DatabaseError.self) { try store.write { try $0.execute(sql: "DELETE FROM pair") } }
        #expect(throws: DatabaseError.self) { try store.write { try $0.execute(sql: "DELETE FROM blob_pack") } }
    }
}
