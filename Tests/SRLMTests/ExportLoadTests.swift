import Foundation
import Testing
@testable import SRLMExport
@testable import SRLMStore

extension EngineBacked {
    /// Issue 13 item 4: every export format, as JSONL and as Parquet (`-o NAME.parquet`, pyarrow), loads with
    /// Hugging Face `datasets.load_dataset` with the rows and columns srlm wrote.
    @Suite struct ExportsLoadInDatasets {
        @Test func everyFormatLoadsAsJSONAndParquet() throws {
            let store = try TestSupport.makeStore()
            let pairs = try ExportFixtures.write(store, "pairs", .pairs, (0..<5).map { i in
                ExportFixtures.pair([.user("question \(i)")], "a good answer \(i)", "a worse answer \(i)", scores: (5, Double(i % 3)))
            })
            let ift = try ExportFixtures.write(store, "ift", .ift, (0..<4).map { i in
                ["prompt": ExportFixtures.list([.system("Be brief."), .user("task \(i)")]),
                 "response": ExportFixtures.list([.assistant("done \(i)")])]
            })
            let dir = TestSupport.temporaryDirectory("load")
            var expected: [[String: Any]] = []
            for format in ExportFormat.allCases {
                let version = format.acceptedKinds.contains(.pairs) ? pairs : ift
                for container in ["jsonl", "parquet"] {
                    let path = dir.appendingPathComponent("\(format.rawValue).\(container)").path
                    let (status, output) = try TestSupport.run(EngineSupport.srlmBinary, ["export", version.ref, "--format", format.rawValue,
                                                                                          "-o", path, "--store", store.path])
                    #expect(status == 0, "\(format) \(container): \(output)")
                    expected.append(["path": path, "kind": container == "jsonl" ? "json" : "parquet", "rows": version.rowCount])
                }
            }
            // One interpreter for every file: rows and column names as datasets sees them.
            let script = """
                import json, sys
                from datasets import load_dataset
                out = []
                for f in json.load(open(sys.argv[1])):
                    d = load_dataset(f["kind"], data_files=f["path"], split="train")
                    out.append({"path": f["path"], "rows": d.num_rows, "columns": sorted(d.column_names)})
                print(json.dumps(out))
                """
            let list = dir.appendingPathComponent("files.json")
            try JSONSerialization.data(withJSONObject: expected).write(to: list)
            let (status, output) = try TestSupport.run(EngineSupport.home.python, ["-c", script, list.path], timeoutSeconds: 300,
                                                       withErrors: false, environment: ["HF_DATASETS_CACHE": dir.appendingPathComponent("cache").path,
                                                                                        "HF_HUB_OFFLINE": "1"])
            #expect(status == 0, "\(output.suffix(2000))")
            let loaded = try JSONSerialization.jsonObject(with: Data(output.split(separator: "\n").last.map(String.init)?.utf8 ?? "".utf8)) as? [[String: Any]]
            #expect(loaded?.count == expected.count)
            for (want, got) in zip(expected, loaded ?? []) {
                let name = URL(fileURLWithPath: want["path"] as! String).lastPathComponent
                #expect(got["rows"] as? Int == want["rows"] as? Int, "\(name)")
                let columns = got["columns"] as? [String] ?? []
                switch name.split(separator: ".")[0] {
                case "trl", "trl-standard": #expect(columns == ["chosen", "prompt", "rejected", "score_chosen", "score_rejected"], "\(name)")
                case "sft": #expect(columns == ["completion", "prompt"], "\(name)")
                case "messages", "openai-chat": #expect(columns == ["messages"], "\(name)")
                default: #expect(columns == ["input", "non_preferred_output", "preferred_output"], "\(name)")
                }
            }
        }
    }
}

extension EngineBacked {
    /// Issue 13 item 4: Datasette (from the engines' venv) opens a store with srlm's extension loaded and serves a
    /// view's texts as JSON over HTTP.
    @Suite struct DatasetteServesTheViews {
        @Test func aViewAsJSONOverHTTP() throws {
            let store = try TestSupport.makeStore()
            let version = try ExportFixtures.write(store, "pairs", .pairs, [ExportFixtures.pair([.user("Why is the sky blue?")], "Rayleigh scattering.", "It is not.")])
            try store.close()
            let datasette = EngineSupport.home.root.appendingPathComponent(".venv/bin/datasette").path
            let port = Int.random(in: 20_000...40_000)
            let server = Process()
            server.executableURL = URL(fileURLWithPath: datasette)
            server.arguments = ["serve", store.path, "--port", String(port),
                                "--load-extension", TestSupport.packageRoot.appendingPathComponent(".build/debug/libsrlmsqlite").path]
            server.standardOutput = FileHandle.nullDevice
            server.standardError = FileHandle.nullDevice
            try server.run()
            // Datasette (uvicorn) can sit through a SIGTERM; it holds nothing worth a graceful end.
            defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
            let name = URL(fileURLWithPath: store.path).deletingPathExtension().lastPathComponent
            var rows: [[String: Any]]?
            for _ in 0..<60 where rows == nil {
                let (status, output) = try TestSupport.run("curl", ["-sf", "http://127.0.0.1:\(port)/\(name)/v_pairs.json?_shape=array"],
                                                           withErrors: false)
                if status == 0 { rows = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]] } else { usleep(500_000) }
            }
            #expect(rows?.count == 1)
            #expect(rows?.first?["ref"] as? String == version.ref)
            #expect(rows?.first?["prompt_text"] as? String == "Why is the sky blue?")
            #expect(rows?.first?["chosen_text"] as? String == "Rayleigh scattering.")
        }
    }
}
