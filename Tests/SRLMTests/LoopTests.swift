import Foundation
import GRDB
import Testing
@testable import SRLMEngines
@testable import SRLMLoop
@testable import CLI
@testable import SRLMStages
@testable import SRLMStore

@Suite struct LoopPlanTests {
    /// The plan is data: the paper's order of stages, stored in the `plan` table and read back unchanged.
    @Test func planOrderAndStorage() throws {
        var options = LoopPlan.Options()
        options.iterations = 2
        options.probe = "probe"
        let plan = LoopPlan.loop(options)
        // Every checkpoint is probed: M0, the IFT-only baseline, M1 and each DPO result.
        #expect(plan.steps.map(\.stage) == ["judge-probe", "train-sft", "judge-probe", "build-eft", "train-sft", "judge-probe"]
                + Array(repeating: ["gen-prompts", "gen-candidates", "judge", "pairs", "train-dpo", "judge-probe"], count: 2).flatMap { $0 })
        #expect(plan.steps.map { $0.model ?? "-" } == ["M0", "SFT", "SFT", "SFT", "M1", "M1", "M1", "M1", "M1", "-", "M2", "M2",
                                                       "M2", "M2", "M2", "-", "M3", "M3"])
        #expect(plan.steps.allSatisfy { $0.template == nil })
        options.buildEFT.targets = .human
        #expect(LoopPlan.loop(options).steps.contains { $0.model == "SFT" }, "the baseline is the control for M1")
        options.baseline = false
        #expect(!LoopPlan.loop(options).steps.contains { $0.model == "SFT" })
        // A template file reaches every judging step, and only those.
        options.judgeTemplate = "short.txt"
        let templated = LoopPlan.loop(options).steps.filter { $0.template == "short.txt" }.map(\.stage)
        #expect(Set(templated) == ["judge-probe", "build-eft", "judge"])
        #expect(templated.count == 4 + 1 + 2, "probes of M0, M1, M2, M3; build-eft; the judge of two rounds")
        let store = try TestSupport.makeStore()
        try plan.save(store, experiment: "default")
        #expect(try LoopPlan.load(store, experiment: "default") == plan)
        let stages = try store.read { try String.fetchAll($0, sql: "SELECT stage FROM plan ORDER BY step") }
        #expect(stages == plan.steps.map(\.stage))
    }
}

extension EngineBacked {
    @Suite struct LoopResume {
        /// 3 prompts × 4 candidates × 2 judge samples: enough that some prompt's mean scores differ (a round of ties
        /// only would stop at --min-pairs, as it should).
        static let arguments = ["loop", "--iterations", "1", "--prompts-per-round", "3", "--candidates", "4", "--judge-samples", "2",
                                "--structured", "--eft-targets", "human", "--no-baseline", "--seeds", "seeds", "--sft-max-steps", "2",
                                "--dpo-max-steps", "2", "--max-length", "256", "--prompt-max-tokens", "48",
                                "--candidate-max-tokens", "48", "--judge-max-tokens", "64", "--parallel", "2", "--quiet"]

