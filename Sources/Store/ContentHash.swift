import Crypto
import Foundation

/// SHA-256 of raw bytes: the address of a blob, the identity of a row, the fingerprint of a version.
public struct ContentHash: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let bytes: Data

    public init(bytes: Data) {
        precondition(bytes.count == 32, "a content hash is 32 bytes")
        self.bytes = bytes
    }

    public init(of data: some DataProtocol) {
        self.bytes = Data(SHA256.hash(data: data))
    }

    /// The contiguous cases without the generic path: imports, exports and diffs hash every text, and the generic
    /// `DataProtocol` walk (runtime metadata lookups, a byte-by-byte digest copy) cost twice the SHA-256 itself.
    public init(of data: Data) {
        self.bytes = data.withUnsafeBytes { Self.digest($0) }
    }

    public init(of bytes: [UInt8]) {
        self.bytes = bytes.withUnsafeBytes { Self.digest($0) }
    }

    private static func digest(_ buffer: UnsafeRawBufferPointer) -> Data {
        var hasher = SHA256()
        hasher.update(bufferPointer: buffer)
        return hasher.finalize().withUnsafeBytes { Data($0) }
    }

    public init?(hex: String) {
        guard hex.utf8.count == 64, let data = Data(hexString: hex) else { return nil }
        self.bytes = data
    }

    public var hex: String { bytes.hexString }
    /// The first 8 bytes as a number: a blob's key in its pack (schema/001_store.sql).
    public var key: Int64 {
        bytes.withUnsafeBytes { Int64(bitPattern: UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self))) }
    }
    public var short: String { String(hex.prefix(12)) }
    public var description: String { hex }

    public static func < (a: ContentHash, b: ContentHash) -> Bool {
        a.bytes.lexicographicallyPrecedes(b.bytes)
    }
}

/// Incremental SHA-256 for hashes built from several fields.
public struct Hasher256 {
    private var inner = SHA256()
    public init() {}
    public mutating func update(_ data: some DataProtocol) { inner.update(data: data) }
    public mutating func update(_ string: String) { inner.update(data: Data(string.utf8)) }
    public mutating func finish() -> ContentHash { ContentHash(bytes: Data(inner.finalize())) }
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
