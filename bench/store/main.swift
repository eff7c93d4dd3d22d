// srlm-bench-store: the store at 100k rows. Ingest rows/s, store bytes against the same rows as JSONL and as
// JSONL.zst (zstd -3, what `zstd FILE` writes), export MB/s, and the diff time of two 100k-row versions.
//
// Rows are preference pairs made from real text, seeded: the prompt is an AlpacaEval instruction, each reply 20-120
// words from an order-2 word Markov chain trained on the two AlpacaEval model-output files (GPT-4 turbo and
// Alpaca-7B). So vocabulary, phrasing and local redundancy are those of real chat replies, while rows do not repeat
// whole sentences of each other (drawing whole sentences from a 5 MB corpus would, and would flatter any compressor).
// The second version changes 1% of the replies, drops 0.5% of the rows and adds 0.5% new ones.
//
// usage: srlm-bench-store [--rows 100000] [--seed 1] [--data ../shared/data] [--keep DIR]
import ArgumentParser
import Foundation
import GRDB
import SRLMExport
import SRLMImport
import SRLMStages
import SRLMStore

struct Options: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "srlm-bench-store")
    @Option(help: "Rows of the first version.") var rows = 100_000
    @Option(help: "Seed of the generated rows.") var seed: UInt64 = 1
    @Option(help: "The shared data folder.") var data = "../shared/data"
    @Option(help: "Keep the inputs, exports and store in this folder (default: a temporary one, removed).") var keep: String?

    func validate() throws {
        if rows <= 0 { throw ValidationError("--rows needs a positive integer") }
    }
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

let options = Options.parseOrExit()
let dir = options.keep ?? NSTemporaryDirectory() + "srlm-bench-store-\(ProcessInfo.processInfo.processIdentifier)"
try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
defer { if options.keep == nil { try? FileManager.default.removeItem(atPath: dir) } }

let corpus = Corpus(options.data)
var rng = SeededGenerator(seed: options.seed)
var rows: [(String, String, String)] = (0..<options.rows).map { n in (corpus.prompt(&rng, n), corpus.reply(&rng), corpus.reply(&rng)) }
func writeRows(_ rows: [(String, String, String)], _ path: String) {
    var out = Data()
    for (p, c, r) in rows { out.append(line(p, c, r)) }
    guard FileManager.default.createFile(atPath: path, contents: out) else { fail("cannot write \(path)") }
}
let input1 = dir + "/v1.jsonl"
writeRows(rows, input1)
print("rows: \(options.rows) preference pairs; prompts from \(corpus.instructions.count) instructions, replies from a word chain over \(corpus.sentences.count) sentences")

let storePath = dir + "/bench.sqlite"
try? FileManager.default.removeItem(atPath: storePath)
let store = try Store(path: storePath, create: true)
let emptyBytes = try storeBytes(store)

var first: ImportResult?
let ingest = try seconds { first = try Importer.run(store, ImportOptions(target: .pairs, path: input1, format: .trl, name: "bench")) }
let v1 = first!.version!
let bytes = try storeBytes(store)

let exported = dir + "/export.jsonl"
var exportedRows = 0
let exportTime = try seconds { exportedRows = try Exporter.run(store, version: v1, format: .trl, to: FileSink(path: exported)) }
let jsonl = try Data(contentsOf: URL(fileURLWithPath: exported))
let zst3 = try Zstd.compress(jsonl, level: 3).count
let zst19 = try Zstd.compress(jsonl, level: 19).count

// Version 2: 1% of replies changed, 0.5% of rows dropped, 0.5% new rows.
let changed = options.rows / 100, dropped = options.rows / 200
for i in 0..<changed { let k = (i * 7919) % rows.count; rows[k].1 = corpus.reply(&rng) }
rows.removeLast(dropped)
for n in 0..<dropped { rows.append((corpus.prompt(&rng, options.rows + n), corpus.reply(&rng), corpus.reply(&rng))) }
let input2 = dir + "/v2.jsonl"
writeRows(rows, input2)
var second: ImportResult?
let ingest2 = try seconds { second = try Importer.run(store, ImportOptions(target: .pairs, path: input2, format: .trl, name: "bench")) }
let v2 = second!.version!
let bytes2 = try storeBytes(store)
var diff: DatasetDiff?
let diffTime = try seconds { diff = try store.read { try Differ.diff($0, from: v1, to: v2, rowLimit: 100) } }

func mb(_ n: Int) -> String { String(format: "%.2f MB", Double(n) / 1e6) }
func f(_ x: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", x) }
print("""
ingest (import trl, 1 transaction): \(f(ingest)) s = \(Int(Double(options.rows) / ingest)) rows/s
store file: \(mb(bytes)) (empty store \(mb(emptyBytes)); this dataset \(mb(bytes - emptyBytes)))
same rows as JSONL (srlm export --format trl): \(mb(jsonl.count)); as JSONL.zst: \(mb(zst3)) (zstd -3), \(mb(zst19)) (zstd -19)
store / JSONL.zst(-3): \(f(Double(bytes) / Double(zst3), 3)) (whole file), \(f(Double(bytes - emptyBytes) / Double(zst3), 3)) (this dataset)
export: \(exportedRows) rows, \(mb(jsonl.count)) in \(f(exportTime)) s = \(f(Double(jsonl.count) / 1e6 / exportTime, 1)) MB/s
second version (1% changed, 0.5% dropped, 0.5% added): import \(f(ingest2)) s, store grew by \(mb(bytes2 - bytes))
diff \(v1.ref) \(v2.ref): \(f(diffTime, 3)) s — \(diff!.statLine())
""")