        /// SIGKILL while round 1 generates, then the same command again: finished steps are reused (M1 is trained
        /// once), the loop completes with M2, and neither a server nor a trainer outlives the killed srlm.
        @Test func killedLoopResumes() async throws {
            let store = try TestSupport.makeStore()
            for (target, file, format, name) in [("ift", "ift.jsonl", "alpaca", "ift"), ("ranked", "ranked.jsonl", "oasst", "ranked"),
                                                  ("prompts", "seeds.jsonl", "alpaca", "seeds")] {
                let (status, output) = try EngineSupport.srlm(["import", target, TestSupport.packageRoot.appendingPathComponent("datasets/" + file).path,
                                                               "--format", format, "--name", name], store: store)
                #expect(status == 0, "\(output)")
            }
            defer { try? FileManager.default.removeItem(at: URL(fileURLWithPath: store.path).deletingLastPathComponent()) }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: EngineSupport.srlmBinary)
            process.arguments = Self.arguments + ["--store", store.path]
            process.environment = ProcessInfo.processInfo.environment.merging(["SRLM_HOME": TestSupport.packageRoot.path]) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Kill once round 1's candidates are being asked for (M1 exists and a server is up).
            let deadline = Date().addingTimeInterval(300)
            var running = false
            while !running && Date() < deadline && process.isRunning {
                running = (try? store.read {
                    try Bool.fetchOne($0, sql: "SELECT 1 FROM run WHERE stage IN ('gen-candidates', 'judge') AND status = 'running'")
                }) == true
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(running, "the loop never reached round 1's generation")
            let children = Resume.children(of: process.processIdentifier)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let gone = Date().addingTimeInterval(15)
            while children.contains(where: Resume.alive) && Date() < gone { try await Task.sleep(for: .milliseconds(200)) }
            #expect(!children.contains(where: Resume.alive), "a child of srlm outlived it")

            let (status, output) = try EngineSupport.srlm(Array(Self.arguments), store: store)
            #expect(status == 0, "\(output)")
            #expect(output.contains("train-sft round 0 (M1): reused"), "\(output)")
            #expect(output.contains("train-dpo round 1 (M2): done"), "\(output)")
            let trainedM1 = try store.read {
                try Int.fetchOne($0, sql: "SELECT count(*) FROM run WHERE stage = 'train-sft' AND status = 'finished'")
            }
            #expect(trainedM1 == 1)
            let history = try SQLQuery.run(store, try Schema.query(named: "round-history"), arguments: ["experiment": "default"])
            #expect(history.rows.contains { $0.contains("M2".databaseValue) })
            #expect(try store.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM plan") } == 7)
            // A resumed loop checks reuse before it loads a model: the key it predicts is the one the server reported.
            let runner = LoopRunner(models: { name in
                let local = try CheckpointModels.localModel(name, experiment: "default", store: { store })
                return ModelSpec(gguf: local.gguf, label: local.label)
            })
            let predicted = try #require(try runner.identity(LoopPlan.Step(round: 1, model: "M1", .genCandidates(GenCandidates.Config(round: 1)))))
            let recorded = try store.read {
                try String.fetchOne($0, sql: "SELECT json_extract(config, '$.modelKey') FROM run WHERE stage = 'gen-candidates' AND status = 'finished'")
            }
            #expect(predicted.key == recorded && predicted.label == "M1")
        }
    }
}

@Suite struct LoopDefaultsTests {
    func action(_ plan: LoopPlan, _ stage: String, round: Int = 1) throws -> LoopPlan.Action {
        try #require(plan.steps.first { $0.stage == stage && $0.round == round }).action
    }

    /// A loop step holds the config its stage command builds from the same settings, so a stage run by hand and the
    /// same stage in a loop reuse each other's runs (they differed: 256 vs 512 candidate tokens, seed 42 vs 0).
    @Test func aLoopStepHasTheStageCommandsConfig() throws {
        let plan = LoopPlan.loop(try LoopOptions.parse([]).options(iterations: 1))
        guard case .genCandidates(let candidates) = try action(plan, "gen-candidates"),
              case .judge(let judge) = try action(plan, "judge"),
              case .genPrompts(let prompts) = try action(plan, "gen-prompts"),
              case .pairs(let pairs) = try action(plan, "pairs"),
              case .trainDPO(let dpo, _) = try action(plan, "train-dpo") else { Issue.record("plan steps"); return }
        #expect(try candidates == GenCandidatesCommand.parse(["--round", "1"]).stage.config)
        #expect(candidates.sampling.maxTokens == 512 && candidates.sampling.seed == 0)
        #expect(try judge == JudgeCommand.parse(["--round", "1"]).stage(keepRound: false).config)
        #expect(try prompts.count == 8 && prompts == GenPromptsCommand.parse(["--round", "1", "--count", "8"]).stage.config)
        #expect(pairs == Pairs.Config(round: 1))
        var dpoByHand = try TrainDPOCommand.parse(["--round", "1", "--base", "M1", "--name", "M2"]).config()
        dpoByHand.launcher = dpo.launcher
        #expect(dpo == dpoByHand && dpo.hyper.seed == TrainHyperparameters.dpo.seed)
        guard case .trainSFT(let m1) = try action(plan, "train-sft", round: 0) else { Issue.record("no SFT step"); return }
        #expect(m1.hyper == (try TrainSFTCommand.parse(["--round", "0"]).config()).hyper)
    }

