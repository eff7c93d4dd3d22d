/// One legend item and where it goes: items run left to right and wrap to a new row at the plot's right edge.
struct LegendEntry: Equatable {
    var text: String
    /// nil for the baseline, drawn as a dashed stroke.
    var colour: String?
    var x = 0.0
    var row = 0

    /// Names are cut at 80 characters (the tables carry them whole); widths are estimated at 7 px a character,
    /// generous for the 12 px sans-serif the style sheet uses.
    static func layout(_ entries: [LegendEntry], from left: Double, to right: Double) -> [LegendEntry] {
        var offset = left, row = 0
        return entries.map { entry in
            var placed = entry
            if placed.text.count > 80 { placed.text = String(placed.text.prefix(79)) + "…" }
            let width = 34 + 7 * Double(placed.text.count)
            if offset > left, offset + width > right {
                offset = left
                row += 1
            }
            placed.x = offset
            placed.row = row
            offset += width
            return placed
        }
    }
}
