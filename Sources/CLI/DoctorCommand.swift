import ArgumentParser
import Foundation
import SRLMEngines
import SRLMStore

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the engines (venv, llama.cpp server, torch/TRL, the model file, free disk) and say what to run for each one missing.")
    @OptionGroup var options: StoreOptions
    @Option(help: "table or json.") var format: QueryResult.Format = .table

    func run() throws {
        let checks = Doctor.run(home: try? EngineHome.locate(), storePath: options.path)
        switch format {
        case .json:
            try JSONOutput.print(checks)
        default:
            for check in checks {
                print("\(check.ok ? "ok  " : "FAIL") \(check.name.padding(toLength: 17, withPad: " ", startingAt: 0)) \(check.detail)")
                if let fix = check.fix { print("     \(String(repeating: " ", count: 17)) fix: \(fix)") }
            }
            print("srlm links \(Doctor.libraries())")
        }
        if checks.contains(where: { !$0.ok }) { throw ExitCode(1) }
    }
}
