import Foundation
import SRLMStore

/// An input file read once: the bytes on disk (hashed into the run's config) and the text bytes, gunzipped when
/// the file starts with the gzip magic whatever its name.
struct InputFile {
    /// The file name alone: error messages and run configs stay the same wherever the file lies.
    let name: String
    let sha256: String
    let bytes: [UInt8]

    /// No line of an input may be longer: a gzip bomb or a file without newlines stops here with a clear error.
    static let maxLineBytes = 16 << 20

    /// `path` "-" reads standard input; FIFOs and devices (/dev/stdin) are read to their end like files.
    init(path: String, maxLineBytes: Int = InputFile.maxLineBytes) throws {
        name = path == "-" ? "standard input" : URL(fileURLWithPath: path).lastPathComponent
        let raw = try Self.readAll(path, name: name)
        sha256 = ContentHash(of: raw).hex
        var bytes: [UInt8]
        if Gzip.isGzip(raw) {
            do { bytes = try Gzip.decompress(Data(raw), maxLineBytes: maxLineBytes) } catch let e as GzipError {
                throw ImportError(file: name, line: e.line, message: e.message)
            }
        } else {
            bytes = raw
        }
        // A UTF-8 byte order mark is not part of the first line's text.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        self.bytes = bytes
        self.maxLineBytes = maxLineBytes
    }

    let maxLineBytes: Int

    /// The bytes of a regular file, a FIFO, a device or standard input; a directory or an unreadable path is a
    /// located error saying which.
    static func readAll(_ path: String, name: String) throws -> [UInt8] {
        if path == "-" { return [UInt8](FileHandle.standardInput.readDataToEndOfFile()) }
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw ImportError(file: name, message: "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        if info.st_mode & S_IFMT == S_IFDIR {
            throw ImportError(file: name, message: "\(path) is a directory, not a file to import")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {  // a FIFO or a device: no size to read into
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw ImportError(file: name, message: "cannot read \(path): \(String(cString: strerror(errno)))")
            }
            defer { try? handle.close() }
            do {
                return [UInt8](try handle.readToEnd() ?? Data())
            } catch {
                throw ImportError(file: name, message: "cannot read \(path): \((error as NSError).localizedDescription)")
            }
        }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw ImportError(file: name, message: "cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        // A regular file goes straight into the array its lines are cut from: no Data to copy it out of.
        var failure: Int32 = 0
        func readSome(_ into: UnsafeMutableRawPointer, _ count: Int) -> Int {
            while true {
                let n = read(fd, into, count)
                if n >= 0 { return n }
                if errno != EINTR { failure = errno; return 0 }
            }
        }
        var bytes = [UInt8](unsafeUninitializedCapacity: Int(info.st_size)) { buffer, filled in
            while filled < buffer.count {
                let n = readSome(buffer.baseAddress! + filled, buffer.count - filled)
                if n == 0 { break }
                filled += n
            }
        }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)  // a file still growing: the rest as it comes
        while failure == 0 {
            let n = chunk.withUnsafeMutableBytes { readSome($0.baseAddress!, $0.count) }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[..<n])
        }
        if failure != 0 { throw ImportError(file: name, message: "cannot read \(path): \(String(cString: strerror(failure)))") }
        return bytes
    }

    func error(_ line: Int?, _ field: String? = nil, _ message: String) -> ImportError {
        ImportError(file: name, line: line, field: field, message: message)
    }

    /// True when the first non-blank byte is `[`: one JSON array of rows rather than JSON Lines.
    var isJSONArray: Bool { bytes.first { !JSONText.isSpace($0) } == UInt8(ascii: "[") }
}

