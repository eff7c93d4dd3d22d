// srlm-bench-engine: what srlm's client, scheduler and journal cost. `gen-candidates` (--candidates per prompt, the
// paper's N = 4 by default) and `judge` against the local llama.cpp server, each beside a bare concurrent client
// (AsyncHTTPClient, the same requests, the same concurrency, nothing stored), in one run against one server: calls/s,
// generated tokens/s, and their ratio (srlm / bare).
//
// Phases run bare, srlm, srlm, bare, each on its own AlpacaEval prompts (so llama.cpp's prompt cache favours none),
// after an uncounted warm-up (generation, then judging), and each side's figure is the total over its two phases.
// Every srlm phase uses a fresh store: no journal hits. The judge phases judge the srlm generation phases' answers
// (a quarter each, 2 samples per answer, the built-in template); the bare client sends the very request bodies srlm's
// endpoint encodes for them.
// With --distilabel, PyPI distilabel's TextGeneration over OpenAILLM (bench/engine/distilabel_peer.py) runs two
// phases in the middle of each (bare, srlm, distilabel, distilabel, srlm, bare; sixths instead of quarters), on the
// same messages and sampling; distilabel sends a batch of --parallel inputs at a time, as its tasks do, each input's
// samples as one request with `n` (llama.cpp then reports the first sample's tokens only: compare calls/s there).
//
// usage: srlm-bench-engine [--prompts 12] [--candidates 4] [--parallel 4] [--max-tokens 64] [--threads N]
//                          [--model F.gguf] [--data ../shared/data] [--distilabel PYTHON]
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
    @Option(help: "Prompts per phase.") var prompts = 12
    @Option(help: "Candidates per prompt (gen-candidates' N; the bare client sends each, distilabel asks for n).") var candidates = 4
    @Option(help: "Server slots, and the concurrency of both clients.") var parallel = 4
    @Option(help: "Most tokens per answer.") var maxTokens = 64
    @Option(help: "Server threads (default: all cores).") var threads: Int?
    @Option(help: "A .gguf model (default: the SmolLM2 model from `make setup`).") var model: String?
    @Option(help: "The shared data folder.") var data = "../shared/data"
    @Option(help: "A Python with PyPI distilabel[openai] 1.5.3: adds distilabel's phases.") var distilabel: String?
    @Option(help: "distilabel's side of the bench.") var distilabelScript = "bench/engine/distilabel_peer.py"

    func validate() throws {
        for (flag, n) in [("--prompts", prompts), ("--candidates", candidates), ("--parallel", parallel), ("--max-tokens", maxTokens), ("--threads", threads ?? 1)]
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

/// The generation requests a minimal OpenAI client sends: each prompt's candidates, seeded as srlm seeds them.
func generationBodies(_ prompts: [String], options: Options, seed: Int) throws -> [Data] {
    try prompts.flatMap { prompt in
        try (0..<options.candidates).map { candidate in
            try JSONSerialization.data(withJSONObject: ["model": "default", "messages": [["role": "user", "content": prompt]],
                                                        "temperature": 0.7, "top_p": 0.9, "max_tokens": options.maxTokens,
                                                        "seed": seed + candidate] as [String: Any])
        }
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

/// distilabel's TextGeneration over OpenAILLM on `inputs` (each a message list: an optional system message, then
/// one user message), `generations` requests each; timed inside the script (requests only).
func distilabel(_ url: String, _ inputs: [Messages], generations: Int, options: Options, python: String,
                name: String) throws -> Phase {
    let rows: [[String: Any]] = inputs.map { messages in
        guard let user = messages.last, user.role == "user", messages.dropLast().allSatisfy({ $0.role == "system" }), messages.count <= 2 else {
            fail("distilabel's TextGeneration takes a user message after at most one system message")
        }
        return ["user": user.content, "system": messages.count == 2 ? messages[0].content : NSNull()]
    }
    let file = NSTemporaryDirectory() + "srlm-bench-engine-distilabel-\(ProcessInfo.processInfo.processIdentifier).json"
    try JSONSerialization.data(withJSONObject: rows).write(to: URL(fileURLWithPath: file))
    defer { try? FileManager.default.removeItem(atPath: file) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = [options.distilabelScript, "--base-url", url + "/v1", "--inputs", file, "--batch", String(options.parallel),
                         "--max-tokens", String(options.maxTokens), "--generations", String(generations),
                         "--temperature", "0.7", "--top-p", "0.9"]
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0,
          let line = String(decoding: stdout, as: UTF8.self).split(separator: "\n").last,
          let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
          let calls = object["calls"] as? Int, let tokens = object["tokens"] as? Int, let seconds = object["seconds"] as? Double else {
        fail("distilabel failed (\(process.terminationStatus)): \(String(decoding: stderr.suffix(2000), as: UTF8.self))")
    }
    return Phase(name: name, calls: calls, tokens: tokens, seconds: seconds)
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
    config.candidates = options.candidates
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

/// The requests srlm's judge sends for `answers` (the built-in template): `judgeSamples` per answer.
func judgeRequests(_ answers: [(String, String)], options: Options, seed: Int) async throws -> [ChatRequest] {
    try await withStore(seed: seed) { store in
        let template = try JudgeTemplate.resolve(store)
        return answers.flatMap { prompt, answer in
            template.requests(question: [.user(prompt)], answer: answer, samples: judgeSamples,
                              sampling: judgeSampling(options, seed: seed), structured: false)
        }
    }
}

/// The request bodies srlm's endpoint encodes for those requests, for the bare client.
func judgeBodies(_ endpoint: Endpoint, _ answers: [(String, String)], options: Options, seed: Int) async throws -> [Data] {
    try await judgeRequests(answers, options: options, seed: seed).map { try endpoint.body(for: $0) }
}

/// The judge prompts for distilabel: one message list per answer (its samples differ only in their seed).
func judgeMessages(_ answers: [(String, String)], options: Options, seed: Int) async throws -> [Messages] {
    try await judgeRequests(answers, options: options, seed: seed).enumerated().filter { $0.offset % judgeSamples == 0 }.map(\.element.messages)
}

let options = Options.parseOrExit()
let phaseCount = options.distilabel == nil ? 4 : 6
let all = instructions(options.data, count: phaseCount * options.prompts + options.parallel)
let sets = (0..<phaseCount).map { k in Array(all[(k * options.prompts)..<((k + 1) * options.prompts)]) }
let home = try EngineHome.locate()
let server = LocalServer(options: .init(model: options.model ?? home.defaultGGUF, parallel: options.parallel,
                                        contextPerSlot: 2048, threads: options.threads))
let ready = try server.start(home: home)
let session = try ModelSession.open(ModelSpec(endpoints: [server.endpoint!], weightsID: "sha256:" + ready.model_sha256))
print("server \(ready.server_version ?? "?"), \(options.parallel) slots; \(options.prompts) prompts × \(options.candidates) candidates per phase, max_tokens \(options.maxTokens)")
var phases: [Phase] = []
do {
    // Warm-up, not counted: the first requests pay for loading weights into caches.
    _ = try await bare(ready.url, try generationBodies(Array(all.suffix(options.parallel)), options: options, seed: 9000), options: options)
    phases.append(try await bare(ready.url, try generationBodies(sets[0], options: options, seed: 0), options: options))
    let (first, answersA) = try await srlm(session, sets[1], options: options, seed: 1000)
    phases.append(first)
    if let python = options.distilabel {
        for k in [4, 5] {
            phases.append(try distilabel(ready.url, sets[k].map { [.user($0)] }, generations: options.candidates, options: options, python: python,
                                         name: "distilabel"))
        }
    }
    let (second, answersB) = try await srlm(session, sets[2], options: options, seed: 2000)
    phases.append(second)
    phases.append(try await bare(ready.url, try generationBodies(sets[3], options: options, seed: 3000), options: options))
    // Judging: disjoint quarters (sixths with distilabel) of the srlm phases' answers, bare / srlm / [distilabel ×2] /
    // srlm / bare.
    let answers = answersA + answersB
    let share = answers.count / phaseCount
    let parts = (0..<phaseCount).map { Array(answers[($0 * share)..<(($0 + 1) * share)]) }
    let endpoint = server.endpoint!
    // Warm-up, not counted: the first judge requests put the rubric into every slot's cache, which the first judge
    // phase would otherwise pay alone. Unused prompts with answers of their own, so no counted prompt is cached.
    let warmUp = all.suffix(options.parallel).map { ($0, "An answer written only to warm the server up.") }
    _ = try await bare(ready.url, try await judgeBodies(endpoint, Array(warmUp), options: options, seed: 9100), options: options)
    phases.append(try await bare(ready.url, try await judgeBodies(endpoint, parts[0], options: options, seed: 4000), options: options,
                                 name: "bare judge client"))
    phases.append(try await srlmJudge(session, parts[1], options: options, seed: 5000))
    if let python = options.distilabel {
        for k in [4, 5] {
            phases.append(try distilabel(ready.url, try await judgeMessages(parts[k], options: options, seed: 8000 + k),
                                         generations: judgeSamples, options: options, python: python, name: "distilabel judge"))
        }
    }
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
for (bareName, srlmName, peerName) in [("bare client", "srlm gen-candidates", "distilabel"), ("bare judge client", "srlm judge", "distilabel judge")] {
    let (b, s) = (total(phases, bareName), total(phases, srlmName))
    print("\(srlmName): bare \(f(b.calls)) calls/s, \(f(b.tokens, 1)) tokens/s; srlm \(f(s.calls)) calls/s, \(f(s.tokens, 1)) tokens/s; "
          + "ratio srlm/bare: calls/s \(f(s.calls / b.calls, 3)), tokens/s \(f(s.tokens / b.tokens, 3))")
    if options.distilabel != nil {
        let d = total(phases, peerName)
        print("\(srlmName): distilabel \(f(d.calls)) calls/s, \(f(d.tokens, 1)) tokens/s; "
              + "ratio srlm/distilabel: calls/s \(f(s.calls / d.calls, 3)), tokens/s \(f(s.tokens / d.tokens, 3))")
    }
}
