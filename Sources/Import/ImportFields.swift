import Foundation

/// The fields each format reads for each target: what `srlm import TARGET --help` lists, and the top-level keys an
/// import counts as read (any other key of a row is reported as ignored).
public enum ImportFields {
    /// One logical field a format reads: its default JSON path, whether a row needs it, and what it holds.
    public struct Field: Sendable, Equatable {
        public let name: String
        public let path: String
        public let required: Bool
        public let about: String
    }

    /// The fields `format` reads when it fills `target`, in the order a row is read. Empty for oasst and lines,
    /// whose shape is fixed (their keys are in `fixedKeys`).
    public static func fields(_ format: ImportFormat, _ target: ImportTarget) -> [Field] {
        func f(_ name: String, path: String? = nil, required: Bool = true, _ about: String) -> Field {
            Field(name: name, path: path ?? name, required: required, about: about)
        }
        let prompt = f("prompt", "The prompt: a string (one user message) or a message list")
        switch format {
        case .auto, .oasst, .lines: return []
        case .alpaca, .alpacaEval, .selfInstruct:
            let instances = format == .selfInstruct
            var list = [f("instruction", instances ? "The task's instruction" : "The instruction; the prompt unless 'prompt' is mapped")]
            if format != .alpacaEval {
                list.append(f("input", path: instances ? "instances.0.input" : "input", required: false,
                              "Appended to the instruction after a blank line, when not blank"))
            }
            if format != .selfInstruct {
                list.append(f("prompt", required: false, "When mapped (a path or a template): instead of instruction + input"))
            }
            guard target != .prompts else { return list }
            list.append(f("output", path: instances ? "instances.0.output" : "output", "The reply"))
            if format != .selfInstruct {
                list.append(f("response", required: false, "When mapped: instead of output"))
            }
            if target == .eft { list.append(f("score", required: false, "The example's score (else the reply's last 'Score: N')")) }
            return list
        case .messages, .sharegpt:
            var list = [f("messages", path: format == .sharegpt ? "conversations" : "messages",
                          format == .sharegpt ? "[{from: human|gpt|system, value}]; the reply: the last gpt message"
                                              : "[{role, content}]; the reply: the last assistant message")]
            if target == .eft { list.append(f("score", required: false, "The example's score")) }
            return list
        case .trl:
            switch target {
            case .pairs, .labeledPairs:
                return [f("prompt", required: false, "The prompt (else: what chosen and rejected begin with)"),
                        f("chosen", "The preferred reply (a string or a message list)"),
                        f("rejected", "The other reply"),
                        f("score_chosen", required: false, "The chosen reply's score"),
                        f("score_rejected", required: false, "The rejected reply's score")]
            case .prompts:
                return [prompt]
            default:
                return [prompt, f("response", path: "completion", "The reply")]
                    + (target == .eft ? [f("score", required: false, "The example's score")] : [])
            }
        case .hhRlhf:
            return [f("chosen", "The whole preferred \"\\n\\nHuman: …\\n\\nAssistant: …\" transcript"),
                    f("rejected", "The whole other transcript")]
        case .pairwise:
            return [prompt,
                    f("response_a", "Reply A (a string or a message list)"),
                    f("response_b", "Reply B"),
                    f("label", "The verdict: a, b or tie (model_a, 1 / 2 / 0, …); or --votes"),
                    f("question_id", required: false, "Where the pair came from"),
                    f("model_a", required: false, "The model that wrote reply A"),
                    f("model_b", required: false, "The model that wrote reply B")]
        case .mtBenchHuman:
            return [f("question_id", "The MT-Bench question"), f("model_a", "Model A"), f("model_b", "Model B"),
                    f("winner", "model_a, model_b, tie or tie (bothbad)"),
                    f("conversation_a", "Model A's conversation [{role, content}]"),
                    f("conversation_b", "Model B's conversation")]
        }
    }

    /// Keys read besides the logical fields: oasst's tree, trl's OpenAI spelling and weights, MT-Bench's turn.
    static func fixedKeys(_ format: ImportFormat, _ target: ImportTarget) -> [String] {
        switch format {
        case .oasst: return ["prompt"]
        case .trl where target == .pairs || target == .labeledPairs:
            return ["weight", "confidence", "input", "preferred_output", "non_preferred_output"]
        case .trl where target == .prompts: return ["input", "chosen", "rejected", "preferred_output", "non_preferred_output"]
        case .mtBenchHuman: return ["turn"]
        default: return []
        }
    }

    /// The top-level keys an import reads: each field's mapped path or template (or its default path), the fixed
    /// keys, and the --votes columns.
    static func readKeys(_ format: ImportFormat, _ options: ImportOptions, _ templates: [String: FieldTemplate]) -> Set<String> {
        func top(_ path: String) -> String { String(path.split(separator: ".", maxSplits: 1).first ?? "") }
        var keys = Set(fixedKeys(format, options.target))
        let alpacaLike = [.alpaca, .alpacaEval].contains(format)
        for field in fields(format, options.target) {
            let mapped = options.fields[field.name] != nil
            // alpaca reads a mapped prompt (response) instead of instruction and input (output), not beside them.
            if alpacaLike && (["prompt", "response"].contains(field.name) && !mapped
                              || ["instruction", "input"].contains(field.name) && options.fields["prompt"] != nil
                              || field.name == "output" && options.fields["response"] != nil) { continue }
            if field.name == "label" && !options.votes.isEmpty { continue }
            if let template = templates[field.name] {
                keys.formUnion(template.keys)
            } else {
                keys.insert(top(options.fields[field.name] ?? field.path))
            }
        }
        keys.formUnion(options.votes.map(top))
        return keys
    }

    /// The fields of `target` by format, for its `--help`.
    public static func help(_ target: ImportTarget) -> String {
        var text = "Fields read, by format (--field NAME=PATH maps one to another JSON path, dotted with numeric indexes; "
            + "--field 'NAME={a}\\n\\n{b}' builds it from several fields, leaving out empty parts with their separator):\n"
        for format in ImportFormat.allCases where format != .auto && format.targets.contains(target) {
            let list = fields(format, target)
            text += "\n\(format.rawValue):"
            switch format {
            case .oasst: text += " message trees (prompt.text, prompt.replies[].text, rank, synthetic, deleted); no --field\n"
            case .lines: text += " one prompt per line of text (or a JSON string); no --field\n"
            default:
                text += "\n" + list.map { field in
                    let path = field.path == field.name ? "" : " [\(field.path)]"
                    return "  \(field.name)\(path)\(field.required ? "" : " (optional)"): \(field.about)"
                }.joined(separator: "\n") + "\n"
            }
        }
        return text
    }
}
