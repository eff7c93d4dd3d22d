import Foundation
import SRLMStore
import SRLMEngines

/// The LLM-as-a-Judge prompt: the paper's additive 5-point rubric, in srlm's own words. Stored in the store as a
/// versioned template (`template` table); `--template FILE` registers a replacement as a new version.
public struct JudgeTemplate: Sendable, Hashable {
    public static let name = "judge-additive-5"

    public let body: String
    public let version: Int
    /// The name its versions are stored under: the additive rubric's, or a category rubric's (`judge-rubric-math`).
    public var templateName = JudgeTemplate.name

    public static let builtIn = """
        Judge the response below to the user's question with an additive 5-point scoring system. Start from 0 and \
        add one point for each criterion the response meets:
        - Add 1 point if the response is relevant and gives some information related to the question, even if it is \
        incomplete or contains some irrelevant content.
        - Add a 2nd point if it addresses a substantial part of the question but does not fully resolve it or answer \
        it directly.
        - Add a 3rd point if it answers the basic elements of the question in a useful way, even if it reads like a \
        search result or a blog post, or is incomplete.
        - Add a 4th point if it is clearly written from an AI assistant's perspective, addresses the question directly \
        and comprehensively, and is well organised and helpful, even with slight room for improvement in clarity, \
        conciseness or focus.
        - Add a 5th point if it is impeccably tailored to the question by an AI assistant, with no extraneous \
        information, reflecting expert knowledge, and is of high quality, engaging and insightful.

        {{question}}
        <response>{{response}}</response>

        After reading the question and the response:
        - Justify your total briefly, in up to 100 words.
        - End with the line "Score: <total points>".
        Judge from an AI assistant's perspective.
        """

    /// Renders the question (every turn of the prompt) and the response into the judge prompt.
    public func render(question: Messages, response: String) -> Messages {
        let conversation = question.map { message -> String in
            let who = message.role == "assistant" ? "Assistant" : message.role == "system" ? "System" : "User"
            return "\(who): \(message.content)"
        }.joined(separator: "\n")
        let text = body.replacingOccurrences(of: "{{question}}", with: conversation)
            .replacingOccurrences(of: "{{response}}", with: response)
        return [.user(text)]
    }

    public var versionTag: String { "\(templateName)@\(version)" }

    /// The call that judges one answer: sample k uses seed + k; `structured` constrains the output to end in a score.
    public func request(question: Messages, answer: String, sampling: Sampling, sample: Int = 0, structured: Bool) -> ChatRequest {
        ChatRequest(messages: render(question: question, response: answer),
                    temperature: sampling.temperature, topP: sampling.topP, maxTokens: sampling.maxTokens,
                    seed: sampling.seed + Int64(sample), sampleIndex: sample,
                    constraint: structured ? Self.constraint(maxTokens: sampling.maxTokens) : nil, templateVersion: versionTag)
    }

    /// The k calls that judge one answer (the loop's judge, EFT judging, the evaluations): sample k uses seed + k.
    public func requests(question: Messages, answer: String, samples: Int, sampling: Sampling, structured: Bool) -> [ChatRequest] {
        (0..<samples).map { k in request(question: question, answer: answer, sampling: sampling, sample: k, structured: structured) }
    }

    /// llama.cpp GBNF / vLLM regex that make the output end with a valid score line (`--structured`).
    public static func constraint(maxTokens: Int) -> OutputConstraint {
        .justification(maxTokens: maxTokens, thenGBNF: #""\nScore: " [0-5]"#, thenRegex: #"\nScore: [0-5]"#)
    }

    /// The template a stage will use: the built-in one (or the text of `file`), with the version it has in the
    /// store, or the version it will get when `register` stores it. Reads only.
    public static func resolve(_ store: Store, file: String? = nil, name: String = JudgeTemplate.name) throws -> JudgeTemplate {
        let body: String
        if let file {
            do { body = try String(contentsOfFile: file, encoding: .utf8) } catch {
                throw SRLMError.notFound("judge template \(file): cannot read it (\(error.localizedDescription))")
            }
        } else {
            body = builtIn
        }
        guard body.contains("{{question}}"), body.contains("{{response}}") else {
            throw SRLMError.invalid("\(file ?? "judge template"): must contain {{question}} and {{response}}")
        }
        return JudgeTemplate(body: body, version: try StageRows.templateVersion(store, name: name, body: body).version, templateName: name)
    }

    /// Stores the template under its version (once); the blob judgments rows point to.
    public func register(_ store: Store) throws -> BlobID {
        try StageRows.registerTemplate(store, name: templateName, version: version, body: body)
    }
}
