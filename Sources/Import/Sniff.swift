import Foundation

/// `--format auto`: the format from the first row's shape (gzip is already undone by `InputFile`). Keys mapped
/// with `--field` count as present under their logical names, so a file with unusual keys can still be sniffed.
enum Sniff {
    static func format(_ file: InputFile, _ options: ImportOptions) throws -> ImportFormat {
        var lines = LineScanner(file)
        guard let (firstLine, firstBytes) = try lines.nextChecked() else { throw file.error(nil, nil, "no rows: the file is empty") }
        let lead = firstBytes.first { !JSONText.isSpace($0) }
        // Plain text, or a first line that is a JSON string literal: one prompt per line.
        guard lead == UInt8(ascii: "{") || lead == UInt8(ascii: "[") else {
            _ = try JSONText.decode(firstBytes, file: file, line: firstLine)
            return try checked(.lines, firstLine, file, options)
        }
        var reader = RecordReader(file)
        var first = try reader.next()
        // Under --skip-invalid a first row that is not JSON is refused later like any other; the format comes from the next.
        while options.skipInvalid, let (_, _, parsed) = first, case .failure = parsed { first = try reader.next() }
        guard let (line, _, parsed) = first else { throw file.error(nil, nil, "no rows: the JSON array is empty") }
        let value = try parsed.get()
        if value is String { return try checked(.lines, line, file, options) }
        guard let object = value as? [String: Any] else {
            throw file.error(line, nil, "cannot tell the format: the row is \(JSONPath.typeName(value)), not a JSON object")
        }
        var present = Set(object.keys)
        for (field, path) in options.fields {
            let paths = (try? FieldTemplate.parse(path))?.map { $0.parts.map(\.path) } ?? [path]
            if paths.contains(where: { JSONPath.lookup(object, $0) != nil }) { present.insert(field) }
        }
        func field(_ name: String) -> Any? { JSONPath.lookup(object, options.fields[name] ?? name) }

        let format: ImportFormat
        if present.contains("message_tree_id") || (object["prompt"] as? [String: Any])?["replies"] != nil {
            format = .oasst
        } else if present.contains("winner") && present.contains("model_a") && present.contains("model_b") {
            format = .mtBenchHuman
        } else if present.contains("response_a") && present.contains("response_b") {
            format = .pairwise
        } else if present.contains("preferred_output") {
            format = .trl
        } else if present.contains("chosen") && present.contains("rejected") {
            let transcript = (field("chosen") as? String)?.contains("Human:") ?? false
            format = !present.contains("prompt") && transcript ? .hhRlhf : .trl
        } else if present.contains("conversations") {
            format = .sharegpt
        } else if present.contains("messages") {
            format = .messages
        } else if present.contains("instruction") {
            format = present.contains("instances") ? .selfInstruct : present.contains("generator") ? .alpacaEval : .alpaca
        } else if present.contains("prompt") {
            format = .trl
        } else {
            let formats = ImportFormat.allCases.filter { $0 != .auto }.map(\.rawValue).joined(separator: ", ")
            throw file.error(line, nil, "cannot tell the format from the keys \(object.keys.sorted()); pass --format "
                             + "(one of: \(formats)) and --field LOGICAL=PATH to map keys")
        }
        return try checked(format, line, file, options)
    }

    private static func checked(_ format: ImportFormat, _ line: Int, _ file: InputFile,
                                _ options: ImportOptions) throws -> ImportFormat {
        guard format.targets.contains(options.target) else {
            throw file.error(line, nil, "this looks like format '\(format.rawValue)', which cannot fill target "
                             + "'\(options.target.rawValue)' (it fills: \(format.targets.map(\.rawValue).joined(separator: ", ")))")
        }
        return format
    }
}
