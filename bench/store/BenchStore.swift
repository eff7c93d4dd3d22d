// srlm-bench-store: the store's side of the store benchmark (bench/store/peers.py runs it beside DuckDB, pyarrow
// and zstd, and prints the table). Each subcommand prints one JSON object of in-process timings.
//
//   markov  writes the generated preference pairs (below) as TRL JSONL, and a second version of them for `diff`
//   measure imports a JSONL file into a new store and times export, a scan of every text, random reads, then
//           compacts and times them again
//   diff    two 100k-row versions (1% changed, 0.5% dropped, 0.5% added) and the time of `srlm diff`; then versions
//           derived from the first with 10 to 10,000 rows changed, diffed with their segments and read in full
//   scale   one round's volume at several multiples, written the way the stages write it: every model call
//           journaled in its own commit, then each stage's version in one transaction; time, size and peak memory
//
// The generated rows are preference pairs made from real text, seeded: the prompt is an AlpacaEval instruction,
// each reply 20-120 words from an order-2 word Markov chain trained on the two AlpacaEval model-output files (GPT-4
// turbo and Alpaca-7B). So vocabulary, phrasing and local redundancy are those of real chat replies, while rows do
// not repeat whole sentences of each other (bench/store/datasets.py's "spliced" set is the case where they do).
import ArgumentParser
import Foundation
import GRDB
import SRLMEngines
import SRLMExport
import SRLMImport
import SRLMStages
import SRLMStore

@main
struct BenchStore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "srlm-bench-store",
                                                    subcommands: [Markov.self, Measure.self, DiffBench.self, Scale.self])
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("srlm-bench-store: \(message)\n".utf8))
    exit(2)
}


struct Corpus {
    var instructions: [String] = []
    var sentences: [String] = []
    /// "w1 w2" → the words that follow it in the corpus (with repeats, so draws follow the corpus frequencies).
    var next: [String: [Substring]] = [:]
    var starts: [(Substring, Substring)] = []

    init(_ dir: String) {
        for name in ["gpt4_1106_preview_model_outputs.json", "alpaca-7b_model_outputs.json"] {
            let path = dir + "/alpaca-eval/" + name
            guard let data = FileManager.default.contents(atPath: path),
                  let rows = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] else { fail("cannot read \(path)") }
            for row in rows {
                if let instruction = row["instruction"] as? String, name.hasPrefix("gpt4") { instructions.append(instruction) }
                if let output = row["output"] as? String { sentences += Self.split(output) }
            }
        }
        for sentence in sentences {
            let words = sentence.split(separator: " ")
            guard words.count >= 3 else { continue }
            starts.append((words[0], words[1]))
            for i in 2..<words.count { next["\(words[i - 2]) \(words[i - 1])", default: []].append(words[i]) }
        }
    }

    /// Sentences end at ". ", "! ", "? " or a line break.
    static func split(_ text: String) -> [String] {
        var out: [String] = [], current = ""
        var previous: Character = " "
        for c in text {
            if c == "\n" || (c == " " && ".!?".contains(previous)) {
                let s = current.trimmingCharacters(in: .whitespaces)
                if s.count > 3 { out.append(s) }
                current = ""
            } else {
                current.append(c)
            }
            previous = c
        }
        let s = current.trimmingCharacters(in: .whitespaces)
        if s.count > 3 { out.append(s) }
        return out
    }

    func reply(_ rng: inout SeededGenerator) -> String {
        let length = Int.random(in: 20...120, using: &rng)
        var (a, b) = starts.randomElement(using: &rng)!
        var words = [a, b]
        while words.count < length {
            guard let c = next["\(a) \(b)"]?.randomElement(using: &rng) else {
                (a, b) = starts.randomElement(using: &rng)!  // a sentence ended: start another
                words += [a, b]
                continue
            }
            words.append(c)
            (a, b) = (b, c)
        }
        return words.joined(separator: " ")
    }

    func prompt(_ rng: inout SeededGenerator, _ n: Int) -> String {
        // Instructions repeat across 100k rows in real sets too; the row number keeps each prompt a new key.
        instructions.randomElement(using: &rng)! + " (case \(n))"
    }
}

