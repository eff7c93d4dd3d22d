// srlm-bench-engine: what srlm's client, scheduler and journal cost. `gen-candidates` and `judge` against the local
// llama.cpp server, each beside a bare concurrent client (AsyncHTTPClient, the same requests, the same concurrency,
// nothing stored), in one run against one server: calls/s, generated tokens/s, and their ratio (srlm / bare).
//
// Phases run bare, srlm, srlm, bare, each on its own AlpacaEval prompts (so llama.cpp's prompt cache favours none),
// after an uncounted warm-up, and each side's figure is the total over its two phases. Every srlm phase uses a fresh
// store: no journal hits. The judge phases judge the srlm generation phases' answers (a quarter each, 2 samples per
// answer, the built-in template); the bare client sends the very request bodies srlm's endpoint encodes for them.
//
// usage: srlm-bench-engine [--prompts 24] [--parallel 4] [--max-tokens 64] [--threads N] [--model F.gguf]
//                          [--data ../shared/data]
import AsyncHTTPClient
import ArgumentParser
import Foundation
import GRDB
import NIOCore
import SRLMEngines
import SRLMStages
import SRLMStore

struct Options: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "srlm-bench-engine")
    @Option(help: "Prompts per phase.") var prompts = 24
    @Option(help: "Server slots, and the concurrency of both clients.") var parallel = 4
    @Option(help: "Most tokens per answer.") var maxTokens = 64
    @Option(help: "Server threads (default: all cores).") var threads: Int?
    @Option(help: "A .gguf model (default: the SmolLM2 model from `make setup`).") var model: String?
    @Option(help: "The shared data folder.") var data = "../shared/data"

    func validate() throws {
        for (flag, n) in [("--prompts", prompts), ("--parallel", parallel), ("--max-tokens", maxTokens), ("--threads", threads ?? 1)]
        where n <= 0 {
            throw ValidationError("\(flag) needs a positive integer")
        }
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("srlm-bench-engine: \(message)\n".utf8))
    exit(2)
}

struct Phase {
    let name: String
    var calls = 0, tokens = 0
    var seconds = 0.0
}

func instructions(_ dir: String, count: Int) -> [String] {
    let path = dir + "/alpaca-eval/gpt4_1106_preview_model_outputs.json"
    guard let data = FileManager.default.contents(atPath: path),
          let rows = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] else { fail("cannot read \(path)") }
    let all = rows.compactMap { $0["instruction"] as? String }
    guard all.count >= count else { fail("\(path) has only \(all.count) instructions") }
    return Array(all.prefix(count))
}

/// The generation requests a minimal OpenAI client sends.
func generationBodies(_ prompts: [String], options: Options, seed: Int) throws -> [Data] {
    try prompts.enumerated().map { index, prompt in
        try JSONSerialization.data(withJSONObject: ["model": "default", "messages": [["role": "user", "content": prompt]],
                                                    "temperature": 0.7, "top_p": 0.9, "max_tokens": options.maxTokens,
                                                    "seed": seed + index] as [String: Any])
    }
}

/// The bare client: `bodies` posted with `parallel` requests in flight, nothing stored.
func bare(_ url: String, _ bodies: [Data], options: Options, name: String = "bare client") async throws -> Phase {
    let client = HTTPClient(eventLoopGroupProvider: .singleton)
    var phase = Phase(name: name)
    let start = DispatchTime.now().uptimeNanoseconds
    do {
        try await withThrowingTaskGroup(of: Int.self) { group in
            var next = 0
            func submit() {
                let body = bodies[next]
                next += 1
                group.addTask {
                    var request = HTTPClientRequest(url: url + "/v1/chat/completions")
                    request.method = .POST
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.body = .bytes(ByteBuffer(bytes: body))
                    let response = try await client.execute(request, timeout: .seconds(600))
                    let bytes = try await response.body.collect(upTo: 16 << 20)
                    guard response.status == .ok,
                          let object = try JSONSerialization.jsonObject(with: Data(bytes.readableBytesView)) as? [String: Any],
                          let usage = object["usage"] as? [String: Any], let tokens = usage["completion_tokens"] as? Int else {
                        throw NSError(domain: "bench", code: 1, userInfo: [NSLocalizedDescriptionKey: "bad answer: \(response.status)"])
                    }
                    return tokens
                }
            }
            while next < min(options.parallel, bodies.count) { submit() }
            while let tokens = try await group.next() {
                phase.calls += 1
                phase.tokens += tokens
                if next < bodies.count { submit() }
            }
        }
    } catch {
        try await client.shutdown()
        throw error
    }
    phase.seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    try await client.shutdown()
    return phase
}

