import Foundation

/// A win rate with the length advantage taken out, in the manner of AlpacaEval 2's length-controlled win rate
/// (Dubois et al. 2024, arXiv 2404.04475): judges prefer longer answers, so a model can "win" by writing more.
///
/// Fit by maximum likelihood (`LogisticFit`, ridge λ = `ridge` on both coefficients) the model
/// P(model beats reference) = σ(θ + φ·tanh(Δlen / sd(Δlen))), with Δlen = model length − reference length in
/// characters and sd the sample standard deviation (n − 1) of Δlen over the prompts (the feature is 0 when sd is 0,
/// and then φ = 0). Labels are the per-prompt outcomes in [0, 1] (1 win, 0.5 tie, 0 loss, or a judge's soft
/// preference). The length-controlled win rate is the model's prediction with the length term set to zero,
/// averaged over prompts: mean σ(θ) = σ(θ). AlpacaEval's GLM also has a per-instruction difficulty term; with one
/// model against one reference it is not identifiable (it would absorb each prompt's single outcome), so it is
/// omitted. The interval on the LC rate refits the whole procedure (sd included) on each bootstrap resample of
/// prompts.
public struct LengthControlledWinRate: Codable, Hashable, Sendable {
    public var prompts: Int
    /// θ: the model's log-odds of winning at equal length.
    public var theta: Double
    /// φ: the weight of the squashed length difference; positive when the longer answer tends to win.
    public var phi: Double
    /// sd(Δlen), the scale the length difference was divided by.
    public var lengthScale: Double
    /// The mean outcome (ties half), with its bootstrap interval.
    public var rawWinRate: Estimate
    public var lengthControlledWinRate: Estimate
    public var meanModelLength: Double
    public var meanReferenceLength: Double

    /// nil for no prompts.
    public static func fit(outcomes: [Double], modelLengths: [Int], referenceLengths: [Int], ridge: Double = 1e-6,
                           bootstrap: BootstrapOptions = BootstrapOptions()) -> LengthControlledWinRate? {
        precondition(outcomes.count == modelLengths.count && outcomes.count == referenceLengths.count,
                     "one outcome and two lengths per prompt")
        precondition(outcomes.allSatisfy { (0...1).contains($0) }, "outcomes must lie in [0, 1]")
        guard !outcomes.isEmpty else { return nil }
        let differences = zip(modelLengths, referenceLengths).map { Double($0 - $1) }
        func fitted(_ indices: [Int]) -> (fit: LogisticFit, scale: Double) {
            let chosen = indices.map { differences[$0] }
            let scale = sampleStandardDeviation(chosen)
            let features = chosen.map { scale > 0 ? tanh($0 / scale) : 0 }
            return (LogisticFit.fit(features: features, labels: indices.map { outcomes[$0] }, ridge: ridge), scale)
        }
        let estimates = Bootstrap.estimates(units: outcomes.count, options: bootstrap) { indices -> [String: Double] in
            ["raw": indices.reduce(0) { $0 + outcomes[$1] } / Double(indices.count),
             "lc": sigmoid(fitted(indices).fit.intercept)]
        }
        let full = fitted(Array(outcomes.indices))
        return LengthControlledWinRate(
            prompts: outcomes.count, theta: full.fit.intercept, phi: full.fit.slope, lengthScale: full.scale,
            rawWinRate: estimates["raw"]!, lengthControlledWinRate: estimates["lc"]!,
            meanModelLength: Double(modelLengths.reduce(0, +)) / Double(outcomes.count),
            meanReferenceLength: Double(referenceLengths.reduce(0, +)) / Double(outcomes.count))
    }

    private static func sampleStandardDeviation(_ values: [Double]) -> Double {
        guard values.count >= 2 else { return 0 }
        let mean = values.reduce(0, +) / Double(values.count)
        return (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)).squareRoot()
    }
}
