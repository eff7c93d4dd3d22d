import Foundation
import Testing
@testable import SRLMEngines

@Suite struct DoctorTests {
    /// A checkout without `make setup`: each missing engine fails with the command that installs it.
    @Test func aBareCheckoutSaysToRunSetup() throws {
        let root = TestSupport.temporaryDirectory("doctor")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("engines"), withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: root.appendingPathComponent("engines/serve.py").path, contents: Data())
        let checks = Doctor.run(home: EngineHome(root: root), storePath: root.appendingPathComponent("srlm.sqlite").path)
        #expect(checks.map { $0.name } == ["engines", "python", "model", "disk"])
        #expect(checks[0].ok)
        for failing in [checks[1], checks[2]] {
            #expect(!failing.ok)
            #expect(failing.fix?.hasPrefix("make setup") == true)
        }
        #expect(checks[3].detail.contains("GB free"))
        for lost in [Doctor.run(home: nil, storePath: "srlm.sqlite"),
                     Doctor.run(home: EngineHome(root: root.appendingPathComponent("nowhere")), storePath: "srlm.sqlite")] {
            #expect(lost.count == 1 && !lost[0].ok && lost[0].fix?.contains("SRLM_HOME") == true)
        }
    }
}

extension EngineBacked {
    /// The engines `make setup` installed: every check passes and names the versions it found.
    @Suite struct DoctorOnTheRealEngines {
        @Test func everyEngineIsFound() throws {
            let checks = Doctor.run(home: EngineSupport.home, storePath: TestSupport.temporaryDirectory("doctor").appendingPathComponent("s.sqlite").path)
            let failing = checks.filter { !$0.ok }
            #expect(failing.isEmpty, "\(failing)")
            #expect(checks.first { $0.name == "training" }?.detail.contains("trl ") == true)
            #expect(checks.first { $0.name == "llama.cpp server" }?.detail.hasPrefix("xllamacpp ") == true)
        }
    }
}
