import Crypto
import Foundation

/// SHA-256 of raw bytes: the address of a blob, the identity of a row, the fingerprint of a version. Held as four
/// words, not `Data`: a store write keeps one per row and per new text, and a `Data` of 32 bytes is a heap object.
public struct ContentHash: Hashable, Comparable, Sendable, CustomStringConvertible {
    let words: Hash32

    public init(bytes: Data) {
        precondition(bytes.count == 32, "a content hash is 32 bytes")
        words = Hash32(bytes)!
    }

    init(_ words: Hash32) { self.words = words }

    public init(of data: some DataProtocol) {
        words = Hash32(SHA256.hash(data: data))
    }

    /// The contiguous cases without the generic path: imports, exports and diffs hash every text, and the generic
    /// `DataProtocol` walk (runtime metadata lookups, a byte-by-byte digest copy) cost twice the SHA-256 itself.
    public init(of data: Data) {
        words = data.withUnsafeBytes { Self.digest($0) }
    }

    public init(of bytes: [UInt8]) {
        words = bytes.withUnsafeBytes { Self.digest($0) }
    }

    public init(of buffer: UnsafeRawBufferPointer) {
        words = Self.digest(buffer)
    }

    static func digest(_ buffer: UnsafeRawBufferPointer) -> Hash32 {
        var hasher = SHA256()
        hasher.update(bufferPointer: buffer)
        return Hash32(hasher.finalize())
    }

    /// The 32 bytes.
    public var bytes: Data {
        var out = [UInt8]()
        out.reserveCapacity(32)
        words.append(to: &out)
        return Data(out)
    }

    public init?(hex: String) {
        guard hex.utf8.count == 64, let data = Data(hexString: hex) else { return nil }
        words = Hash32(data)!
    }

    public var hex: String { words.hex }
    /// The first 8 bytes as a number: a blob's key in its pack (schema/001_store.sql).
    public var key: Int64 { Int64(bitPattern: words.a) }
    /// Whether `key` (8 bytes, as a pack stores it) is this hash's key.
    public func hasKey(_ key: Data) -> Bool { key.withUnsafeBytes(hasKey) }

    public func hasKey(_ key: UnsafeRawBufferPointer) -> Bool { Self.key(stored: key) == self.key }

    /// A key as a pack stores it (8 bytes, big-endian) as a number; nil when it is not 8 bytes.
    public static func key(stored bytes: UnsafeRawBufferPointer) -> Int64? {
        bytes.count == 8 ? Int64(bitPattern: UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self))) : nil
    }
    public var short: String { String(hex.prefix(12)) }
    public var description: String { hex }

    /// Byte order.
    public static func < (a: ContentHash, b: ContentHash) -> Bool { a.words < b.words }
}

/// A SHA-256 as four big-endian words: compares in byte order, and far faster than `Data`.
struct Hash32: Comparable, Hashable {
    let a: UInt64, b: UInt64, c: UInt64, d: UInt64

    init(a: UInt64, b: UInt64, c: UInt64, d: UInt64) { (self.a, self.b, self.c, self.d) = (a, b, c, d) }

    init(_ digest: SHA256.Digest) { self = digest.withUnsafeBytes(Hash32.init(words:)) }

    init?(_ data: Data) {
        guard data.count == 32 else { return nil }
        self = data.withUnsafeBytes(Hash32.init(words:))
    }

    /// The four big-endian words of 32 bytes.
    private init(words p: UnsafeRawBufferPointer) {
        func word(_ n: Int) -> UInt64 { UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 8 * n, as: UInt64.self)) }
        (a, b, c, d) = (word(0), word(1), word(2), word(3))
    }

    /// The 32 bytes again, in order.
    func append(to bytes: inout [UInt8]) {
        withUnsafeBytes(of: (a.bigEndian, b.bigEndian, c.bigEndian, d.bigEndian)) { bytes.append(contentsOf: $0) }
    }

    static func < (l: Hash32, r: Hash32) -> Bool { (l.a, l.b, l.c, l.d) < (r.a, r.b, r.c, r.d) }

    var hex: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        append(to: &bytes)
        return Data(bytes).hexString
    }
}

/// `String(value)`'s bytes without making the String: row hashes and diffs write an integer for every row.
public enum DecimalDigits {
    public static func append(_ value: Int64, to buffer: inout [UInt8]) {
        if value < 0 { buffer.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = 20
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            buffer.append(contentsOf: digits[start...])
        }
    }
}

/// Incremental SHA-256 for hashes built from several fields.
public struct Hasher256 {
    private var inner = SHA256()
    public init() {}
    public mutating func update(_ data: some DataProtocol) { inner.update(data: data) }
    public mutating func update(_ string: String) { inner.update(data: Data(string.utf8)) }
    public mutating func finish() -> ContentHash { ContentHash(Hash32(inner.finalize())) }
}

extension Data {
    private static let hexDigits = Array("0123456789abcdef".utf8)

    public var hexString: String {
        var out = [UInt8]()
        out.reserveCapacity(count * 2)
        for byte in self {
            out.append(Data.hexDigits[Int(byte >> 4)])
            out.append(Data.hexDigits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public init?(hexString: String) {
        var out = Data()
        out.reserveCapacity(hexString.utf8.count / 2)
        var high: UInt8?
        for c in hexString.utf8 {
            let v: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): v = c - UInt8(ascii: "A") + 10
            default: return nil
            }
            if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
        }
        guard high == nil else { return nil }
        self = out
    }
}
