import Foundation
import GRDBSQLite
import SRLMStore

/// `srlm doctor`: whether each engine srlm drives is in place, and what to run when one is not.
public struct DoctorCheck: Codable, Sendable, Equatable {
    public let name: String
    public let ok: Bool
    /// What was found (a version, a path, a size), or what is missing.
    public let detail: String
    /// The command that fixes it; nil when ok.
    public let fix: String?
}

public enum Doctor {
    /// Free space below this at the store's folder fails the disk check: a round's checkpoints and GGUF files of
    /// SmolLM2 take about 1 GB.
    public static let minimumFreeBytes: Int64 = 2 << 30

    /// Every check, in the order a newcomer meets them. `home` nil: the engines folder could not be found.
    public static func run(home: EngineHome?, storePath: String) -> [DoctorCheck] {
        var checks: [DoctorCheck] = []
        guard let home else {
            return [DoctorCheck(name: "engines", ok: false, detail: "no engines/ folder above the working directory or the srlm binary",
                                fix: "export SRLM_HOME=/path/to/srlm (the checkout), or run srlm from inside it")]
        }
        guard FileManager.default.fileExists(atPath: home.script("serve.py")) else {
            return [DoctorCheck(name: "engines", ok: false, detail: "no engines/serve.py in \(home.root.path)",
                                fix: "export SRLM_HOME=/path/to/srlm (the checkout)")]
        }
        checks.append(DoctorCheck(name: "engines", ok: true, detail: home.engines.path, fix: nil))
        let setup = "make setup   (engines/setup.sh, in \(home.root.path))"
        guard FileManager.default.isExecutableFile(atPath: home.python) else {
            checks.append(DoctorCheck(name: "python", ok: false, detail: "no interpreter at \(home.python)", fix: setup))
            checks += [modelCheck(home, setup), diskCheck(storePath)]
            return checks
        }
        let versions = pythonVersions(home)
        checks.append(DoctorCheck(name: "python", ok: versions["python"] != nil,
                                  detail: versions["python"].map { "\(home.python) (Python \($0))" } ?? "\(home.python) does not run",
                                  fix: versions["python"] == nil ? setup : nil))
        let server = versions["xllamacpp"]
        checks.append(DoctorCheck(name: "llama.cpp server", ok: server != nil,
                                  detail: server.map { "xllamacpp \($0)" } ?? "xllamacpp is not installed in the venv",
                                  fix: server == nil ? setup : nil))
        let training = ["torch", "transformers", "trl", "accelerate"]
        let missing = training.filter { versions[$0] == nil }
        checks.append(DoctorCheck(name: "training", ok: missing.isEmpty,
                                  detail: missing.isEmpty ? training.map { "\($0) \(versions[$0]!)" }.joined(separator: ", ")
                                                          : "missing: " + missing.joined(separator: ", "),
                                  fix: missing.isEmpty ? nil : "make setup   (engines/setup.sh without --no-train)"))
        checks += [modelCheck(home, setup), diskCheck(storePath)]
        return checks
    }

    /// The versions of the engines' Python packages, from one interpreter start (absent: not importable).
    static func pythonVersions(_ home: EngineHome) -> [String: String] {
        let script = """
            import importlib, json, sys
            found = {"python": sys.version.split()[0]}
            for name in ["xllamacpp", "torch", "transformers", "trl", "accelerate"]:
                try:
                    found[name] = getattr(importlib.import_module(name), "__version__", "?")
                except Exception:
                    pass
            print(json.dumps(found))
            """
        guard let (status, data, _) = try? home.runPython(["-c", script]), status == 0 else { return [:] }
        return (try? JSONDecoder().decode([String: String].self, from: data)) ?? [:]
    }

    static func modelCheck(_ home: EngineHome, _ setup: String) -> DoctorCheck {
        let size = (try? FileManager.default.attributesOfItem(atPath: home.defaultGGUF))?[.size] as? Int
        return DoctorCheck(name: "model", ok: size != nil,
                           detail: size.map { "\(home.defaultGGUF) (\($0 / 1_000_000) MB)" } ?? "no \(home.defaultGGUF)",
                           fix: size == nil ? setup : nil)
    }

    static func diskCheck(_ storePath: String) -> DoctorCheck {
        let folder = URL(fileURLWithPath: storePath).deletingLastPathComponent().path
        var info = statvfs()
        guard statvfs(folder.isEmpty ? "." : folder, &info) == 0 else {
            return DoctorCheck(name: "disk", ok: false, detail: "cannot read free space at \(folder)", fix: "check that \(folder) exists")
        }
        let free = Int64(info.f_bavail) * Int64(info.f_frsize)
        let ok = free >= minimumFreeBytes
        return DoctorCheck(name: "disk", ok: ok, detail: String(format: "%.1f GB free at %@", Double(free) / 1e9, folder),
                           fix: ok ? nil : "free space at \(folder) (a round's checkpoints take about 1 GB), or put the store elsewhere")
    }

    /// The libraries srlm links, for bug reports.
    public static func libraries() -> String {
        "zstd \(Zstd.version), SQLite \(String(cString: sqlite3_libversion()))"
    }
}
