import Foundation
import SRLMStore

/// Runs many chat requests with bounded concurrency through the journal: answered requests are read back, the rest
/// go to the server, and each answer is committed as soon as it arrives.
public struct CallScheduler: Sendable {
    public let client: ChatClient
    public let journal: Journal
    public let modelKey: String
    public let concurrency: Int
    public let runID: Int64?
    public let budget: CallBudget

    public init(client: ChatClient, journal: Journal, modelKey: String, concurrency: Int, runID: Int64?, budget: CallBudget = .unlimited) {
        self.client = client
        self.journal = journal
        self.modelKey = modelKey
        self.concurrency = max(1, concurrency)
        self.runID = runID
        self.budget = budget
    }

    /// Results in the order of `requests`.
    public func run(_ requests: [ChatRequest], progress: ProgressReporter? = nil) async throws -> [Result<ChatResponse, CallFailure>] {
        var results = [Result<ChatResponse, CallFailure>?](repeating: nil, count: requests.count)
        var pending: [Int] = []
        for (i, request) in requests.enumerated() {
            if let answer = try journal.answer(request.hash(modelKey: modelKey)) {
                results[i] = .success(answer)
                progress?.record(completionTokens: answer.completionTokens, fromJournal: true, failed: false)
            } else {
                pending.append(i)
            }
        }
        var lanes = SamePromptLanes(pending.map { (index: $0, messages: requests[$0].messages) })
        try await withThrowingTaskGroup(of: (Int, Result<ChatResponse, CallFailure>).self) { group in
            var (sent, tokens) = (0, 0)
            // Runs on this loop only (not in the tasks): the budget check needs no lock.
            func launch(after finished: Int?) {
                guard budget.allows(calls: sent, tokens: tokens), let i = lanes.next(after: finished) else { return }
                sent += 1
                let request = requests[i]
                group.addTask {
                    let outcome = await client.complete(request)
                    switch outcome {
                    case .success(let response):
                        try await journal.record(request, modelKey: modelKey, response: response, attempts: response.attempts, runID: runID)
                    case .failure(let failure):
                        try await journal.recordFailure(request, modelKey: modelKey, failure: failure, runID: runID)
                    }
                    return (i, outcome)
                }
            }
            for _ in 0..<concurrency { launch(after: nil) }
            while let (i, outcome) = try await group.next() {
                results[i] = outcome
                switch outcome {
                case .success(let r):
                    tokens += (r.promptTokens ?? 0) + (r.completionTokens ?? 0)
                    progress?.record(completionTokens: r.completionTokens, fromJournal: false, failed: false)
                case .failure: progress?.record(completionTokens: nil, fromJournal: false, failed: true)
                }
                launch(after: i)
            }
        }
        progress?.finish()
        let limit = [budget.maxCalls.map { "\($0) calls" }, budget.maxTotalTokens.map { "\($0) tokens" }].compactMap { $0 }.joined(separator: ", ")
        return results.map { $0 ?? .failure(CallFailure(message: "not sent: the budget (\(limit)) was spent", attempts: 0, notSent: true)) }
    }
}

/// The order calls go out in. Requests for the same prompt (a prompt's candidates, a judgment's samples: neighbours
/// with equal messages) form a lane, sent one after another: the next goes out when the previous answers, so the
/// server finds the prompt in the slot that just held it (llama.cpp's prompt cache) and prefills it once, instead of
/// once per sample when they run side by side. Neighbouring lanes that share more of their prompt than all lanes share
/// (the candidates of one question, judged: rubric and question alike, answers different) form a family: the slots
/// start lanes of different families, and a slot whose lane is done takes the next lane of its family, whose shared
/// part it holds. When no new lane is left, idle slots take the rest of the longest unfinished lane, so a stage's tail
/// still runs in parallel.
struct SamePromptLanes {
    private var lanes: [ArraySlice<Int>] = []
    private var laneOf: [Int: Int] = [:]
    /// Per family, its lanes not started yet.
    private var families: [ArraySlice<Int>] = []
    private var familyOf: [Int] = []
    private var nextFamily = 0

    init(_ requests: [(index: Int, messages: Messages)]) {
        var prompts: [Messages] = []
        for (index, messages) in requests {
            if messages != prompts.last {
                lanes.append([])
                prompts.append(messages)
            }
            lanes[lanes.count - 1].append(index)
            laneOf[index] = lanes.count - 1
        }
        let shared = zip(prompts, prompts.dropFirst()).map { Self.sharedPrefix($0, $1) }
        let common = shared.min() ?? 0
        for lane in lanes.indices {
            if lane == 0 || shared[lane - 1] <= common { families.append([]) }
            families[families.count - 1].append(lane)
            familyOf.append(families.count - 1)
        }
    }

    /// Bytes two prompts share from their start (roles and contents, message by message).
    static func sharedPrefix(_ a: Messages, _ b: Messages) -> Int {
        var bytes = 0
        for (x, y) in zip(a, b) {
            guard x.role == y.role else { break }
            bytes += x.role.utf8.count
            if x.content == y.content {
                bytes += x.content.utf8.count
                continue
            }
            bytes += zip(x.content.utf8, y.content.utf8).prefix { $0 == $1 }.count
            break
        }
        return bytes
    }

    /// The request to send now that `finished` (a request index, nil at the start) has answered.
    mutating func next(after finished: Int?) -> Int? {
        if let finished, let lane = laneOf[finished] {
            if let i = lanes[lane].popFirst() { return i }
            if let sibling = families[familyOf[lane]].popFirst(), let i = lanes[sibling].popFirst() { return i }
        }
        while nextFamily < families.count {
            nextFamily += 1
            if let lane = families[nextFamily - 1].popFirst(), let i = lanes[lane].popFirst() { return i }
        }
        if let family = families.indices.max(by: { families[$0].count < families[$1].count }),
           let lane = families[family].popFirst(), let i = lanes[lane].popFirst() {
            return i
        }
        guard let longest = lanes.indices.max(by: { lanes[$0].count < lanes[$1].count }) else { return nil }
        return lanes[longest].popFirst()
    }
}
