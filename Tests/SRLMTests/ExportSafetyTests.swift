import Foundation
import GRDB
import Testing
@testable import CLI
@testable import SRLMExport
@testable import SRLMStore

/// Runs the built srlm binary with optional standard input; returns its exit status and output (stdout + stderr).
enum CLI {
    @discardableResult
    static func srlm(_ arguments: [String], stdin: Data? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: EngineSupport.srlmBinary)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let input = Pipe()
        process.standardInput = input
        try process.run()
        // Fed from another thread: a big input would otherwise fill the pipe while nobody reads the output.
        let feeder = Thread {
            if let stdin { input.fileHandleForWriting.write(stdin) }
            try? input.fileHandleForWriting.close()
        }
        feeder.start()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}

/// `srlm export -o PATH`: never over the store, never over a file without --force, into FIFOs and devices as
/// they are, and no temporary file left behind.
@Suite struct ExportSafetyTests {
    func storeWithPairs() throws -> (Store, DatasetVersion, URL) {
        let store = try TestSupport.makeStore()
        let version = try writeSamplePairs(store, count: 5)
        return (store, version, URL(fileURLWithPath: store.path).deletingLastPathComponent())
    }

    @Test func theStoreAndItsCompanionFilesAreRefusedHoweverSpelled() throws {
        let (store, version, dir) = try storeWithPairs()
        let fm = FileManager.default
        try fm.createDirectory(at: dir.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: dir.appendingPathComponent("link.sqlite").path, withDestinationPath: store.path)
        try fm.linkItem(atPath: store.path, toPath: dir.appendingPathComponent("hard.sqlite").path)
        // From the working directory up to / and down again: a relative spelling of the same file.
        let depth = fm.currentDirectoryPath.split(separator: "/").count
        let relative = String(repeating: "../", count: depth) + store.path.dropFirst()
        let spellings = [store.path, dir.path + "/./srlm.sqlite", dir.path + "/sub/../srlm.sqlite", relative,
                         dir.appendingPathComponent("link.sqlite").path, dir.appendingPathComponent("hard.sqlite").path,
                         store.path + "-wal", store.path + "-shm", dir.path + "/sub/../srlm.sqlite-wal"]
        for path in spellings {
            let error = #expect(throws: SRLMError.self, "\(path)") {
                try ExportDestination.sink(path: path, storePath: store.path, force: true)
            }
            #expect(error?.description.contains("refusing to export") == true, "\(path): \(String(describing: error))")
        }
        #expect(try Fsck.run(store).ok)
        #expect(try store.read { try DatasetVersion.resolve($0, version.ref, experiment: "default") } == version)
    }

    @Test func theCLIRefusesToExportOverItsStoreAndExitsNonZero() throws {
        let (store, _, dir) = try storeWithPairs()
        try store.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: store.path))
        for output in [store.path, dir.path + "/./srlm.sqlite", store.path + "-wal"] {
            let (status, text) = try CLI.srlm(["export", "pairs", "--format", "trl", "-o", output, "--store", store.path])
            #expect(status != 0 && text.contains("refusing to export"), "\(output): \(text)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: store.path)) == before)
        #expect(try Fsck.run(path: store.path).ok)
    }

    @Test func anExistingFileIsReplacedOnlyWithForce() throws {
        let (store, version, dir) = try storeWithPairs()
        let path = dir.appendingPathComponent("out.jsonl").path
        try Data("keep me\n".utf8).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: SRLMError.self) { try ExportDestination.sink(path: path, storePath: store.path, force: false) }
        #expect(error == .fileExists(path: path) && SRLM.hint(for: error!)?.contains("--force") == true)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "keep me\n")
        let sink = try ExportDestination.sink(path: path, storePath: store.path, force: true)
        #expect(try Exporter.run(store, version: version, format: .trl, to: sink) == 5)
        #expect(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count == 5)
        #expect(throws: SRLMError.self) { try ExportDestination.sink(path: dir.path, storePath: store.path, force: true) }
    }

    @Test func aFIFOIsWrittenIntoNotReplaced() throws {
        let (store, version, dir) = try storeWithPairs()
        let fifo = dir.appendingPathComponent("pipe.jsonl").path
        #expect(mkfifo(fifo, 0o600) == 0)
        final class Box: @unchecked Sendable { var data = Data() }
        let box = Box(), done = DispatchSemaphore(value: 0)
        Thread {
            box.data = FileHandle(forReadingAtPath: fifo)?.readDataToEndOfFile() ?? Data()
            done.signal()
        }.start()
        let sink = try ExportDestination.sink(path: fifo, storePath: store.path, force: false)
        #expect(try Exporter.run(store, version: version, format: .trl, to: sink) == 5)
        // A replaced FIFO never gets a writer: its reader would wait forever.
        #expect(done.wait(timeout: .now() + 30) == .success, "the FIFO's reader got nothing")
        #expect(box.data.split(separator: UInt8(ascii: "\n")).count == 5)
        var info = stat()
        #expect(lstat(fifo, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO, "the FIFO was replaced")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tmp") }.isEmpty)
    }

    @Test func aCharacterDeviceStaysADevice() throws {
        let (store, version, dir) = try storeWithPairs()
        // A null device (1, 3) of our own where we may make one (root), so a regression replaces only that; elsewhere
        // /dev/null, which an unprivileged rename cannot replace.
        let own = dir.appendingPathComponent("null").path
        let device = mknod(own, S_IFCHR | 0o666, dev_t(1 << 8 | 3)) == 0 ? own : "/dev/null"
        let sink = try ExportDestination.sink(path: device, storePath: store.path, force: false)
        #expect(try Exporter.run(store, version: version, format: .trl, to: sink) == 5)
        var info = stat()
        #expect(stat(device, &info) == 0 && info.st_mode & S_IFMT == S_IFCHR, "\(device) is no longer a device")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tmp") }.isEmpty)
    }

    @Test func standardOutputIsWrittenThroughTheDescriptorTheReaderHolds() throws {
        let (store, _, _) = try storeWithPairs()
        try store.close()
        // /dev/fd/1 rather than /dev/stdout here: a regression that renamed over it could not replace /proc.
        for output in ["-", "/dev/fd/1"] {
            let (status, text) = try CLI.srlm(["export", "pairs", "--format", "trl", "-o", output, "--store", store.path])
            #expect(status == 0, "\(text)")
            #expect(text.split(separator: "\n").filter { $0.hasPrefix("{\"chosen\"") }.count == 5, "\(output): \(text)")
        }
        for output in ["/dev/stdout", "/dev/stderr", "/proc/self/fd/1"] {
            #expect(try ExportDestination.sink(path: output, storePath: store.path, force: false) is StreamSink, "\(output)")
        }
    }

    /// A kill cannot be caught: the export in progress has no name in the directory until it is complete.
    @Test func anExportInProgressLeavesNoTemporaryFileToOrphan() throws {
        let dir = TestSupport.temporaryDirectory("export")
        var sink = FileSink(path: dir.appendingPathComponent("big.jsonl").path)
        let line = Data((String(repeating: "x", count: 1023) + "\n").utf8)
        for _ in 0..<(2 * exportBufferSize / line.count) { try sink.write(line) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == [], "a temporary file is visible mid-export")
        try sink.finish()
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["big.jsonl"])
        #expect(try Data(contentsOf: dir.appendingPathComponent("big.jsonl")).count == 2 * exportBufferSize / line.count * line.count)
    }

    @Test func aSymbolicLinkToAFileKeepsBeingALink() throws {
        let (store, version, dir) = try storeWithPairs()
        let target = dir.appendingPathComponent("real.jsonl").path, link = dir.appendingPathComponent("link.jsonl").path
        try Data("old\n".utf8).write(to: URL(fileURLWithPath: target))
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        _ = try Exporter.run(store, version: version, format: .trl, to: try ExportDestination.sink(path: link, storePath: store.path, force: true))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == target)
        #expect(try String(contentsOfFile: target, encoding: .utf8).split(separator: "\n").count == 5)
    }

    /// A row edited behind srlm's back (any SQLite client that drops the seal) makes the export fail, not ship.
    @Test func anEditedRowFailsTheExportAndPublishesNothing() throws {
        let (store, version, dir) = try storeWithPairs()
        try store.write { db in
            try db.execute(sql: "DROP TRIGGER IF EXISTS pair_frozen")
            try db.execute(sql: "UPDATE pair SET chosen = rejected WHERE version_id = ? AND ord = 2", arguments: [version.id])
        }
        let path = dir.appendingPathComponent("edited.jsonl").path
        let error = #expect(throws: SRLMError.self) {
            try Exporter.run(store, version: version, format: .trl, to: FileSink(path: path))
        }
        #expect(error?.description.contains("content hash") == true, "\(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
