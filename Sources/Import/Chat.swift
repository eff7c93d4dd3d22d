import Foundation
import SRLMStore

/// Instruction and chat formats: alpaca, alpaca-eval, messages, sharegpt, self-instruct and plain lines.
enum Chat {
    /// alpaca {instruction, input, output} (JSON array or JSON Lines): the prompt is the instruction, plus
    /// "\n\n" + input when there is one. alpaca-eval {instruction, output, generator, dataset} has no input.
    static func alpaca(_ job: ImportJob, _ sink: RowSink, eval: Bool) throws {
        try job.records { r in
            let prompt: Messages
            if r.mapped("prompt") {
                prompt = try r.messages("prompt", stringRole: "user")
            } else {
                let instruction = try r.string("instruction")
                let input = eval ? nil : try r.optionalString("input")
                prompt = [.user(joined(instruction, input))]
            }
            if job.target == .prompts { return try sink.prompt(prompt) }
            let response: Messages = r.mapped("response")
                ? try r.messages("response", stringRole: "assistant")
                : [.assistant(try r.string("output"))]
            try sink.completion(prompt, response, score: job.target == .eft ? try r.number("score") : nil)
        }
    }

    /// {messages: [{role, content}]} or sharegpt {conversations: [{from: human|gpt|system, value}]}: the prompt is
    /// every message before the trailing assistant message, the response that message. For prompts a trailing
    /// assistant message is dropped.
    static func messages(_ job: ImportJob, _ sink: RowSink, sharegpt: Bool) throws {
        try job.records { r in
            let conversation = sharegpt
                ? try r.messages("messages", "conversations", stringRole: "user", allowString: false,
                                 roleKey: "from", contentKey: "value", roles: shareGPTRoles)
                : try r.messages("messages", "messages", stringRole: "user", allowString: false)
            let (prompt, reply) = conversation.splitLastAssistant()
            guard !prompt.isEmpty else { throw r.error("messages", "no messages before the assistant's") }
            if job.target == .prompts { return try sink.prompt(prompt) }
            guard let reply else {
                throw r.error("messages", "the last message is from '\(conversation.last?.role ?? "")', not the assistant")
            }
            try sink.completion(prompt, [reply], score: job.target == .eft ? try r.number("score") : nil)
        }
    }

    static let shareGPTRoles = ["human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
                                "system": "system"]

    /// self-instruct tasks {instruction, instances: [{input, output}]}: prompt = instruction (+ the first
    /// instance's input), response = the first instance's output. They are human-written seeds: origin "seed".
    static func selfInstruct(_ job: ImportJob, _ sink: RowSink) throws {
        try job.records { r in
            let instruction = try r.string("instruction")
            let input = try r.optionalString("input", "instances.0.input")
            let prompt: Messages = [.user(joined(instruction, input))]
            if job.target == .prompts { return try sink.prompt(prompt, origin: "seed") }
            try sink.completion(prompt, [.assistant(try r.string("output", "instances.0.output"))])
        }
    }

    /// One prompt per line; a line holding a JSON string literal is decoded, any other line is the text itself.
    static func lines(_ job: ImportJob, _ sink: RowSink) throws {
        var scanner = LineScanner(job.file)
        while let (line, bytes) = try scanner.nextChecked() {
            try job.guarded(line, bytes) {
                var text = try JSONText.decode(bytes, file: job.file, line: line)
                let trimmed = text.trimmingCharacters(in: .whitespaces)
                let json = trimmed.first == "\"" || trimmed.first == "{" || trimmed.first == "["
                    ? try? JSONSerialization.jsonObject(with: Data(trimmed.utf8), options: [.fragmentsAllowed]) : nil
                if let string = json as? String {
                    text = string
                } else if json is [String: Any] || json is [Any] {
                    // Importing JSON rows as prompt text is never what was meant.
                    throw job.file.error(line, nil, "a JSON \(json is [Any] ? "array" : "object"), not a line of text; "
                                         + "pass the file's format (or --format auto)")
                }
                guard !text.allSatisfy(\.isWhitespace) else { throw job.file.error(line, nil, "empty prompt") }
                try sink.prompt([.user(text)])
            }
        }
    }

    static func joined(_ instruction: String, _ input: String?) -> String {
        guard let input, !input.allSatisfy(\.isWhitespace) else { return instruction }
        return instruction + "\n\n" + input
    }
}
