import Foundation

/// Maximum-likelihood logistic regression with an intercept and one feature, on soft labels y ∈ [0, 1]:
/// maximises Σ yᵢ log pᵢ + (1 − yᵢ) log(1 − pᵢ) − (λ/2)(θ² + φ²), pᵢ = σ(θ + φ·xᵢ), by Newton–Raphson (IRLS).
/// The tiny ridge term λ keeps the optimum finite when the data are separable (e.g. the model wins everything)
/// and keeps φ at 0 when the feature is constant; it moves a fit on real data by far less than its interval.
struct LogisticFit: Equatable, Sendable {
    var intercept: Double
    var slope: Double

    static func fit(features: [Double], labels: [Double], ridge: Double) -> LogisticFit {
        precondition(features.count == labels.count, "one label per feature")
        var fit = LogisticFit(intercept: 0, slope: 0)
        for _ in 0..<200 {
            var gradient = (ridge * -fit.intercept, ridge * -fit.slope)
            var hessian = (ridge, 0.0, ridge)  // negative Hessian: (θθ, θφ, φφ)
            for (x, y) in zip(features, labels) {
                let p = sigmoid(fit.intercept + fit.slope * x)
                let weight = p * (1 - p)
                gradient.0 += y - p
                gradient.1 += (y - p) * x
                hessian.0 += weight
                hessian.1 += weight * x
                hessian.2 += weight * x * x
            }
            let determinant = hessian.0 * hessian.2 - hessian.1 * hessian.1
            let step = ((hessian.2 * gradient.0 - hessian.1 * gradient.1) / determinant,
                        (hessian.0 * gradient.1 - hessian.1 * gradient.0) / determinant)
            fit.intercept += step.0
            fit.slope += step.1
            if max(abs(step.0), abs(step.1)) < 1e-13 { break }
        }
        return fit
    }
}

/// The logistic function, written so neither branch overflows.
func sigmoid(_ z: Double) -> Double {
    if z >= 0 { return 1 / (1 + exp(-z)) }
    let e = exp(z)
    return e / (1 + e)
}
