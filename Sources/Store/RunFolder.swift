import Foundation

/// Where a training run keeps its exported data, trainer config, log and model: `<store folder>/srlm-runs/<store
/// file name>/<run id>`. The store's name is part of it because run ids are per store and several stores often
/// share a folder. (Stores trained before this layout used `srlm-runs/<run id>`; their checkpoints record full paths.)
public enum RunFolder {
    public static func path(store: String, run: Int64) -> String {
        let file = URL(fileURLWithPath: store).standardizedFileURL
        return file.deletingLastPathComponent().appendingPathComponent("srlm-runs")
            .appendingPathComponent(file.lastPathComponent).appendingPathComponent(String(run)).path
    }
}
