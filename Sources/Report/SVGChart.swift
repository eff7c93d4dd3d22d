import Foundation

/// Draws a `Chart` as inline SVG (no script, no external reference): axes, ticks, one `<g class="series">` per
/// series (a polyline with markers, or bars), interval whiskers, a dashed baseline and a legend.
struct SVGChart {
    static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]

    let chart: Chart
    let scale: ChartScale
    let legend: [LegendEntry]
    let width = 760.0, left = 70.0, right = 20.0, bottom = 58.0
    /// The plot starts below the title and however many legend rows the names need.
    let top: Double
    let height: Double

    init(_ chart: Chart) {
        self.chart = chart
        scale = ChartScale(chart: chart)
        var entries = chart.series.enumerated().map { index, series in
            LegendEntry(text: series.name, colour: SVGChart.palette[index % SVGChart.palette.count])
        }
        if let baseline = chart.baseline {
            entries.append(LegendEntry(text: "\(baseline.label) (\(chart.format.format(baseline.value)))", colour: nil))
        }
        legend = LegendEntry.layout(entries, from: left, to: width - right)
        let rows = Double((legend.map(\.row).max() ?? 0) + 1)
        top = 46 + 18 * rows
        height = 276 + top
    }

    var svg: String {
        let label = Escaping.html(chart.title)
        var parts = ["<svg class=\"chart\" viewBox=\"0 0 \(n(width)) \(n(height))\" "
            + "width=\"\(n(width))\" height=\"\(n(height))\" role=\"img\" aria-label=\"\(label)\">",
                     "<text class=\"chart-title\" x=\"\(n(left))\" y=\"20\">\(label)</text>"]
        parts += legendItems() + axes()
        if let baseline = chart.baseline { parts.append(baselineLine(baseline)) }
        for (index, series) in chart.series.enumerated() { parts += draw(series, index: index) }
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }

    private var plotRight: Double { width - right }
    private var plotBottom: Double { height - bottom }
    private var band: Double { (plotRight - left) / Double(max(chart.categories.count, 1)) }

    private func x(_ category: Int) -> Double { left + (Double(category) + 0.5) * band }

    /// Values outside a fixed range are pinned to its edge rather than drawn outside the plot.
    private func y(_ value: Double) -> Double {
        let clamped = min(max(value, scale.low), scale.high)
        return plotBottom - (clamped - scale.low) / (scale.high - scale.low) * (plotBottom - top)
    }

    private func color(_ index: Int) -> String { SVGChart.palette[index % SVGChart.palette.count] }

    /// Series swatches, then the baseline as a dashed stroke: labelled here rather than on the plot, where a
    /// series running along it would hide the label.
    private func legendItems() -> [String] {
        legend.map { entry in
            let y = 32 + 18 * Double(entry.row)
            let marker = if let colour = entry.colour {
                "<rect x=\"\(n(entry.x))\" y=\"\(n(y))\" width=\"14\" height=\"14\" fill=\"\(colour)\"/>"
            } else {
                "<line class=\"baseline\" x1=\"\(n(entry.x - 6))\" y1=\"\(n(y + 7))\" x2=\"\(n(entry.x + 16))\" y2=\"\(n(y + 7))\"/>"
            }
            return "<g class=\"legend\">\(marker)<text x=\"\(n(entry.x + 20))\" y=\"\(n(y + 12))\">"
                + "\(Escaping.html(entry.text))</text></g>"
        }
    }

    private func axes() -> [String] {
        var parts = ["<line class=\"axis\" x1=\"\(n(left))\" y1=\"\(n(plotBottom))\" x2=\"\(n(plotRight))\" y2=\"\(n(plotBottom))\"/>",
                     "<line class=\"axis\" x1=\"\(n(left))\" y1=\"\(n(top))\" x2=\"\(n(left))\" y2=\"\(n(plotBottom))\"/>"]
        for tick in scale.ticks {
            parts.append("<line class=\"grid\" x1=\"\(n(left))\" y1=\"\(n(y(tick)))\" x2=\"\(n(plotRight))\" y2=\"\(n(y(tick)))\"/>")
            parts.append("<text class=\"tick\" x=\"\(n(left - 6))\" y=\"\(n(y(tick) + 4))\" text-anchor=\"end\">"
                + "\(Escaping.html(chart.format.format(tick)))</text>")
        }
        for (index, category) in chart.categories.enumerated() {
            parts.append("<text class=\"tick\" x=\"\(n(x(index)))\" y=\"\(n(plotBottom + 18))\" text-anchor=\"middle\">"
                + "\(Escaping.html(category))</text>")
        }
        parts.append("<text class=\"axis-label\" x=\"\(n((left + plotRight) / 2))\" y=\"\(n(height - 12))\" "
            + "text-anchor=\"middle\">\(Escaping.html(chart.xLabel))</text>")
        let middle = (top + plotBottom) / 2
        parts.append("<text class=\"axis-label\" x=\"16\" y=\"\(n(middle))\" text-anchor=\"middle\" "
            + "transform=\"rotate(-90 16 \(n(middle)))\">\(Escaping.html(chart.yLabel))</text>")
        return parts
    }

    private func baselineLine(_ baseline: Baseline) -> String {
        let level = n(y(baseline.value))
        return "<line class=\"baseline\" x1=\"\(n(left))\" y1=\"\(level)\" x2=\"\(n(plotRight))\" y2=\"\(level)\"/>"
    }

    private func draw(_ series: Series, index: Int) -> [String] {
        // Points past the last category have no place on the x axis.
        let points = series.points.prefix(chart.categories.count).enumerated()
            .compactMap { category, point in point.map { (category, $0) } }
        var parts = ["<g class=\"series\" data-series=\"\(index)\" fill=\"\(color(index))\" stroke=\"\(color(index))\">"]
        switch chart.kind {
        case .line:
            let coordinates = points.map { "\(n(x($0.0))),\(n(y($0.1.value)))" }.joined(separator: " ")
            parts.append("<polyline fill=\"none\" stroke-width=\"2.5\" points=\"\(coordinates)\"/>")
            parts += points.map { "<circle cx=\"\(n(x($0.0)))\" cy=\"\(n(y($0.1.value)))\" r=\"4\"/>" }
            parts += points.compactMap { whisker($0.1, at: x($0.0)) }
        case .bar:
            let groupWidth = band * 0.8
            let barWidth = groupWidth / Double(max(chart.series.count, 1))
            let zero = y(min(max(0, scale.low), scale.high))
            for (category, point) in points {
                let barLeft = x(category) - groupWidth / 2 + Double(index) * barWidth
                let barTop = min(zero, y(point.value)), barHeight = abs(zero - y(point.value))
                parts.append("<rect x=\"\(n(barLeft))\" y=\"\(n(barTop))\" width=\"\(n(barWidth * 0.9))\" "
                    + "height=\"\(n(barHeight))\" stroke=\"none\"/>")
                if let whisker = whisker(point, at: barLeft + barWidth * 0.45) { parts.append(whisker) }
            }
        }
        parts.append("</g>")
        return parts
    }

    /// The 95 % interval as a vertical line with caps, drawn darker than the bar it sits on.
    private func whisker(_ point: Point, at center: Double) -> String? {
        guard let low = point.low, let high = point.high else { return nil }
        let (from, to) = (y(low), y(high))
        return "<path class=\"whisker\" d=\"M\(n(center)) \(n(from))V\(n(to))M\(n(center - 5)) \(n(from))H\(n(center + 5))"
            + "M\(n(center - 5)) \(n(to))H\(n(center + 5))\"/>"
    }

    /// Coordinates with one decimal: enough for a screen, and identical bytes for identical input.
    private func n(_ value: Double) -> String {
        String(format: "%.1f", value)
    }
}
