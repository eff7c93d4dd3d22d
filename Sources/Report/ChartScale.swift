import Foundation

/// The y axis of a chart: its range and round tick values.
struct ChartScale: Equatable {
    var low: Double
    var high: Double
    var ticks: [Double]

    /// A fixed range keeps its bounds (ticks inside it); otherwise the range covers every value, whisker and the
    /// baseline, bars always include 0 (a bar's length must mean something), and the bounds round out to ticks.
    init(chart: Chart) {
        if let range = chart.yRange, range.upperBound > range.lowerBound {
            low = range.lowerBound
            high = range.upperBound
            ticks = ChartScale.ticks(from: low, to: high, step: ChartScale.niceStep((high - low) / 5))
            return
        }
        let points = chart.series.flatMap { $0.points.compactMap { $0 } }
        var values = points.flatMap { [$0.value, $0.low, $0.high].compactMap { $0 } }
        if let baseline = chart.baseline { values.append(baseline.value) }
        if chart.kind == .bar { values.append(0) }
        var lowest = values.min() ?? 0, highest = values.max() ?? 1
        if highest - lowest < 1e-12 {
            lowest -= 0.5
            highest += 0.5
        }
        let step = ChartScale.niceStep((highest - lowest) / 5)
        low = (lowest / step).rounded(.down) * step
        high = (highest / step).rounded(.up) * step
        ticks = ChartScale.ticks(from: low, to: high, step: step)
    }

    /// 1, 2, 2.5 or 5 times a power of ten, the first at least `rough`.
    static func niceStep(_ rough: Double) -> Double {
        let magnitude = pow(10, (log10(rough)).rounded(.down))
        return [1, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= rough * (1 - 1e-9) } ?? 10 * magnitude
    }

    private static func ticks(from low: Double, to high: Double, step: Double) -> [Double] {
        let first = (low / step - 1e-9).rounded(.up)
        let last = (high / step + 1e-9).rounded(.down)
        guard first <= last else { return [low, high] }
        return stride(from: first, through: last, by: 1).map { $0 * step }
    }
}
