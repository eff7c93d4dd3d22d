import Foundation
import GRDB
@testable import SRLMEngines
import SRLMStages
@testable import SRLMStore

/// Helpers for the engine-backed suites: the real llama.cpp server, the fault proxy, the srlm binary.
enum EngineSupport {
    static var home: EngineHome { EngineHome(root: TestSupport.packageRoot) }

    /// The local model installed by `make setup` (engines/setup.sh); tests fail with this hint when it is missing.
    static func modelPath() throws -> String {
        let path = home.defaultGGUF
        guard FileManager.default.fileExists(atPath: path), FileManager.default.isExecutableFile(atPath: home.python) else {
            throw SRLMError.setup("engine tests need `make setup` first (missing \(path) or \(home.python))")
        }
        return path
    }

    static func startServer(parallel: Int = 2, contextPerSlot: Int = 2048) throws -> LocalServer {
        let server = LocalServer(options: .init(model: try modelPath(), parallel: parallel, contextPerSlot: contextPerSlot))
        _ = try server.start(home: home)
        return server
    }

    /// A running helper process with its first stdout line parsed as JSON.
    final class Child {
        let process = Process()
        let stdin = Pipe()
        let info: [String: Any]

        init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            let out = Pipe()
            process.standardOutput = out
            process.standardInput = stdin
            try process.run()
            var line = Data()
            while true {
                let byte = out.fileHandleForReading.readData(ofLength: 1)
                if byte.isEmpty || byte == Data("\n".utf8) { break }
                line.append(byte)
            }
            info = (try? JSONSerialization.jsonObject(with: line) as? [String: Any]) ?? [:]
        }

        func stop() {
            try? stdin.fileHandleForWriting.close()
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }
    }

    /// Tests/Fixtures/fault_proxy.py in front of `upstream`; returns the proxy and its log path.
    static func startProxy(upstream: String, mode: String = "forward", extra: [String] = []) throws -> (Child, String, String) {
        let log = TestSupport.temporaryDirectory("proxy").appendingPathComponent("requests.jsonl").path
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let script = TestSupport.packageRoot.appendingPathComponent("Tests/Fixtures/fault_proxy.py").path
        let child = try Child(home.python, [script, "--upstream", upstream, "--log", log, "--mode", mode] + extra)
        guard let port = child.info["port"] as? Int else { throw SRLMError.server("fault proxy did not start") }
        return (child, "http://127.0.0.1:\(port)", log)
    }

    /// gen-candidates over `prompts` of the questions, through the fault proxy in `mode` in front of a real server with
    /// 2 slots: the store, the stage's outcome (a failure is returned, not thrown) and the proxy's log.
    static func genCandidatesThroughProxy(mode: String = "forward", extra: [String] = [], policy: RetryPolicy = RetryPolicy(),
                                          prompts: Int, candidates: Int, maxTokens: Int, concurrency: Int? = nil)
        async throws -> (Store, Result<StageResult, Error>, [[String: Any]]) {
        let server = try startServer(parallel: 2)
        defer { server.stop() }
        guard let ready = server.ready else { throw SRLMError.server("llama.cpp did not start") }
        let (proxy, url, log) = try startProxy(upstream: ready.url, mode: mode, extra: extra)
        defer { proxy.stop() }
        let store = try TestSupport.makeStore()
        _ = try writePrompts(store, count: prompts)
        var config = GenCandidates.Config(round: 1)
        config.candidates = candidates
        config.sampling.maxTokens = maxTokens
        config.prompts = "questions@1"
        let session = try ModelSession.open(ModelSpec(endpoints: [Endpoint(baseURL: url)], weightsID: "sha256:" + ready.model_sha256),
                                            policy: policy)
        let result: Result<StageResult, Error>
        do {
            result = .success(try await StageContext(store: store, quiet: true).perform(GenCandidates(config: config), session: session,
                                                                                        concurrency: concurrency))
        } catch {
            result = .failure(error)
        }
        await session.close()
        return (store, result, proxyLog(log))
    }

    static func proxyLog(_ path: String) -> [[String: Any]] {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// A prompts dataset of short questions (written for the project).
    static let questions = [
        "What is the capital of France?", "Name three primary colors.", "Give one tip for staying focused.",
        "What does a thermometer measure?", "Suggest a name for a pet turtle.", "Why do leaves change color in autumn?",
    ]

    static func writePrompts(_ store: Store, name: String = "questions", count: Int = 6) throws -> DatasetVersion {
        try store.write { db in
            let writer = try VersionWriter(db, experiment: "default", name: name, kind: .prompts, runID: nil)
            for q in questions.prefix(count) {
                try writer.append(["prompt": .text(String(decoding: CanonicalJSON.messages([.user(q)]), as: UTF8.self)),
                                   "origin": .text("imported")])
            }
            return try writer.finish()
        }
    }

    static var srlmBinary: String { TestSupport.packageRoot.appendingPathComponent(".build/debug/srlm").path }

    /// Runs the srlm binary; returns its exit status and output.
    @discardableResult
    static func srlm(_ arguments: [String], store: Store, environment: [String: String] = [:]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: srlmBinary)
        process.arguments = arguments + ["--store", store.path]
        process.environment = ProcessInfo.processInfo.environment.merging(["SRLM_HOME": TestSupport.packageRoot.path]) { $1 }
            .merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}
