import Foundation
import SRLMStore

/// Where `srlm export -o PATH` writes, decided before a byte is written: `-` and /dev/stdout are standard output;
/// FIFOs, devices and other paths under /dev or /proc are written in place; anything else is a regular file,
/// replaced whole on success. The store itself, its -wal/-shm/-journal companions and (without `force`) any
/// existing file are refused, however the path is spelled.
public enum ExportDestination {
    public static func sink(path: String, storePath: String, force: Bool) throws -> any ExportSink {
        if path == "-" || path == "/dev/stdout" || path == "/dev/fd/1" || path == "/proc/self/fd/1" {
            return StreamSink(descriptor: 1, describedAs: "standard output")
        }
        guard !path.isEmpty else { throw SRLMError.invalid("the output path is empty (use - for standard output)") }
        try refuseStoreFiles(path, storePath: storePath)
        var info = stat()
        guard stat(path, &info) == 0 else {
            // Nothing there yet: a new regular file (unless under /dev or /proc, where nothing may be created).
            if isSpecialTree(path) { throw SRLMError.invalid("cannot write \(path): \(String(cString: strerror(errno)))") }
            return FileSink(path: path)
        }
        switch info.st_mode & S_IFMT {
        case S_IFDIR:
            throw SRLMError.invalid("\(path) is a directory: give a file name for the export")
        case S_IFREG where !isSpecialTree(path):
            guard force else { throw SRLMError.fileExists(path: path) }
            return FileSink(path: path)
        default:
            // FIFOs, character and block devices, sockets, and /proc/self/fd links: their reader is waiting.
            return try StreamSink(openingExisting: path)
        }
    }

    /// /dev and /proc name live descriptors and devices: a temporary file and a rename there would replace them.
    static func isSpecialTree(_ path: String) -> Bool {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        return absolute.hasPrefix("/dev/") || absolute.hasPrefix("/proc/")
    }

    /// Refuses `path` when it is the store or one of SQLite's files beside it, by resolved name or by identity
    /// (a hard link or bind mount has another name but the same device and inode).
    static func refuseStoreFiles(_ path: String, storePath: String) throws {
        let output = resolved(path)
        let outputID = fileID(path)
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let storeFile = storePath + suffix
            let sameName = output == resolved(storeFile)
            let sameFile = outputID != nil && outputID == fileID(storeFile)
            if sameName || sameFile {
                let what = suffix.isEmpty ? "the store" : "the store's \(suffix.dropFirst()) file"
                throw SRLMError.invalid("refusing to export to \(path): it is \(what) (\(storeFile))")
            }
        }
    }

    /// The absolute path with every symbolic link and `..` resolved; for a file not yet there, its directory's.
    static func resolved(_ path: String) -> String {
        if let real = realpath(path, nil) {
            defer { free(real) }
            return String(cString: real)
        }
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        guard let real = realpath(directory, nil) else { return url.standardizedFileURL.path }
        defer { free(real) }
        return URL(fileURLWithPath: String(cString: real)).appendingPathComponent(url.lastPathComponent).path
    }

    static func fileID(_ path: String) -> [UInt64]? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return [UInt64(info.st_dev), UInt64(info.st_ino)]
    }
}