func line(_ prompt: String, _ chosen: String, _ rejected: String) -> Data {
    let object: [String: Any] = ["prompt": [["role": "user", "content": prompt]],
                                 "chosen": [["role": "assistant", "content": chosen]],
                                 "rejected": [["role": "assistant", "content": rejected]]]
    var data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    data.append(0x0a)
    return data
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func fileSize(_ path: String) -> Int {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
}

func storeBytes(_ store: Store) throws -> Int {
    _ = try store.pool.writeWithoutTransaction { try $0.checkpoint(.truncate) }
    return fileSize(store.path)
}


struct Markov: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write generated preference pairs as TRL JSONL (v1, and v2 derived from it).")
    @Option(help: "Rows.") var rows = 100_000
    @Option(help: "Seed.") var seed: UInt64 = 1
    @Option(help: "The shared data folder.") var data = "../shared/data"
    @Option(help: "Output of the first version.") var out: String
    @Option(help: "Output of the second version (1% changed, 0.5% dropped, 0.5% added).") var second: String?

    func run() throws {
        let corpus = Corpus(data)
        var rng = SeededGenerator(seed: seed)
        var made = (0..<rows).map { n in (corpus.prompt(&rng, n), corpus.reply(&rng), corpus.reply(&rng)) }
        writeRows(made, out)
        guard let second else { return }
        let changed = rows / 100, dropped = rows / 200
        for i in 0..<changed { let k = (i * 7919) % made.count; made[k].1 = corpus.reply(&rng) }
        made.removeLast(dropped)
        for n in 0..<dropped { made.append((corpus.prompt(&rng, rows + n), corpus.reply(&rng), corpus.reply(&rng))) }
        writeRows(made, second)
    }
}

/// What one store does with one file, before and after `compact`.
struct Measure: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Import a TRL JSONL file into a new store; time export, scans and random reads, compact, and again.")
    @Argument(help: "The JSONL file (TRL preference pairs).") var file: String
    @Option(help: "The store to create (removed first).") var store: String
    @Option(help: "Cores for parsing and compression.") var threads = 1
    @Option(help: "Random rows read.") var random = 1000
    @Option(help: "Seed of the random rows.") var seed: UInt64 = 7
    @Flag(help: "Skip compaction.") var noCompact = false

    func run() throws {
        Parallelism.threads = threads
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: store + suffix) }
        let opened = try Store(path: store, create: true)
        let empty = try storeBytes(opened)
        var result: [String: Any] = ["threads": threads, "input_bytes": fileSize(file)]
        var imported: ImportResult?
        result["ingest_s"] = try seconds { imported = try Importer.run(opened, ImportOptions(target: .pairs, path: file, format: .trl, name: "bench")) }
        let version = imported!.version!
        result["rows"] = version.rowCount
        result["store_bytes"] = try storeBytes(opened) - empty
        result["hot"] = try reads(opened, version)
        if !noCompact {
            var report: CompactReport?
            result["compact_s"] = try seconds { report = try Compactor.run(opened) }
            result["compact_bytes"] = try storeBytes(opened) - empty
            result["compact_packs"] = report!.packsAfter
            // A new connection: nothing decoded before compaction is cached.
            try opened.close()
            let reopened = try Store(path: store)
            result["compacted"] = try reads(reopened, version)
            try reopened.close()
        }
        let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print(String(decoding: json, as: UTF8.self))
    }

    /// Export to JSONL, a scan of every text column through SQL, and `random` rows' texts by ord, each on a fresh
    /// connection's cache; with the decode cache's figures after each.
    func reads(_ store: Store, _ version: DatasetVersion) throws -> [String: Any] {
        var out: [String: Any] = [:]
        let exported = store.path + ".export.jsonl"
        forgetCaches(store)
        out["export_s"] = try seconds { _ = try Exporter.run(store, version: version, format: .trl, to: FileSink(path: exported)) }
        out["export_bytes"] = fileSize(exported)
        try? FileManager.default.removeItem(atPath: exported)
        forgetCaches(store)
        out["scan_s"] = try seconds {
            _ = try store.read { db in
                try Int.fetchOne(db, sql: """
                    SELECT sum(length(srlm_text(prompt)) + length(srlm_text(chosen)) + length(srlm_text(rejected)))
                    FROM pair WHERE version_id = ?
                    """, arguments: [version.id])
            }
        }
        out["scan_cache"] = try cacheStats(store)
        var rng = SeededGenerator(seed: seed)
        let ords = (0..<random).map { _ in Int.random(in: 0..<version.rowCount, using: &rng) }
        forgetCaches(store)
        out["random_s"] = try seconds {
            try store.read { db in
                let statement = try db.cachedStatement(sql: """
                    SELECT length(srlm_text(prompt)) + length(srlm_text(chosen)) + length(srlm_text(rejected))
                    FROM pair WHERE version_id = ? AND ord = ?
                    """)
                for ord in ords { _ = try Int.fetchOne(statement, arguments: [version.id, ord]) }
            }
        }
        out["random_cache"] = try cacheStats(store)
        return out
    }

    /// Closes the pool's idle readers: the next read opens a connection whose decode cache is empty.
    func forgetCaches(_ store: Store) {
        store.pool.invalidateReadOnlyConnections()
    }

    func cacheStats(_ store: Store) throws -> Any {
        let json = try store.read { try String.fetchOne($0, sql: "SELECT srlm_cache_stats()") } ?? "{}"
        return try JSONSerialization.jsonObject(with: Data(json.utf8))
    }
}

