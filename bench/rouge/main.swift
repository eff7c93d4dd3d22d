// srlm-bench-rouge: speed of the exact ROUGE-L near-duplicate index at Self-Instruct scale.
//
// Builds an index of N prompts made by recombining word runs of the 175 seed and 252 user-oriented Self-Instruct
// instructions (seeded, so every run sees the same corpus), then times inserts, indexed queries, brute-force queries
// and PromptFilter.check, and checks that index and brute force agree on every query it times both ways.
//
// usage: srlm-bench-rouge [--count 100000] [--queries 1000] [--brute 100] [--seed 1] [--data ../shared/data/self-instruct]
import ArgumentParser
import Foundation
import SRLMStages

struct Options: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "srlm-bench-rouge")
    @Option(help: "Prompts in the index.") var count = 100_000
    @Option(help: "Queries timed per kind (fresh, edited).") var queries = 1_000
    @Option(help: "Queries also timed by brute force, and checked against the index.") var brute = 100
    @Option(help: "Seed of the generated corpus.") var seed: UInt64 = 1
    @Option(help: "The Self-Instruct data folder.") var data = "../shared/data/self-instruct"

    func validate() throws {
        for (flag, n) in [("--count", count), ("--queries", queries), ("--brute", brute)] where n < 0 {
            throw ValidationError("\(flag) needs a non-negative integer, got \(n)")
        }
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("srlm-bench-rouge: \(message)\n".utf8))
    exit(2)
}


func loadInstructions(_ dir: String) -> [String] {
    ["seed_tasks.jsonl", "user_oriented_instructions.jsonl"].flatMap { name -> [String] in
        let path = (dir as NSString).appendingPathComponent(name)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { fail("cannot read \(path) (see --data)") }
        return text.split(separator: "\n").enumerated().map { (n, line) in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let instruction = object["instruction"] as? String else { fail("\(path):\(n + 1): no \"instruction\" string") }
            return instruction
        }
    }
}

/// A prompt stitched from an opening of one instruction, a run of another and sometimes the ending of a third, with
/// an occasional word swapped in from anywhere: Self-Instruct-like vocabulary, phrasing and lengths.
struct PromptMaker {
    let sources: [[Substring]]
    let vocabulary: [Substring]

    init(_ instructions: [String]) {
        sources = instructions.map { $0.split(whereSeparator: \.isWhitespace) }.filter { $0.count >= 4 }
        vocabulary = sources.flatMap { $0 }
    }

    func make(_ rng: inout SeededGenerator) -> String {
        let a = sources.randomElement(using: &rng)!, b = sources.randomElement(using: &rng)!
        var words = Array(a.prefix(Int.random(in: 2...min(8, a.count), using: &rng)))
        let start = Int.random(in: 0..<b.count, using: &rng)
        words += b[start..<min(b.count, start + Int.random(in: 4...16, using: &rng))]
        if Bool.random(using: &rng) {
            let c = sources.randomElement(using: &rng)!
            words += c.suffix(Int.random(in: 2...min(10, c.count), using: &rng))
        }
        for _ in 0..<Int.random(in: 0...2, using: &rng) {
            words[Int.random(in: 0..<words.count, using: &rng)] = vocabulary.randomElement(using: &rng)!
        }
        return words.joined(separator: " ")
    }

    /// A light edit of an existing prompt (drop, swap or replace a word): the near duplicates a filter must catch.
    func perturb(_ text: String, _ rng: inout SeededGenerator) -> String {
        var words = text.split(separator: " ")
        guard words.count > 3 else { return text }
        let k = Int.random(in: 0..<words.count - 1, using: &rng)
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: words.remove(at: k)
        case 1: words.swapAt(k, k + 1)
        default: words[k] = vocabulary.randomElement(using: &rng)!
        }
        return words.joined(separator: " ")
    }
}

func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func rate(_ n: Int, _ s: Double) -> String { String(format: "%10.0f /s  (%.3f ms each)", Double(n) / s, s * 1000 / Double(n)) }

let options = Options.parseOrExit()
let instructions = loadInstructions(options.data)
let maker = PromptMaker(instructions)
var rng = SeededGenerator(seed: options.seed)
let corpus = (0..<options.count).map { _ in maker.make(&rng) }
let fresh = (0..<options.queries).map { _ in maker.make(&rng) }
let edited = (0..<options.queries).map { _ in maker.perturb(corpus.randomElement(using: &rng)!, &rng) }
let meanTokens = Double(corpus.reduce(0) { $0 + RougeL.tokens($1).count }) / Double(max(1, corpus.count))
print("corpus: \(corpus.count) prompts from \(instructions.count) instructions, \(String(format: "%.1f", meanTokens)) tokens on average")

let index = RougeIndex(threshold: 0.7)
let insert = seconds { for text in corpus { index.add(text) } }
print("insert          " + rate(corpus.count, insert))

for (label, queries) in [("fresh", fresh), ("edited", edited)] where !queries.isEmpty {
    var hits = 0
    let t = seconds { for q in queries where index.nearDuplicate(of: q) != nil { hits += 1 } }
    print("query \(label)     ".prefix(16) + rate(queries.count, t) + "  near duplicates: \(hits)/\(queries.count)")
}

if options.brute > 0 {
    let sample = Array(fresh.prefix(options.brute / 2) + edited.prefix(options.brute - options.brute / 2))
    var slow: [(index: Int, score: Double)?] = []
    let t = seconds { for q in sample { slow.append(index.bruteForceNearDuplicate(of: q)) } }
    print("brute force     " + rate(sample.count, t))
    let disagreements = zip(sample, slow).filter { q, s in
        let f = index.nearDuplicate(of: q)
        return f?.index != s?.index || f?.score != s?.score
    }.count
    print("index vs brute force on \(sample.count) queries: \(disagreements) disagreements")
    if disagreements > 0 { exit(1) }
}

var filter: PromptFilter!
let build = seconds { filter = PromptFilter(config: PromptFilterConfig(), existing: corpus) }
print("filter build    " + rate(corpus.count, build))
var reasons: [String: Int] = [:]
let checks = fresh + edited
let t = seconds { for q in checks { reasons[filter.check(q).reason?.rawValue ?? "accepted", default: 0] += 1 } }
print("filter check    " + rate(checks.count, t) + "  " + reasons.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
