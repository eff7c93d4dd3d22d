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

/// Where exported lines go. The exporter calls `write` with whole lines (each ends in "\n"; many at a time), then
/// `finish()` after the last ones, or `abandon()` instead when the export fails.
public protocol ExportSink: SendableMetatype {
    mutating func write(_ lines: UnsafeRawBufferPointer) throws
    /// Flushes and publishes what was written.
    mutating func finish() throws
    /// The export failed: leave nothing half-written behind.
    mutating func abandon()
}

extension ExportSink {
    public mutating func finish() throws {}
    public mutating func abandon() {}
    public mutating func write(_ lines: Data) throws { try lines.withUnsafeBytes { try write($0) } }
}

/// Lines gathered up to `exportBufferSize` before they go to the OS; a write that big already goes straight out.
struct SinkBuffer {
    private var bytes: [UInt8] = []

    mutating func write(_ lines: UnsafeRawBufferPointer, to fd: Int32, describedAs shown: String) throws {
        if bytes.isEmpty && lines.count >= exportBufferSize { return try writeAll(fd, lines, describedAs: shown) }
        bytes.append(contentsOf: lines)
        if bytes.count >= exportBufferSize { try flush(to: fd, describedAs: shown) }
    }

    mutating func flush(to fd: Int32, describedAs shown: String) throws {
        guard !bytes.isEmpty else { return }
        try bytes.withUnsafeBytes { try writeAll(fd, $0, describedAs: shown) }
        bytes.removeAll(keepingCapacity: true)
    }

    mutating func drop() { bytes = [] }
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
    private var buffer = SinkBuffer()

    public init(path: String) {
        self.path = path
    }

    public mutating func write(_ lines: UnsafeRawBufferPointer) throws {
        let file = try openFile()
        try buffer.write(lines, to: file.fd, describedAs: path)
        file.startWriteback()
    }

    public mutating func finish() throws {
        let fd = try openFile().fd
        try buffer.flush(to: fd, describedAs: path)
        guard let file else { return }
        self.file = nil
        try file.publish(as: Self.target(path), describedAs: path)
    }

    public mutating func abandon() {
        file?.discard()
        file = nil
        buffer.drop()
    }

    /// The temporary file, created on first use (also for an export of no rows, which publishes an empty file).
    private mutating func openFile() throws -> TemporaryFile {
        if let file { return file }
        let opened = try TemporaryFile(beside: Self.target(path), describedAs: path)
        file = opened
        return opened
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
    private(set) var fd: Int32
    private let directory: String
    private var name: String?
    /// Bytes already handed to the disk's writeback (Linux), so the fsync that publishes the file waits for little.
    private var writebackStarted: Int64 = 0

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

    /// Starts writing what the file has to disk without waiting (sync_file_range), every 8 MiB: the export goes on
    /// while the disk works, instead of the whole file waiting for the final fsync.
    func startWriteback() {
        #if os(Linux)
        let end = Int64(lseek(fd, 0, SEEK_CUR))
        guard end - writebackStarted >= 8 << 20 else { return }
        _ = Self.syncFileRange?(fd, writebackStarted, end - writebackStarted, 2)  // SYNC_FILE_RANGE_WRITE
        writebackStarted = end
        #endif
    }

    #if os(Linux)
    /// glibc's sync_file_range, which Swift's Glibc module leaves out (a _GNU_SOURCE declaration).
    private typealias SyncFileRange = @convention(c) (Int32, Int64, Int64, UInt32) -> Int32
    private static let syncFileRange: SyncFileRange? = dlsym(nil, "sync_file_range").map { unsafeBitCast($0, to: SyncFileRange.self) }
    #endif

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
func writeAll(_ fd: Int32, _ raw: UnsafeRawBufferPointer, describedAs shown: String) throws {
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

/// Writes straight into a FIFO, a device or an already open descriptor (standard output): these are read as they
/// are written, so there is no temporary file to rename and lines already written stay written.
public struct StreamSink: ExportSink {
    private let shown: String
    private var fd: Int32
    private let owned: Bool
    private var buffer = SinkBuffer()

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

    public mutating func write(_ lines: UnsafeRawBufferPointer) throws {
        try buffer.write(lines, to: fd, describedAs: shown)
    }

    public mutating func finish() throws {
        try buffer.flush(to: fd, describedAs: shown)
        close()
    }

    /// Lines already flushed cannot be taken back; the rest are dropped.
    public mutating func abandon() {
        buffer.drop()
        close()
    }

    private mutating func close() {
        if owned && fd >= 0 { _ = systemClose(fd) }
        fd = -1
    }
}
