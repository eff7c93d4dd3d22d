import Foundation
import GRDB
import SRLMStore

/// What an import fills: one dataset of the matching artifact kind.
public enum ImportTarget: String, CaseIterable, Sendable {
    case ift, ranked, prompts, pairs, eft, labeledPairs = "labeled-pairs"

    public var kind: ArtifactKind {
        switch self {
        case .labeledPairs: return .labeledPairs
        case .ift: return .ift
        case .ranked: return .ranked
        case .prompts: return .prompts
        case .pairs: return .pairs
        case .eft: return .eft
        }
    }
}

/// The input formats `srlm import` reads. Each reads some logical fields (`fieldNames`), which `--field` can
/// remap to other JSON paths:
/// - `prompt`: the prompt; a string (one user message) or a message list. trl reads it natively; for alpaca it
///   replaces instruction + input.
/// - `response`: the reply (trl: `completion`; alpaca: replaces `output`); a string or a message list.
/// - `chosen`, `rejected`: the preferred and the other reply (trl), or whole transcripts (hh-rlhf).
/// - `score_chosen`, `score_rejected`: optional numeric scores of a pair (trl).
/// - `messages`: a conversation, [{role, content}] (messages; default path `messages`) or [{from, value}]
///   (sharegpt; default path `conversations`).
/// - `instruction`, `input`, `output`: alpaca and alpaca-eval fields; for self-instruct `input`/`output` default to
///   `instances.0.input`/`instances.0.output`.
/// - `score`: the score of an eft example, when the file has one (else parsed from a final "Score: N" line).
/// - `response_a`, `response_b`, `label`: a human-labelled pair's two replies and the verdict (pairwise);
///   `question_id`, `model_a`, `model_b`: where the pair came from; mt-bench-human reads those three and
///   `winner`, `conversation_a`, `conversation_b` (each model's conversation, [{role, content}]).
/// Paths are dotted with numeric indexes: `conversation.0.text`.
public enum ImportFormat: String, CaseIterable, Sendable {
    case auto, oasst, alpaca, messages, sharegpt, selfInstruct = "self-instruct", alpacaEval = "alpaca-eval",
         lines, trl, hhRlhf = "hh-rlhf", pairwise, mtBenchHuman = "mt-bench-human"

    /// The targets this format can fill.
    public var targets: [ImportTarget] {
        switch self {
        case .auto: return ImportTarget.allCases
        case .oasst: return [.ift, .ranked, .prompts]
        case .alpaca, .messages, .sharegpt: return [.ift, .prompts, .eft]
        case .selfInstruct, .alpacaEval: return [.ift, .prompts]
        case .lines: return [.prompts]
        case .trl: return [.pairs, .ift, .eft, .prompts, .labeledPairs]
        case .hhRlhf: return [.pairs, .prompts, .labeledPairs]
        case .pairwise, .mtBenchHuman: return [.labeledPairs]
        }
    }

    /// The logical fields this format reads (the ones `--field` may map).
    public var fieldNames: [String] {
        switch self {
        case .auto: return ImportOptions.logicalFields
        case .oasst, .lines: return []
        case .alpaca: return ["instruction", "input", "output", "prompt", "response", "score"]
        case .alpacaEval: return ["instruction", "output", "prompt", "response"]
        case .messages, .sharegpt: return ["messages", "score"]
        case .selfInstruct: return ["instruction", "input", "output"]
        case .trl: return ["prompt", "response", "chosen", "rejected", "score_chosen", "score_rejected", "score"]
        case .hhRlhf: return ["chosen", "rejected"]
        case .pairwise: return ["prompt", "response_a", "response_b", "label", "question_id", "model_a", "model_b"]
        case .mtBenchHuman: return ["question_id", "model_a", "model_b", "winner", "conversation_a", "conversation_b"]
        }
    }
}

public struct ImportOptions: Sendable {
    public var target: ImportTarget
    public var path: String
    public var format: ImportFormat
    /// The dataset name; default: the target's name ("ift", "pairs", ...).
    public var name: String?
    public var experiment: String
    /// Logical field → JSON path (`--field prompt=instruction`); see `ImportFormat` for the logical names.
    public var fields: [String: String]
    /// oasst: messages marked synthetic are left out unless this is set.
    public var includeSynthetic: Bool
    /// pairwise: JSON paths of the annotators' votes (`--votes annotator_1,annotator_2,annotator_3`); the label is
    /// their strict majority (tie without one) and the votes are kept. A path holding an array gives all its votes.
    public var votes: [String]

