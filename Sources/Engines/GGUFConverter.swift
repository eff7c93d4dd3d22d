import Foundation
import SRLMStore

/// GGUF tensor types engines/convert.py writes (q8_0: near-lossless, half of f16).
public enum GGUFType: String, Codable, Sendable, CaseIterable {
    case q8_0, f16, bf16, f32
}

/// What engines/convert.py reported.
public struct GGUFConversion: Sendable {
    /// "model" (a full Hugging Face folder) or "lora" (an adapter).
    public let kind: String
    public let output: String
    public let bytes: Int64
    public let seconds: Double
}

/// Hugging Face folder or LoRA adapter → GGUF, with llama.cpp's own converters (engines/convert.py), supervised like
/// the trainer.
public enum GGUFConverter {
    public static func convert(source: String, output: String, type: GGUFType = .q8_0, loraBase: String? = nil,
                               home: EngineHome, logPath: String, echo: Bool) throws -> GGUFConversion {
        try home.checkPython()
        var command = [home.python, home.script("convert.py"), source, output, type.rawValue]
        if let loraBase { command += ["--base", loraBase] }
        let engine = EngineProcess(home: home, command: command, logPath: logPath, echo: echo)
        try engine.start()
        let status = try engine.wait()
        let events = engine.receivedEvents
        if status == 0, let done = events.last(where: { $0["event"] as? String == "done" }),
           let path = done["output"] as? String {
            return GGUFConversion(kind: done["kind"] as? String ?? "model", output: path,
                                  bytes: (done["bytes"] as? NSNumber)?.int64Value ?? 0,
                                  seconds: (done["seconds"] as? NSNumber)?.doubleValue ?? 0)
        }
        let message = events.last(where: { $0["event"] as? String == "error" })?["message"] as? String ?? "no 'done' event"
        throw SRLMError.training("""
            GGUF conversion of \(source) failed (exit status \(status)): \(message)
            --- last lines of \(logPath) ---
            \(engine.logTail())
            """)
    }
}
