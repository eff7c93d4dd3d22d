/// What `srlm report` shows, as data: the store fills it, `HTMLRenderer` and `MarkdownRenderer` draw it. Keeping
/// the model free of the store lets the renderers be tested (and escaped) on hand-made reports.
public struct Report: Codable, Hashable, Sendable {
    public var title: String
    public var subtitle: String
    public var sections: [Section]

    public init(title: String, subtitle: String = "", sections: [Section]) {
        self.title = title
        self.subtitle = subtitle
        self.sections = sections
    }
}

public struct Section: Codable, Hashable, Sendable {
    public var title: String
    /// A short line under the title: what the section measures and on what data.
    public var note: String?
    public var blocks: [Block]

    public init(title: String, note: String? = nil, blocks: [Block]) {
        self.title = title
        self.note = note
        self.blocks = blocks
    }
}

public enum Block: Codable, Hashable, Sendable {
    case paragraph(String)
    /// Short statements read one by one (the paper's claims and their verdicts).
    case list([String])
    /// Something the reader must not miss (judge saturating at 5, parse failures, too few prompts).
    case warning(String)
    case table(Table)
    case chart(Chart)
    case examples([Example])
}
