import Foundation
import SRLMStore

/// Where srlm's Python engines live: `$SRLM_HOME`, else the nearest folder above the working directory or the srlm
/// binary that holds engines/serve.py. The interpreter is `$SRLM_PYTHON`, else HOME/.venv/bin/python.
public struct EngineHome: Sendable {
    public let root: URL

    public init(root: URL) {
        self.root = root
    }

    public static func locate() throws -> EngineHome {
        let env = ProcessInfo.processInfo.environment
        if let home = env["SRLM_HOME"] { return EngineHome(root: URL(fileURLWithPath: home)) }
        let starts = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
                      URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath().deletingLastPathComponent(),
                      Bundle.main.bundleURL]
        for start in starts {
            var dir = start.standardizedFileURL
            for _ in 0..<8 {
                if FileManager.default.fileExists(atPath: dir.appendingPathComponent("engines/serve.py").path) {
                    return EngineHome(root: dir)
                }
                dir = dir.deletingLastPathComponent()
            }
        }
        throw SRLMError.setup("cannot find srlm's engines/ folder: set SRLM_HOME to the srlm checkout")
    }

    public var engines: URL { root.appendingPathComponent("engines") }
    public var models: URL { root.appendingPathComponent("models") }

    public var python: String {
        if let p = ProcessInfo.processInfo.environment["SRLM_PYTHON"] { return p }
        return root.appendingPathComponent(".venv/bin/python").path
    }

    public func script(_ name: String) -> String { engines.appendingPathComponent(name).path }

    /// The local default model, installed by engines/setup.sh.
    public var defaultGGUF: String { models.appendingPathComponent("SmolLM2-135M-Instruct.Q4_1.gguf").path }

    /// Runs the venv's interpreter to its end: exit status, standard output and standard error (read on a thread of
    /// its own, so a chatty error stream cannot fill its pipe and stall the script).
    public func runPython(_ arguments: [String]) throws -> (status: Int32, output: Data, errors: Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let errors = ResultSlots<Data>(count: 1), done = DispatchGroup()
        DispatchQueue.global().async(group: done) { errors.set(0, .success(err.fileHandleForReading.readDataToEndOfFile())) }
        let output = out.fileHandleForReading.readDataToEndOfFile()
        done.wait()
        process.waitUntilExit()
        return (process.terminationStatus, output, try errors.get(0))
    }

    public func checkPython() throws {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw SRLMError.setup("no Python environment at \(python): run `make setup` (engines/setup.sh)")
        }
    }
}
