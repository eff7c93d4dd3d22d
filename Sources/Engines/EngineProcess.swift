import Foundation
import SRLMStore
import Synchronization

/// A Python engine (trainer, converter) run under engines/supervise.py: the supervisor leads its own process group
/// and takes the whole group down (launcher, ranks, workers) when srlm exits, is killed, or calls `stop()`.
/// Stdout carries one JSON event per line; stderr is the engine's log, always written to `logPath` and echoed to
/// srlm's stderr unless quiet.
public final class EngineProcess: @unchecked Sendable {
    public let arguments: [String]
    public let logPath: String
    private let process = Process()
    private let events = Mutex<[Data]>([])
    private let readers = DispatchGroup()

    /// `command` runs as is under the supervisor (its first element is an executable, e.g. the venv's python).
    public init(home: EngineHome, command: [String], logPath: String, echo: Bool, environment: [String: String] = [:]) {
        arguments = [home.script("supervise.py"), "--parent", String(getpid()), "--"] + command
        self.logPath = logPath
        process.executableURL = URL(fileURLWithPath: home.python)
        process.arguments = arguments
        // Unbuffered Python output keeps the log live; environment overrides come last.
        process.environment = ProcessInfo.processInfo.environment.merging(["PYTHONUNBUFFERED": "1"]) { $1 }
            .merging(environment) { $1 }
        self.echo = echo
    }

    private let echo: Bool

    /// Starts the engine; the caller then `wait`s.
    public func start() throws {
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        guard let log = FileHandle(forWritingAtPath: logPath) else {
            throw SRLMError.setup("cannot write the engine log \(logPath)")
        }
        self.log = log
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        try process.run()
        for (handle, isLog) in [(stderr.fileHandleForReading, true), (stdout.fileHandleForReading, false)] {
            readers.enter()
            Thread { [self] in
                pump(handle, isLog: isLog)
                readers.leave()
            }.start()
        }
    }

    private var log: FileHandle?

    /// Reads one pipe until EOF (the engine and every process holding the pipe exited). The log goes to the log file
    /// (and srlm's stderr); stdout lines that are JSON objects are events, anything else is chatter for the log.
    private func pump(_ handle: FileHandle, isLog: Bool) {
        var pending = Data()
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            if isLog {
                log?.write(chunk)
                if echo { FileHandle.standardError.write(chunk) }
                continue
            }
            pending.append(chunk)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Data(pending[pending.startIndex..<newline])
                pending = Data(pending[pending.index(after: newline)...])
                if (try? JSONSerialization.jsonObject(with: line)) is [String: Any] {
                    events.withLock { $0.append(line) }
                } else {
                    log?.write(line + Data("\n".utf8))
                }
            }
        }
    }

    /// The newest event named `name` (read from the end: cheap while the newest lines are the ones wanted).
    public func lastEvent(_ name: String) -> [String: Any]? {
        for line in events.withLock({ $0 }).reversed() {
            if let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any], object["event"] as? String == name { return object }
        }
        return nil
    }

    /// The JSON events read so far.
    public var receivedEvents: [[String: Any]] {
        events.withLock { $0 }.compactMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
    }

    public var isRunning: Bool { process.isRunning }

    /// Blocks until the engine exits, calling `poll` about every `interval` seconds meanwhile and once at the end.
    /// If `poll` throws, the engine is stopped and the error rethrown. Returns the exit status.
    public func wait(pollEvery interval: TimeInterval = 0.5, poll: () throws -> Void = {}) throws -> Int32 {
        do {
            while process.isRunning {
                try poll()
                Thread.sleep(forTimeInterval: interval)
            }
            process.waitUntilExit()
            // A grandchild may still hold the pipes for a moment; the readers finish at EOF.
            if readers.wait(timeout: .now() + 30) == .success { try? log?.close() }
            try poll()
        } catch {
            stop()
            throw error
        }
        return process.terminationStatus
    }

    /// Stops the engine: SIGTERM to the supervisor, which stops its process group (SIGKILL after its grace period).
    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// The last `lines` lines of the engine's log.
    public func logTail(_ lines: Int = 25) -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines + 1)
            .joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The process id of the supervisor (the leader of the engine's process group).
    public var processGroup: Int32 { process.processIdentifier }

    deinit { stop() }
}