/// A fresh store for one srlm phase, removed after `body`.
func withStore<T>(seed: Int, _ body: (Store) async throws -> T) async throws -> T {
    let path = NSTemporaryDirectory() + "srlm-bench-engine-\(ProcessInfo.processInfo.processIdentifier)-\(seed).sqlite"
    defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
    return try await body(try Store(path: path, create: true))
}

/// srlm's path: a prompts version in a fresh store, then the gen-candidates stage (journal, scheduler, versions).
/// Returns the phase and its (prompt, answer) pairs, which the judge phases judge.
func srlm(_ session: ModelSession, _ prompts: [String], options: Options, seed: Int) async throws -> (Phase, [(String, String)]) {
    try await withStore(seed: seed) { store in
    let version = try store.write { db in
        let writer = try VersionWriter(db, experiment: "default", name: "bench", kind: .prompts, runID: nil)
        for p in prompts {
            try writer.append(["prompt": .text(String(decoding: CanonicalJSON.messages([.user(p)]), as: UTF8.self)),
                               "origin": .text("imported")])
        }
        return try writer.finish()
    }
    var config = GenCandidates.Config(round: 1)
    config.candidates = 1
    config.sampling = Sampling(temperature: 0.7, topP: 0.9, maxTokens: options.maxTokens, seed: Int64(seed))
    config.prompts = version.ref
    let start = DispatchTime.now().uptimeNanoseconds
    let result = try await StageContext(store: store, quiet: true).perform(GenCandidates(config: config), session: session,
                                                                           concurrency: options.parallel)
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    let answers = try store.read { db in
        try Row.fetchAll(db, sql: "SELECT prompt_text, response_text FROM v_candidates WHERE version_id = ? ORDER BY ord",
                         arguments: [result.version.id]).map { ($0[0] as String, $0[1] as String) }
    }
    return (Phase(name: "srlm gen-candidates", calls: Int(result.stats["calls"] ?? 0), tokens: Int(result.stats["completion_tokens"] ?? 0),
                  seconds: seconds), answers)
    }
}

let judgeSamples = 2

func judgeSampling(_ options: Options, seed: Int) -> Sampling {
    Sampling(temperature: 0.7, topP: 0.9, maxTokens: options.maxTokens, seed: Int64(seed))
}

/// srlm's judge stage over `answers` in a fresh store (a candidates version written first, not timed).
func srlmJudge(_ session: ModelSession, _ answers: [(String, String)], options: Options, seed: Int) async throws -> Phase {
    try await withStore(seed: seed) { store in
        let version = try store.write { db in
            let writer = try VersionWriter(db, experiment: "default", name: "bench-candidates", kind: .candidates, runID: nil)
            for (prompt, answer) in answers {
                try writer.append(["prompt": .text(String(decoding: CanonicalJSON.messages([.user(prompt)]), as: UTF8.self)),
                                   "response": .text(String(decoding: CanonicalJSON.messages([.assistant(answer)]), as: UTF8.self)),
                                   "model": .text("M0"), "sample_index": .int(0)])
            }
            return try writer.finish()
        }
        var config = Judge.Config(round: 1)
        config.samples = judgeSamples
        config.sampling = judgeSampling(options, seed: seed)
        config.candidates = version.ref
        let start = DispatchTime.now().uptimeNanoseconds
        let result = try await StageContext(store: store, quiet: true).perform(Judge(config: config), session: session,
                                                                               concurrency: options.parallel)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Phase(name: "srlm judge", calls: Int(result.stats["calls"] ?? 0), tokens: Int(result.stats["completion_tokens"] ?? 0),
                     seconds: seconds)
    }
}

