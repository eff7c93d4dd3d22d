import Foundation

/// Reads the judge's score: the last "Score: x" with x in 0...5 (decimals allowed). Anything else is a parse failure,
/// recorded as such — never silently turned into a number.
public enum ScoreParser {
    /// The scores a judge can give: the rubric's additive points start from 0, and the structured grammar
    /// (`JudgeTemplate`) ends the output in one digit 0–5.
    public static let scores = 0...5

    public enum Outcome: Equatable, Sendable {
        case score(Double)
        case failure(String)

        public var score: Double? { if case .score(let s) = self { return s }; return nil }
        public var failure: String? { if case .failure(let f) = self { return f }; return nil }
    }

    // "Score: 4", "score : 3.5", "**Score:** 4", "Score: **4**", "Score - 2"
    nonisolated(unsafe) static let pattern = #/(?i)score\**\s*[:=\-]\s*\**\s*([0-9]+(?:\.[0-9]+)?)(\s*/\s*[0-9]+)?/#

    public static func parse(_ output: String) -> Outcome {
        guard let match = output.matches(of: pattern).last else {
            return .failure("no 'Score: x' in the output")
        }
        let number = String(match.output.1)
        guard let value = Double(number) else { return .failure("unreadable score '\(number)'") }
        if let denominator = match.output.2 {
            let d = denominator.drop { !$0.isNumber }
            if d != "5" { return .failure("score given as \(number)\(denominator.filter { !$0.isWhitespace }), not out of 5") }
        }
        guard Double(scores.lowerBound)...Double(scores.upperBound) ~= value else { return .failure("score \(number) is outside 0–5") }
        return .score(value)
    }
}
