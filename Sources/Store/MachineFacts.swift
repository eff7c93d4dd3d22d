import Foundation

/// The machine a run ran on, recorded in every run's provenance (`machine`), so wall times in a report say where
/// they were measured.
public enum MachineFacts {
    public nonisolated(unsafe) static let current: [String: Any] = {  // immutable once computed
        var facts: [String: Any] = ["cpus": ProcessInfo.processInfo.activeProcessorCount,
                                    "memory_gib": (Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824 * 10).rounded() / 10,
                                    "os": ProcessInfo.processInfo.operatingSystemVersionString]
        if let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("model name") }),
           let name = line.split(separator: ":", maxSplits: 1).last {
            facts["cpu"] = name.trimmingCharacters(in: .whitespaces)
        }
        return facts
    }()

    /// `provenance` with the machine added (the caller's keys win).
    public static func adding(to provenance: [String: Any]?) -> [String: Any] {
        var out = provenance ?? [:]
        if out["machine"] == nil { out["machine"] = current }
        return out
    }
}