/// The request bodies srlm's judge sends for `answers` (the built-in template), for the bare client.
func judgeBodies(_ endpoint: Endpoint, _ answers: [(String, String)], options: Options, seed: Int) async throws -> [Data] {
    try await withStore(seed: seed) { store in
        let template = try JudgeTemplate.resolve(store)
        return try answers.flatMap { prompt, answer in
            try template.requests(question: [.user(prompt)], answer: answer, samples: judgeSamples,
                                  sampling: judgeSampling(options, seed: seed), structured: false).map { try endpoint.body(for: $0) }
        }
    }
}

let options = Options.parseOrExit()
let all = instructions(options.data, count: 4 * options.prompts + options.parallel)
let sets = (0..<4).map { k in Array(all[(k * options.prompts)..<((k + 1) * options.prompts)]) }
let home = try EngineHome.locate()
let server = LocalServer(options: .init(model: options.model ?? home.defaultGGUF, parallel: options.parallel,
                                        contextPerSlot: 2048, threads: options.threads))
let ready = try server.start(home: home)
let session = try ModelSession.open(ModelSpec(endpoints: [server.endpoint!], weightsID: "sha256:" + ready.model_sha256))
print("server \(ready.server_version ?? "?"), \(options.parallel) slots; \(options.prompts) prompts per phase, max_tokens \(options.maxTokens)")
var phases: [Phase] = []
do {
    // Warm-up, not counted: the first requests pay for loading weights into caches.
    _ = try await bare(ready.url, try generationBodies(Array(all.suffix(options.parallel)), options: options, seed: 9000), options: options)
    phases.append(try await bare(ready.url, try generationBodies(sets[0], options: options, seed: 0), options: options))
    let (first, answersA) = try await srlm(session, sets[1], options: options, seed: 1000)
    let (second, answersB) = try await srlm(session, sets[2], options: options, seed: 2000)
    phases += [first, second]
    phases.append(try await bare(ready.url, try generationBodies(sets[3], options: options, seed: 3000), options: options))
    // Judging: four disjoint quarters of the srlm phases' answers, bare / srlm / srlm / bare.
    let answers = answersA + answersB
    let quarter = answers.count / 4
    let parts = (0..<4).map { Array(answers[($0 * quarter)..<(($0 + 1) * quarter)]) }
    let endpoint = server.endpoint!
    phases.append(try await bare(ready.url, try await judgeBodies(endpoint, parts[0], options: options, seed: 4000), options: options,
                                 name: "bare judge client"))
    phases.append(try await srlmJudge(session, parts[1], options: options, seed: 5000))
    phases.append(try await srlmJudge(session, parts[2], options: options, seed: 6000))
    phases.append(try await bare(ready.url, try await judgeBodies(endpoint, parts[3], options: options, seed: 7000), options: options,
                                 name: "bare judge client"))
} catch {
    await session.close()
    server.stop()
    fail("\(error)")
}
await session.close()
server.stop()
func f(_ x: Double, _ d: Int = 2) -> String { String(format: "%.\(d)f", x) }
for p in phases {
    print("\(p.name): \(p.calls) calls, \(p.tokens) tokens in \(f(p.seconds)) s = \(f(Double(p.calls) / p.seconds)) calls/s, \(f(Double(p.tokens) / p.seconds, 1)) tokens/s")
}
func total(_ phases: [Phase], _ name: String) -> (calls: Double, tokens: Double) {
    let mine = phases.filter { $0.name == name }
    let s = mine.map(\.seconds).reduce(0, +)
    return (Double(mine.map(\.calls).reduce(0, +)) / s, Double(mine.map(\.tokens).reduce(0, +)) / s)
}
for (bareName, srlmName) in [("bare client", "srlm gen-candidates"), ("bare judge client", "srlm judge")] {
    let (b, s) = (total(phases, bareName), total(phases, srlmName))
    print("\(srlmName): bare \(f(b.calls)) calls/s, \(f(b.tokens, 1)) tokens/s; srlm \(f(s.calls)) calls/s, \(f(s.tokens, 1)) tokens/s; "
          + "ratio srlm/bare: calls/s \(f(s.calls / b.calls, 3)), tokens/s \(f(s.tokens / b.tokens, 3))")
}