struct DiffBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "diff", abstract: "Time the diff of two versions of generated rows.")
    @Argument(help: "The first version (JSONL from `markov`).") var first: String
    @Argument(help: "The second version.") var second: String
    @Option(help: "The store to create (removed first).") var store: String
    @Option(help: "Repetitions of the diff.") var repeats = 5
    @Option(help: "Rows changed in the versions derived from the first (each a version of its own).")
    var changes = [10, 100, 1_000, 10_000]

    func run() throws {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: store + suffix) }
        let opened = try Store(path: store, create: true)
        let v1 = try Importer.run(opened, ImportOptions(target: .pairs, path: first, format: .trl, name: "bench")).version!
        let v2 = try Importer.run(opened, ImportOptions(target: .pairs, path: second, format: .trl, name: "bench")).version!
        // Derived versions: every (rows / k)-th row of the first modified (its chosen reply swapped for its
        // rejected one), written as a stage writes a version, so they share the untouched segments.
        let derived = try changes.map { k in (k, try derive(opened, v1, changed: k)) }
        func time(_ a: DatasetVersion, _ b: DatasetVersion) throws -> ([Double], DatasetDiff) {
            var times: [Double] = []
            var diff: DatasetDiff?
            for _ in 0..<repeats { times.append(try seconds { diff = try Differ.diff(opened, from: a, to: b, rowLimit: 100) }) }
            return (times, diff!)
        }
        func timings() throws -> [[String: Any]] {
            try derived.map { k, version in
                let (times, diff) = try time(v1, version)
                return ["changed": k, "diff_s": times, "stat": diff.statLine()]
            }
        }
        let (times, diff) = try time(v1, v2)
        let withSegments = try timings()
        // The same diffs read in full, as for versions written before segments (migration 016) existed.
        try opened.write { db in
            try db.execute(sql: "DROP TRIGGER segment_sealed_delete")
            try db.execute(sql: "DELETE FROM version_segment")
        }
        let (fullTimes, _) = try time(v1, v2)
        let result: [String: Any] = ["rows": v1.rowCount, "diff_s": times, "stat": diff.statLine(), "full_read_diff_s": fullTimes,
                                     "derived": withSegments, "derived_full_read": try timings()]
        print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
    }

    func derive(_ store: Store, _ source: DatasetVersion, changed k: Int) throws -> DatasetVersion {
        let step = max(1, source.rowCount / k)
        return try store.write { db in
            let columns = source.kind.columns
            let chosen = source.kind.columnIndex("chosen")!, rejected = source.kind.columnIndex("rejected")!
            let writer = try VersionWriter(db, experiment: "default", name: "derived\(k)", kind: source.kind, runID: nil, parent: source.id)
            let rows = try Row.fetchCursor(db, sql: "SELECT ord, \(columns.map(\.name).joined(separator: ", ")) FROM pair WHERE version_id = ? ORDER BY ord",
                                           arguments: [source.id])
            while let row = try rows.next() {
                let ord: Int = row[0]
                var values = columns.enumerated().map { i, column in Value(stored: row[i + 1], in: column) }
                if ord % step == step / 2 { values[chosen] = values[rejected] }
                try writer.append(values)
            }
            return try writer.finish()
        }
    }
}

