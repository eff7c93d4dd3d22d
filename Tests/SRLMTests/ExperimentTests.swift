import Foundation
import Testing
@testable import SRLMLoop
@testable import SRLMStages
import SRLMEval
@testable import SRLMStore

/// The local reproduction's plan (experiments/smollm2-cpu.yaml) and its script (engines/experiment.sh).
@Suite struct ExperimentPlanTests {
    static let planPath = TestSupport.packageRoot.appendingPathComponent("experiments/smollm2-cpu.yaml").path

    @Test func thePlanFileHoldsTheExperimentsKnobs() throws {
        let options = try LoopPlan.Options(yaml: try String(contentsOfFile: Self.planPath, encoding: .utf8), file: Self.planPath)
        #expect(options.iterations == 2)
        #expect(options.baseline)
        #expect(options.buildEFT.targets == .human && options.buildEFT.evalFraction == 0.7)
        #expect(options.sft.hyper.learningRate == 1e-4 && options.sft.hyper.maxLength == 384)
        #expect(options.judge.structured && options.judge.samples == 2)
        // A plain word in trainerArgs reaches TRL as a string (as `--trainer-arg truncation_mode=keep_end` does).
        let trainer = try options.sft.hyper.trainerConfig(method: .sft, model: "m", data: "d", outputDir: "o")
        #expect((trainer["trainer_args"] as? [String: Any])?["truncation_mode"] as? String == "keep_end")
        // Fields the file leaves out keep the paper's defaults.
        #expect(options.dpo.hyper.beta == 0.1)
        #expect(options.genCandidates.candidates == 4)
        // The template it names exists, and every checkpoint's probe and the judge use it.
        #expect(FileManager.default.fileExists(atPath: TestSupport.packageRoot.appendingPathComponent(options.judgeTemplate).path))
        let plan = LoopPlan.loop(options)
        #expect(plan.steps.filter { $0.stage == JudgeProbe.name }.compactMap(\.model) == ["M0", "SFT", "M1", "M2", "M3"])
        #expect(plan.steps.filter { [JudgeProbe.name, BuildEFT.name, Judge.name].contains($0.stage) }
            .allSatisfy { $0.template == options.judgeTemplate })
    }
}

extension EngineBacked {
    @Suite struct Experiment {
        /// engines/experiment.sh end to end on a toy budget (8 OASST trees, 6 probe and head-to-head prompts, one
        /// round of 3 prompts × 4 candidates × 2 judge samples — enough that some prompt's scores differ — and one
        /// trainer step per run): the loop runs from the plan file, every checkpoint is
        /// probed and measured, and the results file regenerates byte for byte from the same store.
        @Test func theExperimentRunsOnAToyBudgetAndItsResultsRegenerate() throws {
            let work = FileManager.default.temporaryDirectory.appendingPathComponent("srlm-experiment-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: work) }
            let trees = TestSupport.packageRoot.appendingPathComponent("../shared/data/oasst/en_trees_60.jsonl")
            let oasst = work.appendingPathComponent("oasst8.jsonl")
            let lines = try String(contentsOf: trees, encoding: .utf8).split(separator: "\n").prefix(8)
            try (lines.joined(separator: "\n") + "\n").write(to: oasst, atomically: true, encoding: .utf8)
            let store = work.appendingPathComponent("x.sqlite").path, results = work.appendingPathComponent("RESULTS.md").path
            let environment = ["SRLM": EngineSupport.srlmBinary, "SRLM_STORE": store, "RESULTS": results, "OASST": oasst.path, "SLICE": "160",
                               "LOOP_FLAGS": "--iterations 1 --prompts-per-round 3 --candidates 4 --judge-samples 2 --sft-max-steps 1 --dpo-max-steps 1 --candidate-max-tokens 32 --judge-max-tokens 48 --prompt-max-tokens 40 --min-pairs 1 --parallel 2",
                               "EVAL_MODELS": "SFT M1", "EVAL_MAX_TOKENS": "48", "H2H": "M2:M1", "NOTES": ""]
            let (status, output) = try TestSupport.run("bash", ["engines/experiment.sh"], timeoutSeconds: 1500,
                                                       environment: environment, directory: TestSupport.packageRoot)
            #expect(status == 0, "\(output.suffix(3000))")
            let text = try String(contentsOfFile: results, encoding: .utf8)
            for heading in ["## Against the paper", "## The judge against human rankings (Table 4)", "## Can the model judge at all?",
                            "## Is the policy better? Head to head", "## What ran", "## Where the time went"] {
                #expect(text.contains(heading), "missing \(heading)")
            }
            #expect(text.contains("judge-additive-5@"), "the template version is named")
            #expect(text.contains("srlm loop --plan experiments/smollm2-cpu.yaml"), "the command that made the runs is named")
            // The loop probed M0, the baseline, M1 and M2; Table 4 measured SFT and M1; M2 met M1 head to head.
            let (_, probes) = try TestSupport.run(EngineSupport.srlmBinary, ["query", "judge-probe", "--format", "csv", "--store", store])
            #expect(["M0", "SFT", "M1", "M2"].allSatisfy { probes.contains(",\($0),") }, "\(probes)")
            let (_, evals) = try TestSupport.run(EngineSupport.srlmBinary, ["query", "eval-judge", "--format", "csv", "--store", store])
            #expect(evals.contains(",SFT,") && evals.contains(",M1,"), "\(evals)")
            // The same store gives the same results file.
            let again = work.appendingPathComponent("again.md").path
            let (reportStatus, _) = try TestSupport.run(EngineSupport.srlmBinary, ["report", "--out", again, "--store", store])
            #expect(reportStatus == 0)
            #expect(try Data(contentsOf: URL(fileURLWithPath: again)) == Data(contentsOf: URL(fileURLWithPath: results)))
        }
    }
}
