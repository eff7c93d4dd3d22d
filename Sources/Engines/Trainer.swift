import Foundation
import SRLMStore

public enum TrainMethod: String, Codable, Sendable, CaseIterable {
    case sft, dpo
}

/// How engines/train.py is started: plain Python (one process), or `accelerate launch` for many GPUs or nodes
/// (DeepSpeed / FSDP come from the accelerate config file).
public struct TrainLauncher: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case plain, accelerate
    }

    public var kind: Kind
    /// `accelerate launch --config_file FILE`.
    public var accelerateConfig: String?
    /// Extra `accelerate launch` arguments (e.g. --multi_gpu --num_processes 8).
    public var accelerateArgs: [String]

    /// Without a config file or arguments, accelerate runs one CPU process (what CI exercises); these flags also
    /// silence accelerate's warning about unset defaults.
    public static let cpuArguments = ["--cpu", "--num_processes", "1", "--num_machines", "1",
                                      "--mixed_precision", "no", "--dynamo_backend", "no"]

    public init(kind: Kind = .plain, accelerateConfig: String? = nil, accelerateArgs: [String] = []) {
        self.kind = kind
        self.accelerateConfig = accelerateConfig
        self.accelerateArgs = accelerateArgs
    }

    /// The command line that runs `script` with `scriptArguments`.
    public func command(python: String, script: String, scriptArguments: [String]) -> [String] {
        switch kind {
        case .plain:
            return [python, script] + scriptArguments
        case .accelerate:
            var launch = [python, "-m", "accelerate.commands.launch"]
            if let accelerateConfig { launch += ["--config_file", accelerateConfig] }
            launch += accelerateConfig == nil && accelerateArgs.isEmpty ? Self.cpuArguments : accelerateArgs
            return launch + [script] + scriptArguments
        }
    }
}

/// One metrics.jsonl entry: the trainer's log at a step (loss, learning_rate, rewards/*, …; null for non-finite).
public struct TrainMetric: Sendable, Hashable {
    public let step: Int
    public let values: [String: Double?]
}

/// What a finished training run reported.
public struct TrainOutcome: Sendable {
    /// The `done` event (JSON text): steps, metrics, last_log, train_runtime, peak_rss_mb, output_dir, merged_dir.
    public let done: String
    public let start: String?
    public let metrics: [TrainMetric]
    public let logPath: String

    public var doneObject: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(done.utf8)) as? [String: Any]) ?? [:]
    }
}

/// Runs engines/train.py (TRL SFT/DPO) as a supervised subprocess, streams its log, reads its stdout events and
/// follows OUTPUT_DIR/metrics.jsonl while it trains.
public enum Trainer {
    public static func command(_ method: TrainMethod, config: String, launcher: TrainLauncher, home: EngineHome) -> [String] {
        launcher.command(python: home.python, script: home.script("train.py"), scriptArguments: [method.rawValue, "--config", config])
    }

    /// Trains; `onMetrics` receives each batch of new metrics.jsonl entries as they appear (and may throw to stop the
    /// trainer). Throws `SRLMError.training` with the trainer's message and the tail of its log when it fails.
    /// `onStep` receives the trainer's optimizer step and its planned total as they advance.
    public static func run(_ method: TrainMethod, config: String, outputDir: String, launcher: TrainLauncher,
                           home: EngineHome, logPath: String, echo: Bool, onStep: (_ step: Int, _ total: Int) -> Void = { _, _ in },
                           onMetrics: ([TrainMetric]) throws -> Void) throws -> TrainOutcome {
        try home.checkPython()
        let engine = EngineProcess(home: home, command: command(method, config: config, launcher: launcher, home: home),
                                   logPath: logPath, echo: echo)
        let follower = MetricsFollower(path: URL(fileURLWithPath: outputDir).appendingPathComponent("metrics.jsonl").path)
        var all: [TrainMetric] = []
        try engine.start()
        var lastStep = -1
        let status = try engine.wait {
            if let event = engine.lastEvent("step"), let step = (event["step"] as? NSNumber)?.intValue, step != lastStep {
                lastStep = step
                onStep(step, (event["max_steps"] as? NSNumber)?.intValue ?? 0)
            }
            let new = try follower.poll()
            if !new.isEmpty {
                all += new
                try onMetrics(new)
            }
        }
        let events = engine.receivedEvents
        let event = { (name: String) in events.last { $0["event"] as? String == name } }
        if status == 0, let done = event("done") {
            return TrainOutcome(done: text(done), start: event("start").map(text), metrics: all, logPath: logPath)
        }
        let message = (event("error")?["message"] as? String) ?? (status == 0 ? "no 'done' event" : "no error event")
        throw SRLMError.training("""
            trainer failed (exit status \(status)): \(message)
            command: \(engine.arguments.joined(separator: " "))
            --- last lines of \(logPath) ---
            \(engine.logTail())
            """)
    }

    static func text(_ object: [String: Any]) -> String {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

/// Reads the complete lines appended to metrics.jsonl since the last poll (a line still being written waits).
final class MetricsFollower {
    let path: String
    private var offset: UInt64 = 0
    private var lineNumber = 0

    init(path: String) { self.path = path }

    func poll() throws -> [TrainMetric] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        try handle.seek(toOffset: offset)
        let data = try handle.readToEnd() ?? Data()
        guard let lastNewline = data.lastIndex(of: UInt8(ascii: "\n")) else { return [] }
        offset += UInt64(data.distance(from: data.startIndex, to: lastNewline) + 1)
        var metrics: [TrainMetric] = []
        for line in data[data.startIndex..<lastNewline].split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.isEmpty { continue }
            metrics.append(try Self.parse(Data(line), where: "\(path):\(lineNumber)"))
        }
        return metrics
    }

    /// One entry: `step` (an integer) and numeric values; strings are not metrics and are left out.
    static func parse(_ line: Data, where location: String) throws -> TrainMetric {
        guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any] else {
            throw SRLMError.training("\(location): not a JSON object")
        }
        guard let step = (object["step"] as? NSNumber)?.intValue else {
            throw SRLMError.training("\(location): no integer 'step'")
        }
        var values: [String: Double?] = [:]
        for (name, value) in object where name != "step" {
            if value is NSNull {
                values[name] = .some(nil)
            } else if let number = value as? NSNumber {
                values[name] = number.doubleValue
            }
        }
        return TrainMetric(step: step, values: values)
    }
}