    /// `--seed` sets every stage's seed; without it each keeps its own default.
    @Test func oneSeedForEveryStage() throws {
        let plan = LoopPlan.loop(try LoopOptions.parse(["--seed", "7"]).options(iterations: 1))
        for step in plan.steps {
            switch step.action {
            case .genCandidates(let c): #expect(c.sampling.seed == 7)
            case .judge(let c): #expect(c.sampling.seed == 7)
            case .genPrompts(let c): #expect(c.sampling.seed == 7)
            case .evolPrompts(let c): #expect(c.sampling.seed == 7)
            case .buildEFT(let c): #expect(c.seed == 7 && c.sampling.seed == 7)
            case .trainSFT(let c): #expect(c.hyper.seed == 7)
            case .trainDPO(let c, _): #expect(c.hyper.seed == 7)
            case .judgeProbe(let c): #expect(c.sampling.seed == 7)
            case .pairs: break
            }
        }
    }

    /// A plan row stored by an older srlm (options, no config) is refused with a way forward.
    @Test func anOldPlanRowSaysToStoreThePlanAnew() throws {
        let old = #"{"stage":"judge","round":1,"model":"M1","options":{"samples":"3"}}"#
        #expect(throws: SRLMError.self) { try JSONDecoder().decode(LoopPlan.Step.self, from: Data(old.utf8)) }
    }
}

@Suite struct PlanFileTests {
    /// `srlm plan init` writes every default; reading it back gives the same recipe, and the loop's flags override it.
    @Test func aPlanFileRoundTripsAndFlagsOverrideIt() throws {
        var recipe = LoopPlan.Options()
        recipe.iterations = 3
        recipe.genCandidates.candidates = 6
        recipe.sft.hyper.lora = LoRAConfig()
        let text = try recipe.yaml()
        #expect(text.contains("genCandidates:") && text.contains("learningRate:"))
        #expect(try LoopPlan.Options(yaml: text, file: "plan.yaml") == recipe)
        let path = TestSupport.writeTemp(text, name: "plan.yaml")
        let options = try LoopOptions.parse(["--plan", path, "--judge-samples", "5"]).options()
        #expect(options.genCandidates.candidates == 6 && options.judge.samples == 5 && options.iterations == 3)
        #expect(options.sft.hyper.lora == LoRAConfig())
    }

    /// A file that names only some fields keeps the defaults for the rest; a wrong field is named.
    @Test func partialFilesAndMistakes() throws {
        let partial = try LoopPlan.Options(yaml: "genCandidates:\n  candidates: 2\nminPairs: 3\n", file: "p.yaml")
        var expected = LoopPlan.Options()
        expected.genCandidates.candidates = 2
        expected.minPairs = 3
        #expect(partial == expected)
        let unknown = #expect(throws: SRLMError.self) { try LoopPlan.Options(yaml: "candidatez: 2\n", file: "p.yaml") }
        #expect("\(unknown!)".contains("candidatez") && "\(unknown!)".contains("p.yaml"))
        let mistyped = #expect(throws: SRLMError.self) { try LoopPlan.Options(yaml: "judge:\n  samples: many\n", file: "p.yaml") }
        #expect("\(mistyped!)".contains("judge.samples") || "\(mistyped!)".contains("samples"))
    }

    /// The store keeps the recipe with the plan, so `srlm plan show` prints the file back.
    @Test func theStoredRecipePrintsBack() throws {
        let store = try TestSupport.makeStore()
        var recipe = LoopPlan.Options()
        recipe.genPrompts.count = 5
        try LoopPlan.loop(recipe).save(store, experiment: "default", recipe: recipe)
        #expect(try LoopPlan.recipe(store, experiment: "default") == recipe)
        #expect(try LoopPlan.recipe(store, experiment: "default")?.yaml() == recipe.yaml())
    }
}

