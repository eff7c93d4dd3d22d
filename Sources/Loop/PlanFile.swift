import Foundation
import SRLMStore
import Yams

/// Plan files: a loop's recipe as YAML, every stage's config with every default spelled out (`srlm plan init`),
/// read back by `srlm loop --plan FILE`. A local experiment and a GPU run differ by two such files.
extension LoopPlan.Options {
    public func yaml() throws -> String {
        "# srlm loop recipe: every stage's config (defaults: the paper's). `srlm loop --plan FILE` runs it; flags override.\n"
            + (try YAMLEncoder().encode(self))
    }

    /// Reads a plan file; a field it leaves out keeps its default, an unknown or mistyped field is an error naming it.
    public init(yaml text: String, file: String) throws {
        do {
            let defaults = try Yams.load(yaml: try LoopPlan.Options().yaml()) as? [String: Any] ?? [:]
            guard let given = try Yams.load(yaml: text) as? [String: Any] else {
                throw SRLMError.invalid("\(file): not a YAML mapping of the recipe's fields")
            }
            let unknown = Set(given.keys).subtracting(defaults.keys)
            guard unknown.isEmpty else {
                throw SRLMError.invalid("\(file): unknown field(s) \(unknown.sorted().joined(separator: ", ")); `srlm plan init` lists them all")
            }
            let merged = Self.merge(defaults, given)
            self = try YAMLDecoder().decode(LoopPlan.Options.self, from: try Yams.dump(object: merged))
        } catch let error as SRLMError {
            throw error
        } catch let error as DecodingError {
            throw SRLMError.invalid("\(file): \(Self.describe(error))")
        } catch {
            throw SRLMError.invalid("\(file): \(error)")
        }
    }

    /// The file's values over the defaults, nested mappings merged field by field.
    static func merge(_ base: [String: Any], _ over: [String: Any]) -> [String: Any] {
        var out = base
        for (key, value) in over {
            if let inner = value as? [String: Any], let under = base[key] as? [String: Any] {
                out[key] = merge(under, inner)
            } else {
                out[key] = value
            }
        }
        return out
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String { context.codingPath.map(\.stringValue).joined(separator: ".") }
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): return "field \(path(c)): \(c.debugDescription)"
        case .keyNotFound(let key, let c): return "field \(path(c)).\(key.stringValue) is missing"
        @unknown default: return "\(error)"
        }
    }
}