    public static let logicalFields = ["prompt", "response", "chosen", "rejected", "messages", "score_chosen",
                                       "score_rejected", "instruction", "input", "output", "score",
                                       "response_a", "response_b", "label", "question_id", "model_a", "model_b",
                                       "winner", "conversation_a", "conversation_b"]

    public init(target: ImportTarget, path: String, format: ImportFormat = .auto, name: String? = nil,
                experiment: String = Experiment.defaultName, fields: [String: String] = [:],
                includeSynthetic: Bool = false, votes: [String] = []) {
        self.target = target
        self.path = path
        self.format = format
        self.name = name
        self.experiment = experiment
        self.fields = fields
        self.includeSynthetic = includeSynthetic
        self.votes = votes
    }

    public var datasetName: String { name ?? target.rawValue }
}

public struct ImportResult: Sendable {
    /// The new version; nil when the content equals the latest version (`unchangedRef`).
    public let version: DatasetVersion?
    public let unchangedRef: String?
    public let rows: Int
    /// The format read (what `auto` picked).
    public let format: ImportFormat
    /// Input rows deliberately left out, with why (e.g. MT-Bench judgments of a second turn); none for most formats.
    public var skipped: [String: Int] = [:]
}

/// What a reader deliberately left out, by reason: reported, and noted on the version.
final class ImportTally {
    var skipped: [String: Int] = [:]
}

/// The input file with the options it is read under.
struct ImportJob {
    let file: InputFile
    let options: ImportOptions
    let tally = ImportTally()
    var target: ImportTarget { options.target }

    /// Every record in file order, streamed. With more than one thread, JSON Lines are parsed a batch at a time on every
    /// core; records still reach `body` in order, and the first bad line is still the one reported.
    func records(_ body: (Record) throws -> Void) throws {
        guard Parallelism.threads > 1, !file.isJSONArray else {
            var reader = RecordReader(file)
            while let (line, value) = try reader.next() {
                try body(Record(value: value, line: line, file: file, fields: options.fields))
            }
            return
        }
        try inBatches({ $0 }, body)
    }

    /// Every record's rows into `sink`, for readers whose rows depend on their record alone (no state kept between
    /// records): with more than one thread `body` runs on every core beside the parsing, each record's rows are
    /// collected with their texts encoded and hashed (`PreparedRow`), and only their writes stay on this thread, in
    /// file order (the first bad line is still the one reported).
    func rows(_ sink: RowSink, _ body: @escaping @Sendable (Record, RowSink) throws -> Void) throws {
        guard Parallelism.threads > 1, !file.isJSONArray, let write = sink.appendPrepared else {
            return try records { try body($0, sink) }
        }
        let target = sink.target
        try inBatches({ record -> [PreparedRow] in
            var rows: [PreparedRow] = []
            try body(record, RowSink(target: target) { rows.append(PreparedRow($0, kind: target.kind)) })
            return rows
        }) { rows in
            for row in rows { try write(row) }
        }
    }

    /// JSON Lines a batch at a time: each line parsed and `prepare`d on every core, then `consume`d in file order on
    /// this thread while the next two batches are already being prepared (the writes overlap the parsing).
    private func inBatches<Prepared>(_ prepare: @escaping @Sendable (Record) throws -> Prepared,
                                     _ consume: (Prepared) throws -> Void) throws {
        let threads = Parallelism.threads
        var lines = LineScanner(file)
        let batchSize = 512 * threads
        let (file, fields) = (self.file, options.fields)
        func start() -> PreparingBatch<Prepared> {
            var work: [(line: Int, bytes: ArraySlice<UInt8>)] = []
            work.reserveCapacity(batchSize)
            var scanError: Error?
            while work.count < batchSize {
                do {
                    guard let next = try lines.nextChecked() else { break }
                    work.append(next)
                } catch {
                    scanError = error
                    break
                }
            }
            let batch = PreparingBatch<Prepared>(count: work.count, scanError: scanError, isLast: scanError != nil || work.count < batchSize)
            DispatchQueue.global(qos: .userInitiated).async(group: batch.done) { [work] in
                DispatchQueue.concurrentPerform(iterations: threads) { part in
                    for i in stride(from: part, to: work.count, by: threads) {
                        batch.prepared.set(i, Result {
                            let value = try JSONText.parse(work[i].bytes, file: file, line: work[i].line)
                            return try prepare(Record(value: value, line: work[i].line, file: file, fields: fields))
                        })
                    }
                }
            }
            return batch
        }
        // Two batches ahead of the one being written, so the parsing cores need not wait for the writer.
        var queue = [start()]
        while let current = queue.first {
            while queue.count < 3, let last = queue.last, !last.isLast { queue.append(start()) }
            do {
                current.done.wait()
                for i in 0..<current.count { try consume(try current.prepared.get(i)) }
                if let scanError = current.scanError { throw scanError }
            } catch {
                for batch in queue { batch.done.wait() }  // no work outlives the import's transaction
                throw error
            }
            queue.removeFirst()
        }
    }
}

