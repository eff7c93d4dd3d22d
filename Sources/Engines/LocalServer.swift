import Foundation
import SRLMStore

/// llama.cpp's server on 127.0.0.1, started through engines/serve.py. The launcher exits when srlm exits or dies
/// (its stdin pipe closes and PR_SET_PDEATHSIG fires), so no orphan keeps the port and the cores.
public final class LocalServer: @unchecked Sendable {
    public struct Options: Sendable, Codable, Hashable {
        public var model: String
        public var port = 0
        public var parallel = defaultParallel
        /// Context per slot: the judge prompt plus a long candidate must fit (n_ctx is split across slots).
        public var contextPerSlot = defaultContextPerSlot
        public var threads: Int? = nil
        public var loras: [String] = []

        public static let defaultParallel = 4
        public static let defaultContextPerSlot = 4096

        public init(model: String, port: Int = 0, parallel: Int = defaultParallel, contextPerSlot: Int = defaultContextPerSlot,
                    threads: Int? = nil) {
            self.model = model
            self.port = port
            self.parallel = parallel
            self.contextPerSlot = contextPerSlot
            self.threads = threads
        }
    }

    /// What the launcher reports once /health answers: the run's engine provenance.
    public struct Ready: Codable, Sendable {
        public let url: String
        public let model_path: String
        public let model_sha256: String
        public let server_version: String?
        public let chat_template: String?
        public let n_ctx: Int?
        public let parallel: Int?
        public let pid: Int?
    }

    public let options: Options
    public private(set) var ready: Ready?
    /// The server's own log (stderr).
    public let logPath = FileManager.default.temporaryDirectory
        .appendingPathComponent("srlm-llama-server-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(6)).log").path
    private let process = Process()
    private let stdinPipe = Pipe()

    public init(options: Options) {
        self.options = options
    }

    /// Starts the server and waits for its ready line (model load is ≈ 1 s for SmolLM2).
    public func start(home: EngineHome, timeout: TimeInterval = 120) throws -> Ready {
        try home.checkPython()
        guard FileManager.default.fileExists(atPath: options.model) else {
            throw SRLMError.server("model file \(options.model) does not exist")
        }
        var arguments = [home.script("serve.py"), "--model", options.model, "--port", String(options.port),
                         "--parallel", String(options.parallel), "--ctx-per-slot", String(options.contextPerSlot)]
        if let threads = options.threads { arguments += ["--threads", String(threads)] }
        for lora in options.loras { arguments += ["--lora", lora] }
        process.executableURL = URL(fileURLWithPath: home.python)
        process.arguments = arguments
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardInput = stdinPipe
        // llama.cpp logs every slot event: keep them in a file, not on the user's terminal.
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: logPath) ?? FileHandle.standardError
        try process.run()
        let ready: Ready
        do {
            ready = try Self.waitForReady(stdout.fileHandleForReading, process: process, timeout: timeout)
        } catch {
            let tail = (try? String(contentsOfFile: logPath, encoding: .utf8))?.split(separator: "\n").suffix(15).joined(separator: "\n") ?? ""
            throw SRLMError.server("\(error)\n--- last lines of \(logPath) ---\n\(tail)")
        }
        self.ready = ready
        return ready
    }

    static func waitForReady(_ handle: FileHandle, process: Process, timeout: TimeInterval) throws -> Ready {
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = Data()
        while Date() < deadline {
            let chunk = handle.availableData
            if chunk.isEmpty {
                if !process.isRunning { throw SRLMError.server("llama.cpp server exited (status \(process.terminationStatus)) before it was ready") }
                Thread.sleep(forTimeInterval: 0.05)
                continue
            }
            buffer.append(chunk)
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[buffer.startIndex..<newline]
                buffer = Data(buffer[buffer.index(after: newline)...])
                if let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any],
                   object["event"] as? String == "ready" {
                    return try JSONDecoder().decode(Ready.self, from: line)
                }
            }
        }
        process.terminate()
        throw SRLMError.server("llama.cpp server was not ready within \(Int(timeout)) s")
    }

    /// Stops the server: SIGTERM, then SIGKILL after a grace period.
    public func stop() {
        guard process.isRunning else { return }
        try? stdinPipe.fileHandleForWriting.close()
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }

    public var endpoint: Endpoint? {
        ready.map { Endpoint(baseURL: $0.url, modelName: "local", flavor: .llamacpp) }
    }

    /// Provenance recorded with each run that used this server.
    public var provenance: [String: Any] {
        guard let r = ready else { return [:] }
        var p: [String: Any] = ["engine": "llama.cpp (xllamacpp)", "model_path": r.model_path, "model_sha256": r.model_sha256]
        if let v = r.server_version { p["server_version"] = v }
        if let t = r.chat_template { p["chat_template_sha256"] = ContentHash(of: Data(t.utf8)).hex; p["chat_template"] = t }
        if let n = r.n_ctx { p["n_ctx"] = n }
        if let n = r.parallel { p["parallel"] = n }
        return p
    }
}
