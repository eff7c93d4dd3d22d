import SRLMMetrics

public struct Table: Codable, Hashable, Sendable {
    public var columns: [String]
    public var rows: [[Cell]]

    public init(columns: [String], rows: [[Cell]]) {
        self.columns = columns
        self.rows = rows
    }
}

/// How a number is written: fixed decimals, or a proportion written as a percentage (0.787 → "78.7 %").
public enum NumberFormat: Codable, Hashable, Sendable {
    case decimal(places: Int)
    case percent(places: Int)

    /// Locale-free and deterministic ("0.787", never "0,787"); a value that rounds to zero loses its minus sign.
    public func format(_ value: Double) -> String {
        guard value.isFinite else { return "—" }
        let (scaled, places, suffix) = switch self {
        case .decimal(let places): (value, places, "")
        case .percent(let places): (value * 100, places, " %")
        }
        let text = String(format: "%.\(max(places, 0))f", scaled)
        let roundsToZero = text.dropFirst().allSatisfy { $0 == "0" || $0 == "." }
        let unsigned = text.hasPrefix("-") && roundsToZero ? String(text.dropFirst()) : text
        return unsigned + suffix
    }

    /// One place fewer, for interval bounds beside their estimate ("0.787 [0.70, 0.85]", "78.7 % [70, 85]"), but
    /// decimals keep two places where they had them: "0.79 [0.7, 0.8]" would hide the interval.
    var coarser: NumberFormat {
        switch self {
        case .decimal(let places): .decimal(places: max(places - 1, min(places, 2)))
        case .percent(let places): .percent(places: max(places - 1, 0))
        }
    }
}

public enum Cell: Codable, Hashable, Sendable {
    case text(String)
    /// nil is shown as "—" (undefined, e.g. a correlation over constant scores).
    case number(Double?, NumberFormat)
    /// An estimate with its 95 % interval: "0.787 [0.70, 0.85]" (bounds as `NumberFormat.coarser`); a zero-width
    /// interval as "0.667 [not estimable]" (`Interval.isEstimable`).
    case interval(value: Double?, low: Double?, high: Double?, NumberFormat)

    public static func estimate(_ estimate: Estimate?, _ format: NumberFormat) -> Cell {
        .interval(value: estimate?.value, low: estimate?.interval?.low, high: estimate?.interval?.high, format)
    }

    /// The random judge's mean with its 2.5–97.5 percentile band, written like an interval.
    public static func spread(_ spread: Spread?, _ format: NumberFormat) -> Cell {
        .interval(value: spread?.mean, low: spread?.low, high: spread?.high, format)
    }

    /// The cell as plain text, before any escaping.
    public var text: String {
        switch self {
        case .text(let text):
            return text
        case .number(let value, let format):
            return value.map(format.format) ?? "—"
        case .interval(let value, let low, let high, let format):
            guard let value else { return "—" }
            guard let low, let high else { return format.format(value) }
            guard Interval.isEstimable(low: low, high: high) else { return "\(format.format(value)) [\(Interval.notEstimable)]" }
            let bounds = format.coarser
            let percent = if case .percent = format { true } else { false }
            // "78.7 % [70 %, 85 %]" repeats the sign; "78.7 % [70, 85]" reads better.
            let strip = { (text: String) in percent ? String(text.dropLast(2)) : text }
            return "\(format.format(value)) [\(strip(bounds.format(low))), \(strip(bounds.format(high)))]"
        }
    }

    var isNumeric: Bool {
        if case .text = self { false } else { true }
    }
}
