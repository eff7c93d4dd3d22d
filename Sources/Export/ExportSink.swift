import Foundation
import SRLMStore
#if canImport(Glibc)
import Glibc
private let systemWrite = Glibc.write
private let systemClose = Glibc.close
#elseif canImport(Darwin)
import Darwin
private let systemWrite = Darwin.write
private let systemClose = Darwin.close
#endif

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
/// leaves a half-written file (and never clobbers an existing one). On Linux the temporary file is anonymous
/// (O_TMPFILE) until `finish()` links it in, so even a killed export leaves nothing behind. A `path` that is a
/// symbolic link to a file has that file replaced, not the link. Only for regular files: see `ExportDestination`.
public struct FileSink: ExportSink {
    public let path: String
    private var file: TemporaryFile?
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
        guard let file else { return }
        self.file = nil
        try file.publish(as: Self.target(path), describedAs: path)
    }

    public mutating func abandon() {
        file?.discard()
        file = nil
        buffer = Data()
    }

    private mutating func flush() throws {
        if file == nil { file = try TemporaryFile(beside: Self.target(path), describedAs: path) }
        guard !buffer.isEmpty, let file else { return }
        try file.write(buffer, describedAs: path)
        buffer.removeAll(keepingCapacity: true)
    }

    /// The file a rename must replace: the end of a chain of symbolic links, else `path` itself.
    static func target(_ path: String) -> String {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFLNK, let real = realpath(path, nil) else { return path }
        defer { free(real) }
        return String(cString: real)
    }
}

/// The file descriptor of an export in progress and, when it has one, its temporary name.
final class TemporaryFile {
    private var fd: Int32
    private let directory: String
    private var name: String?

    init(beside target: String, describedAs shown: String) throws {
        let url = URL(fileURLWithPath: target)
        directory = url.deletingLastPathComponent().path
        #if os(Linux)
        // O_TMPFILE (not exported to Swift as one constant): __O_TMPFILE | O_DIRECTORY.
        let anonymous = open(directory, O_WRONLY | O_CLOEXEC | 0o20000000 | O_DIRECTORY, 0o644)
        if anonymous >= 0 {
            fd = anonymous
            return
        }
        #endif
        let temp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString.prefix(8)).tmp").path
        fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw SRLMError.invalid("cannot create \(shown): is \(directory) an existing, writable directory? (\(String(cString: strerror(errno))))")
        }
        name = temp
    }

    func write(_ data: Data, describedAs shown: String) throws {
        try writeAll(fd, data, describedAs: shown)
    }

    /// Syncs the bytes and renames them over `target`: readers see the old file or the whole new one.
    func publish(as target: String, describedAs shown: String) throws {
        defer { discard() }
        guard fsync(fd) == 0 else { throw SRLMError.invalid("cannot write \(shown): \(String(cString: strerror(errno)))") }
        if name == nil {
            let temp = directory + "/.\(URL(fileURLWithPath: target).lastPathComponent).\(UUID().uuidString.prefix(8)).tmp"
            guard linkat(AT_FDCWD, "/proc/self/fd/\(fd)", AT_FDCWD, temp, AT_SYMLINK_FOLLOW) == 0 else {
                throw SRLMError.invalid("cannot create \(shown): \(String(cString: strerror(errno)))")
            }
            name = temp
        }
        guard let name, rename(name, target) == 0 else {
            throw SRLMError.invalid("cannot move the export into place at \(shown): \(String(cString: strerror(errno)))")
        }
        self.name = nil
    }

    /// Closes the descriptor and removes the temporary name, if any.
    func discard() {
        if fd >= 0 { close(fd); fd = -1 }
        if let name { unlink(name) }
        name = nil
    }

    deinit { discard() }
}

/// write(2) until every byte is out (pipes take partial writes), retrying on EINTR.
func writeAll(_ fd: Int32, _ data: Data, describedAs shown: String) throws {
    try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
        guard var at = raw.baseAddress else { return }
        var left = raw.count
        while left > 0 {
            let n = systemWrite(fd, at, left)
            if n < 0 {
                if errno == EINTR { continue }
                throw SRLMError.invalid("cannot write \(shown): \(String(cString: strerror(errno)))")
            }
            at += n
            left -= n
        }
    }
}

/// Writes straight into a FIFO, a device or an already open descriptor (standard output): these are read as they
/// are written, so there is no temporary file to rename and lines already written stay written.
public struct StreamSink: ExportSink {
    private let shown: String
    private var fd: Int32
    private let owned: Bool
    private var buffer = Data()

    /// Opens `path` for writing without creating or truncating it (a FIFO blocks until its reader opens it).
    public init(openingExisting path: String) throws {
        let fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { throw SRLMError.invalid("cannot open \(path) for writing: \(String(cString: strerror(errno)))") }
        self.fd = fd
        owned = true
        shown = path
    }

    /// Writes to a descriptor the process already has (1: standard output), which stays open.
    public init(descriptor: Int32, describedAs shown: String) {
        fd = descriptor
        owned = false
        self.shown = shown
    }

    public mutating func write(_ line: Data) throws {
        buffer.append(line)
        if buffer.count >= exportBufferSize { try flush() }
    }

    public mutating func finish() throws {
        try flush()
        close()
    }

    /// Lines already flushed cannot be taken back; the rest are dropped.
    public mutating func abandon() {
        buffer = Data()
        close()
    }

    private mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        try writeAll(fd, buffer, describedAs: shown)
        buffer.removeAll(keepingCapacity: true)
    }

    private mutating func close() {
        if owned && fd >= 0 { _ = systemClose(fd) }
        fd = -1
    }
}
