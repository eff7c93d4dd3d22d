import Foundation
import SRLMStore

/// Where exported lines go. The exporter calls `write` once per line (each ends in "\n"), then `finish()` after the
/// last one, or `abandon()` instead when the export fails.
public protocol ExportSink {
    mutating func write(_ line: Data) throws
    /// Flushes and publishes what was written.
    mutating func finish() throws
    /// The export failed: leave nothing half-written behind.
    mutating func abandon()
}

extension ExportSink {
    public mutating func finish() throws {}
    public mutating func abandon() {}
}

/// Buffered size before a sink hands bytes to the OS.
let exportBufferSize = 1 << 20

/// Writes to a temporary file beside `path` and renames it over `path` on `finish()`, so a failed export never
/// leaves a half-written file (and never clobbers an existing one). The temporary file is made on the first write.
public struct FileSink: ExportSink {
    public let path: String
    private var temporary: String?
    private var handle: FileHandle?
    private var buffer = Data()

    public init(path: String) {
        self.path = path
    }

    public mutating func write(_ line: Data) throws {
        buffer.append(line)
        if buffer.count >= exportBufferSize { try flush() }
    }

    public mutating func finish() throws {
        try flush()
        guard let handle, let temporary else { return }
        do {
            try handle.synchronize()
            try handle.close()
        } catch {
            throw SRLMError.invalid("cannot write \(path): \(error.localizedDescription)")
        }
        self.handle = nil
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            self.temporary = nil
            throw SRLMError.invalid("cannot move the export into place at \(path): \(reason)")
        }
        self.temporary = nil
    }

    public mutating func abandon() {
        try? handle?.close()
        handle = nil
        if let temporary { try? FileManager.default.removeItem(atPath: temporary) }
        temporary = nil
        buffer = Data()
    }

    private mutating func flush() throws {
        if handle == nil { try open() }
        guard !buffer.isEmpty, let handle else { return }
        do {
            try handle.write(contentsOf: buffer)
        } catch {
            throw SRLMError.invalid("cannot write \(path): \(error.localizedDescription)")
        }
        buffer.removeAll(keepingCapacity: true)
    }

    private mutating func open() throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent()
        let temp = directory.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString.prefix(8)).tmp").path
        guard FileManager.default.createFile(atPath: temp, contents: nil),
              let handle = FileHandle(forWritingAtPath: temp) else {
            throw SRLMError.invalid("cannot create \(path): is \(directory.path) an existing, writable directory?")
        }
        self.temporary = temp
        self.handle = handle
    }
}

/// Writes to standard output through a 1 MB buffer.
public struct StandardOutputSink: ExportSink {
    private var buffer = Data()

    public init() {}

    public mutating func write(_ line: Data) throws {
        buffer.append(line)
        if buffer.count >= exportBufferSize { try flush() }
    }

    public mutating func finish() throws { try flush() }

    /// Lines already flushed cannot be taken back; the rest are dropped.
    public mutating func abandon() { buffer = Data() }

    private mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        try FileHandle.standardOutput.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}
