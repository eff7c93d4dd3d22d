/// How blob packs are compressed: the one place for levels and frame sizes. Writes are hot (a stage or an import
/// must not wait for zstd), so they use a fast level; `srlm compact` later rewrites finished data at a high level in
/// large frames, where long-range repeats across a whole dataset are found.
public enum PackPolicy {
    /// Raw bytes buffered before a pack is written: big frames give zstd the matches of the whole batch, small ones
    /// keep a random read cheap (one frame decoded per pack not yet cached).
    public static let packTarget = 4 << 20
    /// The level of new packs: zstd -3 compresses at hundreds of MB/s on one core, faster than rows arrive.
    public static let hotLevel: Int32 = 3
    /// Packs smaller than this use the store's trained dictionary (journal answers, small stage outputs); they are
    /// few bytes, so the high level costs little.
    public static let smallPack = 64 * 1024
    public static let smallPackLevel: Int32 = 19
    /// `srlm compact`: zstd -19 with long-distance matching over frames of up to 32 MiB (the window spans the frame).
    public static let compactLevel: Int32 = 19
    public static let compactFrame = 32 << 20
}