/// Issue 15, item 4: a warm start is round 0's DPO on human pairs, after SFT and before self-iteration.
@Suite struct WarmStartPlanTests {
    @Test func aWarmStartTrainsM1FromTheSFTModelOnHumanPairs() throws {
        var options = LoopPlan.Options()
        options.warmStart = "hh@1"
        let plan = LoopPlan.loop(options)
        let round0 = plan.steps.filter { $0.round == 0 }.map { "\($0.stage):\($0.model ?? "-")" }
        #expect(round0 == ["train-sft:SFT", "build-eft:SFT", "train-sft:M1-sft", "train-dpo:M1"])
        guard case let .trainDPO(warm, _) = try #require(plan.steps.first { $0.round == 0 && $0.stage == "train-dpo" }).action else {
            Issue.record("no warm start step"); return
        }
        #expect(warm.data == ["hh@1"] && warm.base == "M1-sft" && warm.name == "M1" && warm.round == 0)
        // Round 1 starts from the warm-started M1, as without a warm start.
        #expect(plan.steps.first { $0.round == 1 }?.model == "M1")
        #expect(!LoopPlan.loop(LoopPlan.Options()).steps.contains { $0.model == "M1-sft" })
    }

    /// `--prompt-strategy evol` swaps each round's self-instruct step for Evol-Instruct, with the same count and seeds.
    @Test func anEvolLoopRewritesPromptsEachRound() throws {
        let options = try LoopOptions.parse(["--prompt-strategy", "evol", "--prompts-per-round", "5", "--seed", "3"]).options(iterations: 2)
        let plan = LoopPlan.loop(options)
        let evol = plan.steps.compactMap { step -> EvolPrompts.Config? in if case .evolPrompts(let c) = step.action { return c }; return nil }
        #expect(evol.map(\.round) == [1, 2] && evol.allSatisfy { $0.count == 5 && $0.seeds == "ift" && $0.sampling.seed == 3 })
        #expect(!plan.steps.contains { $0.stage == GenPrompts.name })
        let store = try TestSupport.makeStore()
        try plan.save(store, experiment: "default")
        #expect(try LoopPlan.load(store, experiment: "default") == plan)
        #expect(throws: Error.self) { try LoopOptions.parse(["--prompt-strategy", "nonsense"]).options() }
    }
}

extension EngineBacked {
    @Suite struct WarmStartTests {
        /// SFT (M1-sft) then DPO on 4 HH-RLHF pairs (M1), through the loop runner: round 0's history shows the human
        /// pairs, the checkpoint and the DPO figures, so a loop with a warm start and one without compare by SQL.
        @Test func aWarmStartIsARecordedRound() async throws {
            let store = try TestSupport.makeStore()
            defer { TrainSupport.removeStoreFolder(store) }
            let ift = try TrainSupport.importIFT(store, trees: 2)
            let hh = try TrainSupport.importPairs(store, count: 4)
            var options = LoopPlan.Options()
            options.buildEFT.ranked = ""
            options.ift = ift.ref
            options.warmStart = hh.ref
            options.sft.hyper = TrainSupport.small(.sft)
            options.dpo.hyper = TrainSupport.small(.dpo)
            let plan = LoopPlan(steps: LoopPlan.loop(options).steps.filter { $0.round == 0 })
            let runner = LoopRunner(models: { _ in throw SRLMError.invalid("round 0 needs no model server") })
            _ = try await runner.run(plan, StageContext(store: store, quiet: true)) { _, _, _ in }
            let m1 = try store.read { try Checkpoints.resolve($0, experiment: "default", name: "M1") }
            #expect(m1.base == "M1-sft" && m1.dataVersion == hh.ref)
            let history = try NamedQuery.run(store, "round-history", experiment: "default").records
            let round0 = try #require(history.first { $0.double("iteration") == 0 })
            #expect(round0.double("pairs") == 4 && round0.text("checkpoint") == "M1" && round0.double("dpo_margin") != nil)
        }
    }
}