func writeRows(_ rows: [(String, String, String)], _ path: String) {
    var out = Data()
    for (p, c, r) in rows { out.append(line(p, c, r)) }
    guard FileManager.default.createFile(atPath: path, contents: out) else { fail("cannot write \(path)") }
}

/// A round's prompts, candidates and judgments at `factor` × (base prompts, 4 candidates each, 3 judge samples each):
/// each answer journaled in its own transaction (`Journal.record`, as gen-prompts, gen-candidates and judge do),
/// then each stage's version written in one transaction from the journaled texts.
struct Scale: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write a round's volume at several multiples; time, store size, peak memory.")
    @Option(help: "Multiples of the base volume, comma-separated.") var factors = "1,3,10"
    @Option(help: "Prompts at 1× (the issue's 1× is 30,000).") var basePrompts = 30_000
    @Option(help: "The store to create for each factor (removed first).") var store: String
    @Option(help: "The shared data folder.") var data = "../shared/data"

    func run() async throws {
        let corpus = Corpus(data)
        // The harness's own memory (the word chain) before any store work: the store's share is the peak above it.
        let baseline = Self.peakRSS()
        for factor in factors.split(separator: ",").compactMap({ Int($0) }) {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: store + suffix) }
            let opened = try Store(path: store, create: true)
            let journal = Journal(store: opened)
            var rng = SeededGenerator(seed: UInt64(factor))
            let prompts = basePrompts * factor
            var result: [String: Any] = ["factor": factor]
            var texts: [String] = []
            // Candidate and judge texts are drawn from seeds of their own, so the version phases can draw them again
            // instead of this harness holding millions of strings.
            func candidate(_ p: Int, _ k: Int) -> String {
                var r = SeededGenerator(seed: UInt64(4 * p + k) &* 0x9E37_79B9_7F4A_7C15 &+ 1)
                return corpus.reply(&r)
            }
            func judgment(_ i: Int, _ k: Int) -> (output: String, score: Int) {
                var r = SeededGenerator(seed: UInt64(3 * i + k) &* 0xBF58_476D_1CE4_E5B9 &+ 2)
                let score = Int.random(in: 0...5, using: &r)
                return (corpus.reply(&r) + "\nScore: \(score)", score)
            }
            // gen-prompts: one call per prompt.
            result["prompts_s"] = try await asyncSeconds {
                for n in 0..<prompts {
                    let text = corpus.prompt(&rng, n)
                    try await journal.record(ChatRequest(messages: [.user("Come up with a new task. (\(n))")], temperature: 0.8, topP: 0.95,
                                                         maxTokens: 256, seed: Int64(n)),
                                             modelKey: "bench", response: Self.answer(text), attempts: 1, runID: nil)
                    texts.append(text)
                }
                try Self.version(opened, "prompts", .prompts) { append in
                    for text in texts { try append(["prompt": Self.messages([.user(text)]), "origin": .text("generated")]) }
                }
            }
            // gen-candidates: 4 per prompt.
            result["candidates_s"] = try await asyncSeconds {
                for (p, text) in texts.enumerated() {
                    for k in 0..<4 {
                        try await journal.record(ChatRequest(messages: [.user(text)], temperature: 0.7, topP: 0.9, maxTokens: 512,
                                                             seed: Int64(p), sampleIndex: k),
                                                 modelKey: "bench", response: Self.answer(candidate(p, k)), attempts: 1, runID: nil)
                    }
                }
                try Self.version(opened, "candidates", .candidates) { append in
                    for (p, text) in texts.enumerated() {
                        for k in 0..<4 {
                            try append(["prompt": Self.messages([.user(text)]), "response": Self.messages([.assistant(candidate(p, k))]),
                                        "model": .text("bench"), "sample_index": .int(Int64(k))])
                        }
                    }
                }
            }
            // judge: 3 samples per candidate, the whole candidate in each request.
            let candidates = 4 * prompts, judged = 3 * candidates
            result["judgments_s"] = try await asyncSeconds {
                for i in 0..<candidates {
                    let (question, reply) = (texts[i / 4], candidate(i / 4, i % 4))
                    for k in 0..<3 {
                        let request = "Review the user's question and the response using the additive 5-point scoring system."
                            + "\n\n<question>\(question)</question>\n<response>\(reply)</response>"
                        try await journal.record(ChatRequest(messages: [.user(request)], temperature: 0.7, topP: 0.9, maxTokens: 384,
                                                             seed: Int64(i), sampleIndex: k),
                                                 modelKey: "bench", response: Self.answer(judgment(i, k).output), attempts: 1, runID: nil)
                    }
                }
                try Self.version(opened, "judgments", .judgments) { append in
                    for i in 0..<candidates {
                        let (prompt, response) = (Self.messages([.user(texts[i / 4])]), Self.messages([.assistant(candidate(i / 4, i % 4))]))
                        for k in 0..<3 {
                            let (output, score) = judgment(i, k)
                            try append(["prompt": prompt, "response": response, "judge_model": .text("bench"), "sample_index": .int(Int64(k)),
                                        "output": .text(output), "score": .real(Double(score)), "mode": .text("free")])
                        }
                    }
                }
            }
            try opened.close()
            let bytes = fileSize(store)
            let rows = prompts + candidates + judged
            result["rows"] = rows
            result["store_bytes"] = bytes
            result["bytes_per_million_rows"] = Double(bytes) / Double(rows) * 1e6
            let total = (result["prompts_s"] as! Double) + (result["candidates_s"] as! Double) + (result["judgments_s"] as! Double)
            result["seconds_per_million_rows"] = total / Double(rows) * 1e6
            result["peak_rss_mb"] = Self.peakRSS() / 1e6
            result["harness_rss_mb"] = baseline / 1e6
            print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
        }
    }

    static func answer(_ text: String) -> ChatResponse {
        ChatResponse(text: text, finishReason: "stop", promptTokens: 100, completionTokens: text.utf8.count / 4, latencyMs: 0)
    }

    static func messages(_ messages: Messages) -> Value { .text(String(decoding: CanonicalJSON.messages(messages), as: UTF8.self)) }

    /// One stage's version in one transaction, its rows streamed by `rows`.
    static func version(_ store: Store, _ name: String, _ kind: ArtifactKind,
                        _ rows: (_ append: ([String: Value]) throws -> Void) throws -> Void) throws {
        try store.write { db in
            let writer = try VersionWriter(db, experiment: "default", name: name, kind: kind, runID: nil)
            try rows { try writer.append($0) }
            try writer.finish()
        }
    }

    /// The process's peak resident set so far (ru_maxrss is in KiB on Linux).
    static func peakRSS() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) * 1024
    }
}

func asyncSeconds(_ body: () async throws -> Void) async rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try await body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}
