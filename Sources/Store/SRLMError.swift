/// srlm's one error vocabulary, in the spirit of GRDB's `DatabaseError` and async-http-client's `HTTPClientError`:
/// every library module throws these cases, each message says what is wrong in the library's own terms, and the CLI
/// adds the hint (which flag or command fixes it). Messages never name a CLI flag.
public enum SRLMError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A dataset, version, checkpoint, file or query that does not exist.
    case notFound(String)
    /// No store at this path.
    case noStore(path: String)
    /// An output file exists and would be replaced.
    case fileExists(path: String)
    /// Input or a setting that cannot be used; for files the message names the file, line and field.
    case invalid(String)
    /// Identical content: nothing was written; names the version that already holds it.
    case unchanged(String)
    /// A frozen version's content on disk is not what srlm wrote (changed behind its back, or corrupt).
    case corrupt(String)
    /// A setting outside what it may be (`setting` in the library's terms, e.g. "count").
    case outOfRange(setting: String, value: String, expected: String)
    /// A version of one kind where another is needed.
    case wrongKind(ref: String, holds: String, expected: String)
    /// The round does not hold this input yet: `producedBy` makes it.
    case missingRoundInput(round: Int, role: RoundRole, producedBy: String)
    /// Model calls that got no answer (each recorded as failed in the journal; a rerun asks only them again).
    case callsFailed(what: String, failed: Int, total: Int, first: String)
    /// A round made fewer pairs than a training step wants.
    case tooFewPairs(round: Int, pairs: Int, minimum: Int)
    /// A loop plan that cannot run (unknown stage, missing model, stored by an older srlm).
    case badPlan(String)
    /// An engine is not installed or not reachable (Python environment, llama.cpp, engines/ folder).
    case setup(String)
    /// An inference server failed or answered badly.
    case server(String)
    /// The trainer failed; the message holds its last words.
    case training(String)
    /// A stage's call budget ran out: `unsent` of `total` calls were not sent (the answers received are journaled).
    case budgetSpent(what: String, unsent: Int, total: Int, calls: Int, tokens: Int)
    /// Something cannot be removed while what is listed depends on it.
    case inUse(what: String, by: [String])
    /// SQL that SQLite refused, in words for people (an unknown column lists the columns it could have been).
    case sql(String)
    /// A step would write a version with no rows; the message says what emptied it.
    case emptyVersion(String)

    public var description: String {
        switch self {
        case .notFound(let m), .invalid(let m), .corrupt(let m), .badPlan(let m), .setup(let m), .server(let m), .training(let m),
             .sql(let m), .emptyVersion(let m):
            return m
        case .noStore(let path):
            return "no store at \(path)"
        case .fileExists(let path):
            return "\(path) exists"
        case .unchanged(let ref):
            return "unchanged: identical to \(ref); nothing written"
        case let .outOfRange(setting, value, expected):
            return "\(setting) must be \(expected), got \(value)"
        case let .wrongKind(ref, holds, expected):
            return "\(ref) holds \(holds) rows, not \(expected)"
        case let .missingRoundInput(round, role, _):
            return "round \(round) has no \(role.rawValue) yet"
        case let .callsFailed(what, failed, total, first):
            return "\(failed) of \(total) \(what) calls failed (recorded in the journal); the first: \(first)"
        case let .budgetSpent(what, unsent, total, calls, tokens):
            return "the call budget is spent: \(unsent) of \(total) \(what) calls were not sent (this run sent \(calls) calls, \(tokens) tokens; the answers are journaled)"
        case let .inUse(what, by):
            let listed = by.prefix(20).map { "\n  - " + $0 }.joined()
            return "\(what) is still needed:" + listed + (by.count > 20 ? "\n  - … and \(by.count - 20) more" : "")
        case let .tooFewPairs(round, pairs, minimum):
            return "round \(round) made \(pairs) pair\(pairs == 1 ? "" : "s"), fewer than the \(minimum) training needs: not training on that"
        }
    }
}
