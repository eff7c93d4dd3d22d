import Foundation

/// The machine a run ran on and the srlm command that started it, recorded in every run's provenance (`machine`,
/// `invocation`), so a report says where its wall times were measured and which commands made its figures.
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

    /// This process's command line as a shell would take it back: `srlm` for the binary's path, arguments quoted
    /// where needed, and the user:password part of a URL hidden (keys themselves only ever come from the environment).
    public static let invocation: String = {
        let arguments = CommandLine.arguments.dropFirst().map { argument -> String in
            var text = argument
            if let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].firstIndex(of: "@"),
               !text[scheme.upperBound..<at].contains("/") {
                text.replaceSubrange(scheme.upperBound..<at, with: "***")
            }
            let plain = text.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_./:=@,+%".unicodeScalars.contains($0) }
            return plain && !text.isEmpty ? text : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }
        return (["srlm"] + arguments).joined(separator: " ")
    }()

    /// `provenance` with the machine and the invocation added (the caller's keys win).
    public static func adding(to provenance: [String: Any]?) -> [String: Any] {
        var out = provenance ?? [:]
        if out["machine"] == nil { out["machine"] = current }
        if out["invocation"] == nil { out["invocation"] = invocation }
        return out
    }
}
