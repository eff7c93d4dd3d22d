import Foundation
import SRLMEngines
import SRLMStore

/// What every stage shares: the store, the experiment, and the one lifecycle every stage goes through.
public struct StageContext: Sendable {
    public let store: Store
    public let experiment: String
    public var quiet: Bool
    /// What each stage run may spend on model calls (default: no limit).
    public var budget: CallBudget

    public init(store: Store, experiment: String = Experiment.defaultName, quiet: Bool = false, budget: CallBudget = .unlimited) {
        self.store = store
        self.experiment = experiment
        self.quiet = quiet
        self.budget = budget
    }

    /// Runs a stage: reuses a finished run with the same config and inputs, else opens a run, executes the stage
    /// (with `session` for its model calls) and commits its version, or marks the run failed and rethrows.
    public func perform<S: Stage>(_ stage: S, session: ModelSession? = nil, concurrency: Int? = nil) async throws -> StageResult {
        var plan = try stage.plan(self, model: session?.identity)
        if let reused = try reuse(S.name, plan) { return reused }
        try stage.prepare(&plan, self)
        let record = try RunLifecycle.begin(store, experiment: experiment, stage: S.name, config: plan.config,
                                            inputs: plan.inputs.map(\.id), seed: plan.seed, provenance: session?.provenance)
        do {
            let run = StageRun(context: self, record: record, session: session, concurrency: concurrency, label: S.name)
            let output = try await stage.execute(plan, run)
            var stats = output.stats
            stats.merge(run.callStats) { mine, _ in mine }
            let version = try RunLifecycle.commit(store, experiment: experiment, run: record, to: plan.destination,
                                                  stats: stats, rows: output.rows)
            return StageResult(version: version, runID: record.id, reused: false,
                               stats: RunLifecycle.numbers(stats))
        } catch {
            RunLifecycle.fail(store, record, error)
            throw error
        }
    }

    /// The result of a finished run this stage would repeat, if any, linked to the plan's round: a step that need
    /// not run again (and whose model need not be started).
    public func reusable<S: Stage>(_ stage: S, model: ModelIdentity?) throws -> StageResult? {
        try reuse(S.name, try stage.plan(self, model: model))
    }

    func reuse<C, W>(_ name: String, _ plan: StagePlan<C, W>) throws -> StageResult? {
        guard let done = try RunLifecycle.finishedRun(store, experiment: experiment, stage: name, config: plan.config,
                                                      inputs: plan.inputs.map(\.id)),
              let version = try RunLifecycle.output(store, ofRun: done) else { return nil }
        if let round = plan.destination.round, let role = plan.destination.role {
            try RunLifecycle.link(store, experiment: experiment, round: round, role: role, version: version)
        }
        return StageResult(version: version, runID: done, reused: true, stats: try RunLifecycle.numericStats(store, ofRun: done))
    }

    /// Resolves a dataset reference in this experiment.
    public func version(_ ref: String) throws -> DatasetVersion {
        try store.read { try DatasetVersion.resolve($0, ref, experiment: experiment) }
    }
}

/// An open run of a stage: its record, its model, and the one way a stage calls the model (journaled, and every
/// call required to answer, so failed calls never silently shrink a stage's output).
public final class StageRun: @unchecked Sendable {
    public let context: StageContext
    public let record: RunRecord
    public let session: ModelSession?
    let concurrency: Int?
    let label: String
    /// `spentTokens`: prompt + completion tokens of calls sent (not read back from the journal), what a budget counts.
    private var totals = (calls: 0, fromJournal: 0, tokens: 0, promptTokens: 0, spentTokens: 0, seconds: 0.0)

    init(context: StageContext, record: RunRecord, session: ModelSession?, concurrency: Int?, label: String) {
        self.context = context
        self.record = record
        self.session = session
        self.concurrency = concurrency
        self.label = label
    }

    /// The answers to `requests`, in order. Throws `callsFailed` when any call got no answer (the failures are in
    /// the journal; a rerun asks only them). `progress` replaces the stage's own bar; `showProgress: false` draws none.
    public func answers(_ requests: [ChatRequest], what: String, progress: ProgressReporter? = nil,
                        showProgress: Bool = true) async throws -> [ChatResponse] {
        guard let session else { throw SRLMError.setup("\(label) calls a model, and none was opened") }
        let reporter = progress ?? (showProgress ? ProgressReporter(label: label, total: requests.count, quiet: context.quiet) : nil)
        // The budget is the run's: what earlier calls of this run spent counts against it.
        var left = context.budget
        left.maxCalls = left.maxCalls.map { max(0, $0 - (totals.calls - totals.fromJournal)) }
        left.maxTotalTokens = left.maxTotalTokens.map { max(0, $0 - totals.spentTokens) }
        let scheduler = CallScheduler(client: session.client, journal: Journal(store: context.store),
                                      modelKey: session.modelKey, concurrency: concurrency ?? session.slots, runID: record.id, budget: left)
        let started = Date()
        let results = try await scheduler.run(requests, progress: reporter)
        var answers: [ChatResponse] = []
        var failed = 0, unsent = 0, firstFailure = ""
        for result in results {
            switch result {
            case .success(let answer):
                answers.append(answer)
                totals.calls += 1
                totals.fromJournal += answer.fromJournal ? 1 : 0
                totals.tokens += answer.completionTokens ?? 0
                totals.promptTokens += answer.promptTokens ?? 0
                totals.spentTokens += answer.fromJournal ? 0 : (answer.promptTokens ?? 0) + (answer.completionTokens ?? 0)
            case .failure(let failure):
                if failure.notSent { unsent += 1 } else {
                    if failed == 0 { firstFailure = failure.description }
                    failed += 1
                }
            }
        }
        totals.seconds += Date().timeIntervalSince(started)
        if failed > 0 { throw SRLMError.callsFailed(what: what, failed: failed, total: results.count, first: firstFailure) }
        if unsent > 0 {
            throw SRLMError.budgetSpent(what: what, unsent: unsent, total: results.count,
                                        calls: totals.calls - totals.fromJournal, tokens: totals.spentTokens)
        }
        return answers
    }

    /// Calls made, answers that came from the journal, completion tokens and throughput, for the run's stats.
    var callStats: [String: Any] {
        guard totals.calls > 0 else { return [:] }
        return ["calls": totals.calls, "from_journal": totals.fromJournal, "completion_tokens": totals.tokens,
                "prompt_tokens": totals.promptTokens, "sent": totals.calls - totals.fromJournal, "sent_tokens": totals.spentTokens,
                "budget_calls": context.budget.maxCalls ?? NSNull(), "budget_tokens": context.budget.maxTotalTokens ?? NSNull(),
                "seconds": totals.seconds, "calls_per_s": Double(totals.calls) / max(totals.seconds, 1e-9),
                "tokens_per_s": Double(totals.tokens) / max(totals.seconds, 1e-9)]
    }
}

/// Message lists as the store holds them: canonical JSON blobs.
public enum Blobs {
    public static func text(_ messages: Messages) -> String { CanonicalJSON.text(messages) }
}
