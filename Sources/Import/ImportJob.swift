import Foundation
import SRLMStore

/// What a reader left out: rows skipped on purpose (by reason), rows refused as invalid, and top-level keys of the
/// rows that nothing read (by key, in how many rows). Reported once at the end, and noted on the version.
final class ImportTally {
    var skipped: [String: Int] = [:]
    /// Under `--skip-invalid` every refused row; without it only the first, which stops the import.
    var refused: [ImportRejection] = []
    var refusedCount = 0
    var unreadKeys: [String: Int] = [:]
}

/// The input file with the options it is read under.
struct ImportJob {
    let file: InputFile
    let options: ImportOptions
    /// The `--field` values that are templates, parsed once.
    let templates: [String: FieldTemplate]
    /// The top-level keys the format reads for the target (`ImportFields.readKeys`); any other key is reported.
    let readKeys: Set<String>
    let tally = ImportTally()
    var target: ImportTarget { options.target }

    /// A row failed without --skip-invalid: the import will stop, so nothing more is written, but the rest of the
    /// file is still read to count the rows that fail too.
    var failing: Bool { !options.skipInvalid && tally.refusedCount > 0 }

    /// A row that cannot be imported, with its text as it stands in the file.
    func refuse(_ error: ImportError, row: ArraySlice<UInt8>?) {
        tally.refusedCount += 1
        guard options.skipInvalid || tally.refused.isEmpty else { return }
        tally.refused.append(ImportRejection(file: error.file, line: error.line, field: error.field, reason: error.message,
                                             row: row.map { String(decoding: $0, as: UTF8.self) }))
    }

    /// The first refusal as the import's error, saying how many more rows fail; nil when none failed or
    /// `--skip-invalid` keeps them as rejections.
    var stoppingError: ImportError? {
        guard !options.skipInvalid, let first = tally.refused.first else { return nil }
        let more = tally.refusedCount - 1
        guard more > 0 else { return ImportError(first) }
        return ImportError(file: first.file, line: first.line, field: first.field, message: first.reason
                           + " (and \(more) more row\(more == 1 ? "" : "s") fail; --skip-invalid imports the valid rows "
                           + "and records the refused ones)")
    }

    /// Counts the row's keys that the format does not read.
    func noteUnread(_ keys: [String]) {
        for key in keys { tally.unreadKeys[key, default: 0] += 1 }
    }

    var reading: RowReading { RowReading(file: file, fields: options.fields, templates: templates, readKeys: readKeys) }

    /// Runs `body` for one row, refusing the row when it throws an import error. Each reader reads all of a row's
    /// fields before it writes any of its rows, so a refused row has written nothing.
    func guarded(_ line: Int, _ row: ArraySlice<UInt8>?, _ body: () throws -> Void) throws {
        do { try body() } catch let error as ImportError { refuse(error, row: row) }
    }

    /// Every record in file order, streamed. With more than one thread, JSON Lines are parsed a batch at a time on every
    /// core; records still reach `body` in order, and the first bad line is still the one reported.
    func records(_ body: (Record) throws -> Void) throws {
        guard Parallelism.threads > 1, !file.isJSONArray else {
            var reader = RecordReader(file)
            let reading = self.reading
            while let (line, bytes, parsed) = try reader.next() {
                try guarded(line, bytes) {
                    let value = try parsed.get()
                    noteUnread(reading.unread(value))
                    try body(reading.record(value, line: line))
                }
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
        let reading = self.reading
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
            let batch = PreparingBatch<Prepared>(work: work, scanError: scanError, isLast: scanError != nil || work.count < batchSize)
            DispatchQueue.global(qos: .userInitiated).async(group: batch.done) { [work] in
                DispatchQueue.concurrentPerform(iterations: threads) { part in
                    for i in stride(from: part, to: work.count, by: threads) {
                        batch.prepared.set(i, Result {
                            let value = try JSONText.parse(work[i].bytes, file: reading.file, line: work[i].line)
                            return (try prepare(reading.record(value, line: work[i].line)), reading.unread(value))
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
                for i in 0..<current.count {
                    try guarded(current.work[i].line, current.work[i].bytes) {
                        let (prepared, unread) = try current.prepared.get(i)
                        noteUnread(unread)
                        try consume(prepared)
                    }
                }
                if let scanError = current.scanError { throw scanError }
            } catch {
                for batch in queue { batch.done.wait() }  // no work outlives the import's transaction
                throw error
            }
            queue.removeFirst()
        }
    }
}

/// What turns a parsed row into a `Record` (on any core), and which of its keys nothing reads.
struct RowReading: Sendable {
    let file: InputFile
    let fields: [String: String]
    let templates: [String: FieldTemplate]
    let readKeys: Set<String>

    func record(_ value: Any, line: Int) -> Record {
        Record(value: value, line: line, file: file, fields: fields, templates: templates)
    }

    func unread(_ value: Any) -> [String] {
        guard let object = value as? [String: Any] else { return [] }
        return object.keys.filter { !readKeys.contains($0) && !JSONPath.isNull(object[$0]!) }
    }
}

/// A batch of lines being parsed on every core: its results, and the group that says when they are all in.
private final class PreparingBatch<Prepared>: @unchecked Sendable {
    let work: [(line: Int, bytes: ArraySlice<UInt8>)]
    var count: Int { work.count }
    /// Each line's prepared value with its keys that nothing reads.
    let prepared: ResultSlots<(Prepared, [String])>
    let done = DispatchGroup()
    /// Why the lines stopped before the batch was full (a line too long, bad UTF-8): thrown once the lines before it
    /// are consumed.
    let scanError: Error?
    let isLast: Bool

    init(work: [(line: Int, bytes: ArraySlice<UInt8>)], scanError: Error?, isLast: Bool) {
        self.work = work
        self.prepared = ResultSlots(count: work.count)
        self.scanError = scanError
        self.isLast = isLast
    }
}