enum JSONText {
    static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }

    /// The text of `bytes`, or an error naming the line (counted from `line`) and byte of the first bad sequence.
    static func decode(_ bytes: ArraySlice<UInt8>, file: InputFile, line: Int) throws -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        loop: while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .error(let length): _ = length; break loop
            case .emptyInput: break loop
            }
        }
        let (newlines, column) = place(of: offset, in: bytes)
        throw file.error(line + newlines, nil, "invalid UTF-8 at byte \(column) of the line")
    }

    /// Where byte `offset` of `bytes` lies when they span lines (a JSON array's element): how many line ends come
    /// before it, and its 1-based byte within its own line.
    static func place(of offset: Int, in bytes: ArraySlice<UInt8>) -> (newlines: Int, column: Int) {
        let before = bytes.prefix(offset)
        let newlines = before.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        return (newlines, offset - (before.lastIndex(of: 0x0A).map { $0 - bytes.startIndex + 1 } ?? 0) + 1)
    }

    /// One JSON value (objects, arrays, strings, numbers...), or an error naming the line and byte: invalid UTF-8
    /// as such, anything else as malformed JSON.
    static func parse(_ bytes: ArraySlice<UInt8>, file: InputFile, line: Int) throws -> Any {
        do {
            return try JSONReader.parse(bytes)
        } catch {
            _ = try decode(bytes, file: file, line: line)
            let (newlines, column) = place(of: error.byte - 1, in: bytes)
            throw file.error(line + newlines, nil, "malformed JSON: \(error.message) at byte \(column) of the line")
        }
    }
}

/// The non-blank lines of a file, one at a time (line numbers are 1-based and count blank lines).
struct LineScanner {
    let file: InputFile
    private var position = 0
    private var lineNumber = 0
    /// The line that stopped the scan for being longer than `InputFile.maxLineBytes`.
    private(set) var tooLong: Int?

    init(_ file: InputFile) { self.file = file }

    /// Like `next()`, but a line over the size limit is an error naming it.
    mutating func nextChecked() throws -> (line: Int, bytes: ArraySlice<UInt8>)? {
        let line = next()
        if let tooLong {
            throw file.error(tooLong, nil, "the line is longer than \(file.maxLineBytes >> 20) MiB")
        }
        return line
    }

    mutating func next() -> (line: Int, bytes: ArraySlice<UInt8>)? {
        let bytes = file.bytes
        while position < bytes.count {
            lineNumber += 1
            let end = Self.lineEnd(bytes, from: position)
            var slice = bytes[position..<end]
            position = end + 1
            if slice.count > file.maxLineBytes { tooLong = lineNumber; return nil }
            if slice.last == 0x0D { slice = slice.dropLast() }
            if slice.allSatisfy(JSONText.isSpace) { continue }
            return (lineNumber, slice)
        }
        return nil
    }

    /// The index of the next newline at or after `start`, else `bytes.count`; memchr, not a byte loop (2 % of a
    /// large import went to finding line ends).
    static func lineEnd(_ bytes: [UInt8], from start: Int) -> Int {
        bytes.withUnsafeBufferPointer { buffer in
            guard start < buffer.count, let base = buffer.baseAddress,
                  let found = memchr(base + start, 0x0A, buffer.count - start) else { return buffer.count }
            return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
        }
    }
}

/// The JSON values of a file: one per non-blank line (JSON Lines), or the elements of one top-level JSON array,
/// each parsed on its own so a big array never becomes one huge object tree, and each with its line number.
struct RecordReader {
    let file: InputFile
    private var lines: LineScanner
    private let array: Bool
    private var position = 0
    private var line = 1
    private var started = false

    init(_ file: InputFile) {
        self.file = file
        lines = LineScanner(file)
        array = file.isJSONArray
    }

    /// The next row's line, its bytes and its value, or why that one row is not JSON (the rows after it can still be
    /// read); a file whose structure is broken (an array not closed, a line too long) throws.
    mutating func next() throws -> (line: Int, bytes: ArraySlice<UInt8>, value: Result<Any, Error>)? {
        guard let (line, bytes) = try array ? nextElement() : lines.nextChecked() else { return nil }
        return (line, bytes, Result { try JSONText.parse(bytes, file: file, line: line) })
    }

    private mutating func skipSpace() {
        let bytes = file.bytes
        while position < bytes.count, JSONText.isSpace(bytes[position]) {
            if bytes[position] == 0x0A { line += 1 }
            position += 1
        }
    }

