// srlm-bench-engine: what srlm's client, scheduler and journal cost. `gen-candidates` against the local llama.cpp
// server, and a bare concurrent client (AsyncHTTPClient, the same requests, the same concurrency, nothing stored),
// in one run against one server: calls/s, generated tokens/s, and their ratio (srlm / bare).
//
// Phases run bare, srlm, srlm, bare, each on its own AlpacaEval prompts (so llama.cpp's prompt cache favours none),
// after an uncounted warm-up, and each side's figure is the total over its two phases. Every srlm phase uses a fresh store: no journal hits.
//
// usage: srlm-bench-engine [--prompts 24] [--parallel 4] [--max-tokens 64] [--threads N] [--model F.gguf]
//                          [--data ../shared/data]
import AsyncHTTPClient
import ArgumentParser
import Foundation
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

/// The bare client: the same JSON body a minimal OpenAI client sends, `parallel` requests in flight, nothing stored.
func bare(_ url: String, _ prompts: [String], options: Options, seed: Int) async throws -> Phase {
    let client = HTTPClient(eventLoopGroupProvider: .singleton)
    var phase = Phase(name: "bare client")
    let start = DispatchTime.now().uptimeNanoseconds
    do {
        try await withThrowingTaskGroup(of: Int.self) { group in
            var next = 0
            func submit() {
                let prompt = prompts[next]
                let index = next
                next += 1
                group.addTask {
                    let body: [String: Any] = ["model": "default", "messages": [["role": "user", "content": prompt]],
                                               "temperature": 0.7, "top_p": 0.9, "max_tokens": options.maxTokens,
                                               "seed": seed + index]
                    var request = HTTPClientRequest(url: url + "/v1/chat/completions")
                    request.method = .POST
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
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
            while next < min(options.parallel, prompts.count) { submit() }
            while let tokens = try await group.next() {
                phase.calls += 1
                phase.tokens += tokens
                if next < prompts.count { submit() }
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

/// srlm's path: a prompts version in a fresh store, then the gen-candidates stage (journal, scheduler, versions).
func srlm(_ session: ModelSession, _ prompts: [String], options: Options, seed: Int) async throws -> Phase {
    let path = NSTemporaryDirectory() + "srlm-bench-engine-\(ProcessInfo.processInfo.processIdentifier)-\(seed).sqlite"
    defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
    let store = try Store(path: path, create: true)
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
    return Phase(name: "srlm gen-candidates", calls: Int(result.stats["calls"] ?? 0), tokens: Int(result.stats["completion_tokens"] ?? 0),
                 seconds: seconds)
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
    _ = try await bare(ready.url, Array(all.suffix(options.parallel)), options: options, seed: 9000)
    phases.append(try await bare(ready.url, sets[0], options: options, seed: 0))
    phases.append(try await srlm(session, sets[1], options: options, seed: 1000))
    phases.append(try await srlm(session, sets[2], options: options, seed: 2000))
    phases.append(try await bare(ready.url, sets[3], options: options, seed: 3000))
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
let (b, s) = (total(phases, "bare client"), total(phases, "srlm gen-candidates"))
print("bare: \(f(b.calls)) calls/s, \(f(b.tokens, 1)) tokens/s; srlm: \(f(s.calls)) calls/s, \(f(s.tokens, 1)) tokens/s")
print("ratio srlm/bare: calls/s \(f(s.calls / b.calls, 3)), tokens/s \(f(s.tokens / b.tokens, 3))")
