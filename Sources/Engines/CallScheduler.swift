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

    public init(client: ChatClient, journal: Journal, modelKey: String, concurrency: Int, runID: Int64?) {
        self.client = client
        self.journal = journal
        self.modelKey = modelKey
        self.concurrency = max(1, concurrency)
        self.runID = runID
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
        try await withThrowingTaskGroup(of: (Int, Result<ChatResponse, CallFailure>).self) { group in
            var iterator = pending.makeIterator()
            func launch() {
                guard let i = iterator.next() else { return }
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
            for _ in 0..<concurrency { launch() }
            while let (i, outcome) = try await group.next() {
                results[i] = outcome
                switch outcome {
                case .success(let r): progress?.record(completionTokens: r.completionTokens, fromJournal: false, failed: false)
                case .failure: progress?.record(completionTokens: nil, fromJournal: false, failed: true)
                }
                launch()
            }
        }
        progress?.finish()
        return results.map { $0! }
    }
}
