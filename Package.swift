// swift-tools-version:6.0
import PackageDescription

// The folder list reads as the loop: Store → Import → Engines → Stages → Eval → Export → CLI.
let package = Package(
    name: "srlm",
    // Synchronization's Mutex needs macOS 15.
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "srlm", targets: ["CLI"]),
        .library(name: "SRLM", targets: ["SRLMStore", "SRLMImport", "SRLMEngines", "SRLMStages", "SRLMEval", "SRLMLoop",
                                         "SRLMExport", "SRLMMetrics", "SRLMReport"]),
        // `sqlite3 store.sqlite -cmd ".load .build/debug/libsrlmsqlite"` gives plain sqlite3 srlm_text().
        .library(name: "srlmsqlite", type: .dynamic, targets: ["SQLiteExtension"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"])]),
        // gzip input for `srlm import` (.jsonl.gz).
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "SRLMStore",
                dependencies: [.product(name: "GRDB", package: "GRDB.swift"),
                               .product(name: "Crypto", package: "swift-crypto"), "CZstd", "SQLiteExtension",
                               "SQLiteAutoExtension"],
                path: "Sources/Store",
                // schema/ and queries/ live at the top level (symlinked here); .process follows the links and
                // flattens them: migrations are the NNN_*.sql files, queries the other .sql files; schema/json's
                // JSON Schemas (*.schema.json, docs/JSON.md) ride along under names no .sql file can take.
                resources: [.process("schema"), .process("queries")]),
        .target(name: "SRLMImport", dependencies: ["SRLMStore", "SRLMMetrics", "CZlib"], path: "Sources/Import"),
        .target(name: "SRLMEngines",
                dependencies: ["SRLMStore", "SRLMExport",
                               .product(name: "AsyncHTTPClient", package: "async-http-client"),
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOHTTP1", package: "swift-nio")],
                path: "Sources/Engines"),
        // Training exports its data with the exporter.
        .target(name: "SRLMStages", dependencies: ["SRLMStore", "SRLMEngines", "SRLMExport", "SRLMMetrics"],
                path: "Sources/Stages"),
        // The paper's evaluation statistics (and srlm's seeded generator), pure and dependency-free: checked
        // against scipy.
        .target(name: "SRLMMetrics", path: "Sources/Eval/Metrics"),
        .target(name: "SRLMEval", dependencies: ["SRLMStore", "SRLMEngines", "SRLMStages", "SRLMMetrics", "SRLMReport"],
                path: "Sources/Eval", exclude: ["Metrics"]),
        // The report model and its HTML/Markdown renderers: pure functions, filled from the store by the caller.
        .target(name: "SRLMReport", dependencies: ["SRLMMetrics"], path: "Sources/Report"),
        // The loop as data: plans of stage steps, run in order (resumable, each step reused when already done).
        .target(name: "SRLMLoop", dependencies: ["SRLMStore", "SRLMEngines", "SRLMStages", "SRLMEval",
                                                 .product(name: "Yams", package: "Yams")], path: "Sources/Loop"),
        .target(name: "SRLMExport", dependencies: ["SRLMStore"], path: "Sources/Export"),
        .executableTarget(name: "CLI",
                          dependencies: ["SRLMStore", "SRLMImport", "SRLMEngines", "SRLMStages", "SRLMEval", "SRLMLoop", "SRLMExport", "SRLMReport",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          path: "Sources/CLI"),
        // Every SQLite call goes through the API table the loader hands over (sqlite3ext.h), so the extension also
        // loads into a Python whose SQLite is linked in statically (pysqlite3, under Datasette).
        .target(name: "SQLiteExtension", path: "Sources/SQLiteExtension",
                linkerSettings: [.linkedLibrary("zstd")]),
        .target(name: "SQLiteAutoExtension", dependencies: ["SQLiteExtension"], path: "Sources/SQLiteAutoExtension",
                linkerSettings: [.linkedLibrary("sqlite3")]),
        .executableTarget(name: "srlm-bench-rouge",
                          dependencies: ["SRLMStages", .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          path: "bench/rouge"),
        .executableTarget(name: "srlm-bench-store",
                          dependencies: ["SRLMStore", "SRLMImport", "SRLMExport", "SRLMStages", "SRLMEngines",
                                         .product(name: "GRDB", package: "GRDB.swift"),
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          path: "bench/store", exclude: ["datasets.py", "peers.py", "release-vs-debug.sh"]),
        .executableTarget(name: "srlm-bench-engine",
                          dependencies: ["SRLMEngines", "SRLMStages", "SRLMStore",
                                         .product(name: "GRDB", package: "GRDB.swift"),
                                         .product(name: "AsyncHTTPClient", package: "async-http-client"),
                                         .product(name: "NIOCore", package: "swift-nio"),
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          path: "bench/engine", exclude: ["distilabel_peer.py"]),
        .testTarget(name: "SRLMTests",
                    dependencies: ["SRLMStore", "SRLMImport", "SRLMEngines", "SRLMStages", "SRLMEval", "SRLMLoop", "SRLMExport",
                                   "SRLMMetrics", "SRLMReport", "CLI"],
                    path: "Tests/SRLMTests"),
    ]
)