    private mutating func nextElement() throws -> (line: Int, bytes: ArraySlice<UInt8>)? {
        let bytes = file.bytes
        skipSpace()
        if !started {
            started = true
            position += 1  // the `[` that made this an array
            skipSpace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "]") { return try end() }
        } else {
            guard position < bytes.count else { throw file.error(line, nil, "malformed JSON: the array is not closed") }
            if bytes[position] == UInt8(ascii: "]") { return try end() }
            guard bytes[position] == UInt8(ascii: ",") else {
                throw file.error(line, nil, "malformed JSON: expected ',' or ']' between array elements")
            }
            position += 1
            skipSpace()
        }
        let start = position, startLine = line
        var depth = 0, inString = false
        scan: while position < bytes.count {
            let b = bytes[position]
            if inString {
                if b == UInt8(ascii: "\\") { position += 1 } else if b == UInt8(ascii: "\"") { inString = false }
            } else {
                switch b {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1
                case UInt8(ascii: "]"), UInt8(ascii: "}"):
                    if depth == 0 { break scan }
                    depth -= 1
                case UInt8(ascii: ","): if depth == 0 { break scan }
                default: break
                }
            }
            if b == 0x0A { line += 1 }
            position += 1
        }
        guard position < bytes.count else { throw file.error(startLine, nil, "malformed JSON: the array is not closed") }
        var element = bytes[start..<position]
        while let last = element.last, JSONText.isSpace(last) { element = element.dropLast() }
        guard !element.isEmpty else { throw file.error(startLine, nil, "malformed JSON: empty array element") }
        return (startLine, element)
    }

    /// After the closing `]` only blanks may follow.
    private mutating func end() throws -> (line: Int, bytes: ArraySlice<UInt8>)? {
        position += 1
        skipSpace()
        if position < file.bytes.count {
            throw file.error(line, nil, "malformed JSON: text after the closing ']' of the array")
        }
        return nil
    }
}

/// Dotted paths into parsed JSON: `conversation.0.text` is key `conversation`, element 0, key `text`.
enum JSONPath {
    /// The value at `path`; nil when any step is missing. JSON null counts as missing.
    static func lookup(_ value: Any, _ path: String) -> Any? {
        if !path.utf8.contains(UInt8(ascii: ".")), let object = value as? [String: Any] { return key(path, in: object) }
        return walk(value, path)
    }

    /// `lookup` in a value already known to be an object (a record's row).
    static func lookup(in object: [String: Any], _ path: String) -> Any? {
        path.utf8.contains(UInt8(ascii: ".")) ? walk(object, path) : key(path, in: object)
    }

    /// One key, the common case: no splitting (a tenth of a TRL import's record handling went there).
    private static func key(_ key: String, in object: [String: Any]) -> Any? {
        object[key].flatMap { isNull($0) ? nil : $0 }
    }

    private static func walk(_ value: Any, _ path: String) -> Any? {
        var current: Any = value
        for step in path.split(separator: ".", omittingEmptySubsequences: false) {
            if let object = current as? [String: Any], let next = object[String(step)] {
                current = next
            } else if let array = current as? [Any], let index = Int(step), array.indices.contains(index) {
                current = array[index]
            } else {
                return nil
            }
        }
        return isNull(current) ? nil : current
    }

    /// `value is NSNull` and `value as? NSNumber` without their cost on containers: Foundation answers a class
    /// check on a Swift array or dictionary by bridging it, elements and all, to NSArray/NSDictionary first (that
    /// was a third of an import's time). Parsed JSON is only ever String, NSNumber, NSNull, [Any] or [String: Any].
    static func isNull(_ value: Any) -> Bool { !isNative(value) && value is NSNull }

    static func number(_ value: Any) -> NSNumber? { isNative(value) ? nil : value as? NSNumber }

    private static func isNative(_ value: Any) -> Bool { value is String || value is [Any] || value is [String: Any] }

    /// The JSON type of a parsed value, for messages like "expected a string, found a number".
    static func typeName(_ value: Any) -> String {
        switch value {
        case is String: return "a string"
        case is [Any]: return "an array"
        case is [String: Any]: return "an object"
        case let n as NSNumber: return String(cString: n.objCType) == "c" ? "a boolean" : "a number"
        case is NSNull: return "null"
        default: return "\(type(of: value))"
        }
    }
}