/// A batch of lines being parsed on every core: its results, and the group that says when they are all in.
private final class PreparingBatch<Prepared>: @unchecked Sendable {
    let count: Int
    let prepared: ResultSlots<Prepared>
    let done = DispatchGroup()
    /// Why the lines stopped before the batch was full (a line too long, bad UTF-8): thrown once the lines before it
    /// are consumed.
    let scanError: Error?
    let isLast: Bool

    init(count: Int, scanError: Error?, isLast: Bool) {
        self.count = count
        self.prepared = ResultSlots(count: count)
        self.scanError = scanError
        self.isLast = isLast
    }
}

public enum Importer {
    /// Reads the file and writes one new version of the dataset in a single transaction with its run record:
    /// any error leaves the store as it was; identical content writes nothing and reports `unchangedRef`.
    public static func run(_ store: Store, _ options: ImportOptions) throws -> ImportResult {
        let file = try InputFile(path: options.path)
        for field in options.fields.keys.sorted() where !ImportOptions.logicalFields.contains(field) {
            throw file.error(nil, field, "unknown logical field; known: " + ImportOptions.logicalFields.joined(separator: ", "))
        }
        let format = options.format == .auto ? try Sniff.format(file, options) : options.format
        try check(format, options, file)
        var config: [String: Any] = [
            "target": options.target.rawValue, "format": format.rawValue, "path": file.name,
            "name": options.datasetName, "fields": options.fields, "includeSynthetic": options.includeSynthetic,
            "sha256": file.sha256,
        ]
        if !options.votes.isEmpty { config["votes"] = options.votes }
        var rows = 0
        do {
            return try store.write { db in
                let run = try Runs.begin(db, experiment: options.experiment, stage: "import", config: config)
                let writer = try VersionWriter(db, experiment: options.experiment, name: options.datasetName,
                                               kind: options.target.kind, runID: run.id)
                let sink = RowSink(target: options.target, append: { try writer.append($0) }, appendPrepared: { try writer.append($0) })
                let job = ImportJob(file: file, options: options)
                try read(format, job, sink)
                rows = writer.count
                let skipped = job.tally.skipped.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
                guard rows > 0 else {
                    throw file.error(nil, nil, file.bytes.allSatisfy(JSONText.isSpace)
                                     ? "no rows: the file is empty" : "no rows: nothing in the file could be imported"
                                       + (skipped.isEmpty ? "" : " (skipped: " + skipped.joined(separator: ", ") + ")"))
                }
                let note = "import \(format.rawValue) \(file.name)" + (skipped.isEmpty ? "" : "; skipped " + skipped.joined(separator: ", "))
                let version = try writer.finish(note: note)
                try Runs.finish(db, run.id)
                return ImportResult(version: version, unchangedRef: nil, rows: rows, format: format, skipped: job.tally.skipped)
            }
        } catch SRLMError.unchanged(let ref) {
            // The transaction rolled back: not even the run record remains.
            return ImportResult(version: nil, unchangedRef: ref, rows: rows, format: format)
        }
    }

    /// Target and `--field` names must make sense for the format before anything is read.
    static func check(_ format: ImportFormat, _ options: ImportOptions, _ file: InputFile) throws {
        guard format.targets.contains(options.target) else {
            throw file.error(nil, nil, "format '\(format.rawValue)' cannot fill target '\(options.target.rawValue)'; it fills: "
                             + format.targets.map(\.rawValue).joined(separator: ", "))
        }
        for (field, path) in options.fields.sorted(by: { $0.key < $1.key }) {
            guard format.fieldNames.contains(field) else {
                let read = format.fieldNames.isEmpty ? "none" : format.fieldNames.joined(separator: ", ")
                throw file.error(nil, field, "format '\(format.rawValue)' does not read this field; it reads: \(read)")
            }
            guard !path.isEmpty else { throw file.error(nil, field, "the --field path is empty") }
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
