/// The report's only style sheet, inlined: the file must open anywhere, offline, under a CSP that allows nothing
/// external.
enum HTMLStyle {
    static let css = """
    body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", sans-serif; color: #1d2127;
           background: #fff; margin: 0; }
    main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 64px; }
    h1 { font-size: 1.8em; margin: 0 0 4px; }
    .subtitle { color: #555; margin: 0 0 16px; }
    nav ol { columns: 2; color: #555; margin: 0 0 24px; padding-left: 1.4em; }
    nav a { color: #0b5cad; text-decoration: none; }
    section { border-top: 1px solid #d8dde3; padding-top: 12px; margin-top: 28px; }
    h2 { font-size: 1.35em; margin: 0 0 4px; }
    .note { color: #555; font-style: italic; margin: 0 0 12px; }
    .warning { border-left: 5px solid #c9302c; background: #fdf1f0; padding: 8px 12px; margin: 12px 0; }
    table { border-collapse: collapse; margin: 12px 0; font-size: 0.95em; }
    th, td { border-bottom: 1px solid #e1e5ea; padding: 5px 12px; text-align: left; vertical-align: top; }
    th { background: #f3f5f8; font-weight: 600; }
    td { white-space: pre-line; }
    td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
    figure { margin: 16px 0; }
    svg.chart { max-width: 100%; height: auto; font-size: 12px; fill: #1d2127; }
    svg .chart-title { font-size: 15px; font-weight: 600; }
    svg .axis { stroke: #333; stroke-width: 1; }
    svg .grid { stroke: #e3e6ea; stroke-width: 1; }
    svg .tick { fill: #444; }
    svg .axis-label { fill: #222; font-weight: 600; }
    svg .legend text { fill: #1d2127; }
    svg line.baseline { stroke: #777; stroke-width: 1.5; stroke-dasharray: 6 4; }
    svg .whisker { fill: none; stroke-width: 1.5; }
    svg g.series rect + .whisker { stroke: #222; }
    .example { border: 1px solid #d8dde3; border-radius: 6px; padding: 12px 16px; margin: 16px 0; }
    .example h3 { margin: 0 0 8px; font-size: 1.1em; }
    .pair { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
    .side h4, .prompt h4 { margin: 8px 0 4px; font-size: 0.95em; }
    .chosen h4 { color: #1a7f37; }
    .rejected h4 { color: #b42318; }
    pre.text { white-space: pre-wrap; overflow-wrap: anywhere; font: 13px/1.45 ui-monospace, "DejaVu Sans Mono", monospace;
               background: #f6f8fa; border: 1px solid #e1e5ea; border-radius: 4px; padding: 8px 10px; margin: 0;
               max-height: 28em; overflow: auto; }
    details { margin-top: 8px; }
    summary { cursor: pointer; color: #333; }
    ol.samples { padding-left: 1.4em; }
    ol.samples li { margin: 6px 0; }
    """
}
