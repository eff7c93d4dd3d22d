import CZlib
import Foundation

/// gzip decompression through the system zlib, so `.jsonl.gz` files import without unpacking them first.
enum Gzip {
    static func isGzip(_ bytes: [UInt8]) -> Bool { bytes.starts(with: [0x1f, 0x8b]) }

    /// Inflates every gzip member in `data` (concatenated members are legal gzip, e.g. from `cat a.gz b.gz`).
    /// Stops as soon as a line grows past `maxLineBytes`, before the rest is inflated.
    static func decompress(_ data: Data, maxLineBytes: Int = .max) throws -> [UInt8] {
        var output = [UInt8]()
        output.reserveCapacity(data.count * 4)
        var stream = z_stream()
        // 15 + 32: maximum window, detect the gzip/zlib header automatically.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw GzipError(message: "zlib could not start")
        }
        defer { inflateEnd(&stream) }
        let chunk = 1 << 16
        var buffer = [UInt8](repeating: 0, count: chunk)
        var line = 1, lineLength = 0
        func track(_ bytes: ArraySlice<UInt8>) throws {
            for byte in bytes {
                if byte == 0x0A { line += 1; lineLength = 0; continue }
                lineLength += 1
                if lineLength > maxLineBytes {
                    throw GzipError(message: "the line is longer than \(maxLineBytes >> 20) MiB once inflated", line: line)
                }
            }
        }
        try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            guard let base = input.bindMemory(to: Bytef.self).baseAddress else { return }
            stream.next_in = UnsafeMutablePointer(mutating: base)
            stream.avail_in = uInt(input.count)
            while true {
                let status = buffer.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(chunk)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let inflated = buffer[0..<(chunk - Int(stream.avail_out))]
                if maxLineBytes < .max { try track(inflated) }
                output.append(contentsOf: inflated)
                switch status {
                case Z_OK:
                    continue
                case Z_STREAM_END:
                    if stream.avail_in == 0 { return }
                    // Another member follows.
                    guard inflateReset(&stream) == Z_OK else { throw GzipError(message: "zlib could not reset") }
                case Z_BUF_ERROR where stream.avail_in == 0:
                    throw GzipError(message: "truncated gzip data")
                default:
                    let detail = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                    throw GzipError(message: "corrupt gzip data (\(detail))")
                }
            }
        }
        return output
    }
}

struct GzipError: Error {
    let message: String
    var line: Int? = nil
}
