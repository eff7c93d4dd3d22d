import Foundation

/// Ratings from pairwise battles (Bradley–Terry, fitted by Hunter's MM iterations), on the Elo scale: 1000 is the
/// group's geometric mean strength, and 400 points more means 10:1 odds. A tie counts half a win to each side. Each
/// player also has one drawn game against a virtual player of average strength, so that a player who never won
/// (or never lost) gets a finite rating and few battles move ratings less. Order-independent, unlike running Elo.
public enum BradleyTerry {
    public struct Battle: Sendable, Hashable {
        public let a: Int
        public let b: Int
        /// 1: a won, 0: b won, 0.5: tie.
        public let outcomeForA: Double

        public init(a: Int, b: Int, outcomeForA: Double) {
            self.a = a
            self.b = b
            self.outcomeForA = outcomeForA
        }
    }

    /// Ratings of players 0..<count.
    public static func elo(count: Int, _ battles: [Battle], iterations: Int = 500) -> [Double] {
        guard count > 0 else { return [] }
        var wins = [Double](repeating: 0.5, count: count)  // the half win of the drawn virtual game
        for battle in battles {
            wins[battle.a] += battle.outcomeForA
            wins[battle.b] += 1 - battle.outcomeForA
        }
        var strength = [Double](repeating: 1, count: count)
        for _ in 0..<iterations {
            var next = strength
            for i in 0..<count {
                var denominator = 1 / (strength[i] + 1)  // the virtual game
                for battle in battles where battle.a == i || battle.b == i {
                    let other = battle.a == i ? battle.b : battle.a
                    denominator += 1 / (strength[i] + strength[other])
                }
                next[i] = wins[i] / denominator
            }
            let logMean = next.reduce(0) { $0 + log($1) } / Double(count)
            let scale = exp(-logMean)
            let change = zip(next, strength).map { abs($0 * scale - $1) }.max() ?? 0
            strength = next.map { $0 * scale }
            if change < 1e-12 { break }
        }
        return strength.map { 1000 + 400 * log10($0) }
    }
}
