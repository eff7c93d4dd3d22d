import Foundation
import SRLMStore

/// Rows of an export on their way to the sink: their lines, and what proves them — each text's bytes with the key
/// its pack stores, each row's values — so that the SHA-256 checks and the writes can run on a second core while the
/// next rows are read and decoded. Chunks are recycled: their buffers keep their capacity.
final class ExportChunk: @unchecked Sendable {
    var lines: [UInt8] = []
    /// The rows' texts back to back; `blobs` says where each lies, and the key its pack stores (nil: not 8 bytes).
    var texts: [UInt8] = []
    var blobs: [(key: Int64?, start: Int, count: Int)] = []
    /// `columns` values per row, in the kind's column order.
    var values: [Value] = []
    var ords: [Int] = []

    /// Big enough that a write(2) and a hand-over cost little per row.
    static let target = exportBufferSize

    var isFull: Bool { lines.count >= Self.target || texts.count >= Self.target }

    init() {
        // A chunk closes at the first row past `target`: room for that row too, so the buffers rarely move.
        lines.reserveCapacity(Self.target + Self.target / 4)
        texts.reserveCapacity(Self.target + Self.target / 4)
    }

    /// Where each buffer ends: a row that fails while being read is cut off again.
    struct Mark { let lines, texts, blobs, values, ords: Int }
    var mark: Mark { Mark(lines: lines.count, texts: texts.count, blobs: blobs.count, values: values.count, ords: ords.count) }

    func truncate(to mark: Mark) {
        lines.removeSubrange(mark.lines...)
        texts.removeSubrange(mark.texts...)
        blobs.removeSubrange(mark.blobs...)
        values.removeSubrange(mark.values...)
        ords.removeSubrange(mark.ords...)
    }

    func reset() {
        lines.removeAll(keepingCapacity: true)
        texts.removeAll(keepingCapacity: true)
        blobs.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        ords.removeAll(keepingCapacity: true)
    }
}

/// Checks each row of a chunk — every text against its stored key, the row's hash kept for the version's content
/// hash — and only then writes the chunk's lines: a corrupt row fails the export before its line reaches the sink.
struct ExportChecker<Sink: ExportSink> {
    let kind: ArtifactKind
    let ref: String
    var sink: Sink
    private(set) var rowHashes: [ContentHash] = []
    private var row: [Value] = []
    private var hashes: [(id: BlobID, hash: ContentHash)] = []

    init(kind: ArtifactKind, ref: String, sink: Sink, rows: Int) {
        self.kind = kind
        self.ref = ref
        self.sink = sink
        rowHashes.reserveCapacity(rows)
    }

    mutating func consume(_ chunk: ExportChunk) throws {
        let width = kind.columns.count
        var next = 0
        try chunk.texts.withUnsafeBytes { texts in
            for (r, ord) in chunk.ords.enumerated() {
                row.removeAll(keepingCapacity: true)
                row.append(contentsOf: chunk.values[(r * width)..<((r + 1) * width)])
                hashes.removeAll(keepingCapacity: true)
                for value in row {
                    guard case .blob(let id) = value else { continue }
                    let blob = chunk.blobs[next]
                    next += 1
                    let hash = ContentHash(of: UnsafeRawBufferPointer(rebasing: texts[blob.start..<(blob.start + blob.count)]))
                    guard blob.key == hash.key else {
                        throw SRLMError.corrupt("blob \(id) is corrupt: its bytes do not match its SHA-256 key (row \(ord) of \(ref); run srlm fsck)")
                    }
                    hashes.append((id, hash))
                }
                let found = hashes
                rowHashes.append(kind.rowHash(row) { id in found.first { $0.id == id }!.hash })
            }
        }
        try chunk.lines.withUnsafeBytes { try sink.write($0) }
    }
}

/// The producer (this thread: SQLite, decoding, lines) and the checker (a second core) of an export, with two
/// chunks in flight between them. With one core the checker runs inline. The checker's error always concerns rows
/// before the one the producer failed on (that row is cut from its chunk, the rest still checked), so it is the one
/// thrown when both fail: the same error a single thread would have met first.
final class ExportPipeline<Sink: ExportSink>: @unchecked Sendable {
    private var checker: ExportChecker<Sink>
    private let threaded: Bool
    private let condition = NSCondition()
    private var ready: [ExportChunk] = []
    private var spare: [ExportChunk]
    private var closed = false
    private(set) var failure: Error?
    private let finished = DispatchGroup()

    init(_ checker: ExportChecker<Sink>, threads: Int) {
        self.checker = checker
        threaded = threads > 1
        spare = threaded ? [ExportChunk(), ExportChunk(), ExportChunk()] : [ExportChunk()]
        // A thread of its own, not a GCD worker: the producer blocks on it, and an export called from a busy pool
        // must not wait for a worker the pool never starts.
        if threaded {
            finished.enter()
            let thread = Thread { [self] in checkLoop(); finished.leave() }
            thread.name = "srlm export check"
            thread.start()
        }
    }

    /// A chunk to fill (waits while the checker holds every one).
    func take() -> ExportChunk {
        condition.lock(); defer { condition.unlock() }
        while spare.isEmpty { condition.wait() }
        let chunk = spare.removeLast()
        chunk.reset()
        return chunk
    }

    /// Whether the checker has failed: nothing more is checked or written.
    var stopped: Bool { condition.withLock { failure != nil } }

    /// Hands a filled chunk over; false once the checker has failed (then `failure` says why), so the producer
    /// stops reading.
    func submit(_ chunk: ExportChunk) -> Bool {
        condition.lock(); defer { condition.unlock() }
        guard failure == nil else { spare.append(chunk); condition.broadcast(); return false }
        guard threaded else {
            do { try checker.consume(chunk) } catch { failure = error }
            spare.append(chunk)
            return failure == nil
        }
        ready.append(chunk)
        condition.broadcast()
        return true
    }

    /// Waits until the checker has consumed what it was handed; returns it with the sink. Its error, if any, is
    /// `failure`.
    func finish() -> ExportChecker<Sink> {
        if threaded {
            condition.lock()
            closed = true
            condition.broadcast()
            condition.unlock()
            finished.wait()
        }
        return checker
    }

    private func checkLoop() {
        while true {
            condition.lock()
            while ready.isEmpty && !closed { condition.wait() }
            guard !ready.isEmpty else { condition.unlock(); return }
            let chunk = ready.removeFirst()
            let failed = failure != nil
            condition.unlock()
            var error: Error?
            if !failed {
                do { try checker.consume(chunk) } catch let e { error = e }
            }
            condition.lock()
            if let error { failure = error }
            spare.append(chunk)
            condition.broadcast()
            condition.unlock()
        }
    }
}
