import Foundation
import GRDB
import SRLMStore

public enum Importer {
    /// Reads the file and writes one new version of the dataset in a single transaction with its run record:
    /// any error leaves the store as it was; identical content writes nothing and reports `unchangedRef`.
    public static func run(_ store: Store, _ options: ImportOptions) throws -> ImportResult {
        let file = try InputFile(path: options.path)
        for field in options.fields.keys.sorted() where !ImportOptions.logicalFields.contains(field) {
            throw file.error(nil, field, "unknown logical field; known: " + ImportOptions.logicalFields.joined(separator: ", "))
        }
        let format = options.format == .auto ? try Sniff.format(file, options) : options.format
        let templates = try check(format, options, file)
        var config: [String: Any] = [
            "target": options.target.rawValue, "format": format.rawValue, "path": file.name,
            "name": options.datasetName, "fields": options.fields, "includeSynthetic": options.includeSynthetic,
            "sha256": file.sha256,
        ]
        if !options.votes.isEmpty { config["votes"] = options.votes }
        if options.skipInvalid { config["skipInvalid"] = true }
        let job = ImportJob(file: file, options: options, templates: templates,
                            readKeys: ImportFields.readKeys(format, options, templates))
        var rows = 0
        do {
            return try store.write { db in
                let run = try Runs.begin(db, experiment: options.experiment, stage: "import", config: config)
                let writer = try VersionWriter(db, experiment: options.experiment, name: options.datasetName,
                                               kind: options.target.kind, runID: run.id)
                // Once a row has failed without --skip-invalid nothing is written: the import will stop.
                let sink = RowSink(target: options.target, append: { if !job.failing { try writer.append($0) } },
                                   appendPrepared: { if !job.failing { try writer.append($0) } })
                try read(format, job, sink)
                if let error = job.stoppingError { throw error }
                rows = writer.count
                let tally = job.tally
                let skipped = tally.skipped.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
                guard rows > 0 else {
                    throw file.error(nil, nil, file.bytes.allSatisfy(JSONText.isSpace)
                                     ? "no rows: the file is empty" : "no rows: nothing in the file could be imported"
                                       + (skipped.isEmpty ? "" : " (skipped: " + skipped.joined(separator: ", ") + ")")
                                       + (tally.refused.first.map { "; \(tally.refused.count) refused, the first: \(ImportError($0))" } ?? ""))
                }
                try ImportRejections.record(writer, run: run.id, tally.refused)
                let note = "import \(format.rawValue) \(file.name)" + (skipped.isEmpty ? "" : "; skipped " + skipped.joined(separator: ", "))
                    + (tally.refused.isEmpty ? "" : "; refused \(tally.refused.count) invalid rows (v_import_rejections)")
                let version = try writer.finish(note: note)
                try Runs.finish(db, run.id)
                return ImportResult(version: version, unchangedRef: nil, rows: rows, format: format, skipped: tally.skipped,
                                    rejected: tally.refused, unreadKeys: tally.unreadKeys)
            }
        } catch SRLMError.unchanged(let ref) {
            // The transaction rolled back: not even the run record remains.
            return ImportResult(version: nil, unchangedRef: ref, rows: rows, format: format, skipped: job.tally.skipped,
                                rejected: job.tally.refused, unreadKeys: job.tally.unreadKeys)
        }
    }

    /// Target and `--field` names must make sense for the format before anything is read.
    /// Returns the `--field` values that are templates, parsed.
    static func check(_ format: ImportFormat, _ options: ImportOptions, _ file: InputFile) throws -> [String: FieldTemplate] {
        guard format.targets.contains(options.target) else {
            throw file.error(nil, nil, "format '\(format.rawValue)' cannot fill target '\(options.target.rawValue)'; it fills: "
                             + format.targets.map(\.rawValue).joined(separator: ", "))
        }
        var templates: [String: FieldTemplate] = [:]
        for (field, path) in options.fields.sorted(by: { $0.key < $1.key }) {
            guard format.fieldNames.contains(field) else {
                let read = format.fieldNames.isEmpty ? "none" : format.fieldNames.joined(separator: ", ")
                throw file.error(nil, field, "format '\(format.rawValue)' does not read this field; it reads: \(read)")
            }
            guard !path.isEmpty else { throw file.error(nil, field, "the --field path is empty") }
            do {
                if let template = try FieldTemplate.parse(path) { templates[field] = template }
            } catch let problem as FieldTemplate.Problem {
                throw file.error(nil, field, "--field template '\(path)': \(problem)")
            }
        }
        if !options.votes.isEmpty {
            guard format == .pairwise else {
                throw file.error(nil, nil, "--votes is read by format 'pairwise' only, not '\(format.rawValue)'")
            }
            guard options.fields["label"] == nil else {
                throw file.error(nil, "label", "--votes makes the label the annotators' majority; do not also map 'label'")
            }
            guard !options.votes.contains(where: \.isEmpty) else { throw file.error(nil, nil, "--votes: an empty column path") }
        }
        return templates
    }

    static func read(_ format: ImportFormat, _ job: ImportJob, _ sink: RowSink) throws {
        switch format {
        case .auto: preconditionFailure("auto is resolved before reading")
        case .oasst: try OASST.read(job, sink)
        case .alpaca: try Chat.alpaca(job, sink, eval: false)
        case .alpacaEval: try Chat.alpaca(job, sink, eval: true)
        case .messages: try Chat.messages(job, sink, sharegpt: false)
        case .sharegpt: try Chat.messages(job, sink, sharegpt: true)
        case .selfInstruct: try Chat.selfInstruct(job, sink)
        case .lines: try Chat.lines(job, sink)
        case .trl: try Preference.trl(job, sink)
        case .hhRlhf: try Preference.hhRLHF(job, sink)
        case .pairwise: try Pairwise.labeled(job, sink)
        case .mtBenchHuman: try Pairwise.mtBenchHuman(job, sink)
        }
    }
}
