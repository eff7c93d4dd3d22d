import Foundation

/// How many cores srlm's CPU-bound work may use: parsing an import, compressing packs, compacting. One process-wide
/// budget, set once by the CLI (`--cores`, default: every core); 1 keeps all of it on the calling thread, which is
/// how the benchmarks compare srlm with a single-threaded peer.
public enum Parallelism {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var value = ProcessInfo.processInfo.activeProcessorCount

    public static var threads: Int {
        get { lock.withLock { value } }
        set { lock.withLock { value = max(1, newValue) } }
    }
}

/// Results of work spread over threads, one slot per item, filled in any order and read in item order.
public final class ResultSlots<Value>: @unchecked Sendable {
    private var slots: [Result<Value, Error>?]
    private let lock = NSLock()
    public init(count: Int) { slots = Array(repeating: nil, count: count) }
    public func set(_ i: Int, _ value: Result<Value, Error>) { lock.withLock { slots[i] = value } }
    public func get(_ i: Int) throws -> Value { try lock.withLock { slots[i] }!.get() }
}
