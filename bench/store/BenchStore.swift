// srlm-bench-store: the store's side of the store benchmark (bench/store/peers.py runs it beside DuckDB, pyarrow
// and zstd, and prints the table). Each subcommand prints one JSON object of in-process timings.
//
//   markov  writes the generated preference pairs (below) as TRL JSONL, and a second version of them for `diff`
//   measure imports a JSONL file into a new store and times export, a scan of every text, random reads, then
//           compacts and times them again
//   diff    two 100k-row versions (1% changed, 0.5% dropped, 0.5% added) and the time of `srlm diff`
//
// The generated rows are preference pairs made from real text, seeded: the prompt is an AlpacaEval instruction,
// each reply 20-120 words from an order-2 word Markov chain trained on the two AlpacaEval model-output files (GPT-4
// turbo and Alpaca-7B). So vocabulary, phrasing and local redundancy are those of real chat replies, while rows do
// not repeat whole sentences of each other (bench/store/datasets.py's "spliced" set is the case where they do).
import ArgumentParser
import Foundation
import GRDB
import SRLMExport
import SRLMImport
import SRLMStages
import SRLMStore

@main
struct BenchStore: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "srlm-bench-store",
                                                    subcommands: [Markov.self, Measure.self, DiffBench.self])
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
            try opened.pool.writeWithoutTransaction { try $0.execute(sql: "VACUUM") }
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

    func run() throws {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: store + suffix) }
        let opened = try Store(path: store, create: true)
        let v1 = try Importer.run(opened, ImportOptions(target: .pairs, path: first, format: .trl, name: "bench")).version!
        let v2 = try Importer.run(opened, ImportOptions(target: .pairs, path: second, format: .trl, name: "bench")).version!
        var times: [Double] = []
        var diff: DatasetDiff?
        for _ in 0..<repeats { times.append(try seconds { diff = try Differ.diff(opened, from: v1, to: v2, rowLimit: 100) }) }
        let result: [String: Any] = ["rows": v1.rowCount, "diff_s": times, "stat": diff!.statLine()]
        print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
    }
}

func writeRows(_ rows: [(String, String, String)], _ path: String) {
    var out = Data()
    for (p, c, r) in rows { out.append(line(p, c, r)) }
    guard FileManager.default.createFile(atPath: path, contents: out) else { fail("cannot write \(path)") }
}
