import SRLMMetrics

/// A chart over ordered categories (checkpoints, rounds): several named series, each a value per category.
public struct Chart: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, Hashable, Sendable {
        case line
        case bar
    }

    public var kind: Kind
    public var title: String
    public var categories: [String]
    public var series: [Series]
    /// A horizontal reference line, e.g. what a random judge scores.
    public var baseline: Baseline?
    public var xLabel: String
    public var yLabel: String
    /// Fixed y range (e.g. 0…1 for proportions); nil = fitted to the data, whiskers and baseline.
    public var yRange: ClosedRange<Double>?
    /// How values are written in tick labels and in the Markdown data table.
    public var format: NumberFormat

    public init(kind: Kind, title: String, categories: [String], series: [Series], baseline: Baseline? = nil,
                xLabel: String, yLabel: String, yRange: ClosedRange<Double>? = nil,
                format: NumberFormat = .decimal(places: 2)) {
        self.kind = kind
        self.title = title
        self.categories = categories
        self.series = series
        self.baseline = baseline
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.yRange = yRange
        self.format = format
    }
}

public struct Series: Codable, Hashable, Sendable {
    public var name: String
    /// One per category, in the chart's category order; nil = no value there (the line skips it).
    public var points: [Point?]

    public init(name: String, points: [Point?]) {
        self.name = name
        self.points = points
    }
}

public struct Point: Codable, Hashable, Sendable {
    public var value: Double
    /// A 95 % interval drawn as a whisker; both or neither.
    public var low: Double?
    public var high: Double?

    public init(_ value: Double, low: Double? = nil, high: Double? = nil) {
        self.value = value
        self.low = low
        self.high = high
    }

    /// A metric's estimate with its bootstrap interval as the whisker.
    public init(_ estimate: Estimate) {
        self.init(estimate.value, low: estimate.interval?.low, high: estimate.interval?.high)
    }
}

public struct Baseline: Codable, Hashable, Sendable {
    public var label: String
    public var value: Double

    public init(label: String, value: Double) {
        self.label = label
        self.value = value
    }
}
