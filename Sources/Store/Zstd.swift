import CZstd
import Foundation

/// Thin wrappers over libzstd: one-shot compression of a pack (optionally with a trained dictionary) and
/// dictionary training. Decompression lives in the SQL function (Sources/SQLiteExtension), the one reader.
public enum Zstd {
    /// The linked libzstd's version, e.g. "1.5.4".
    public static var version: String { String(cString: ZSTD_versionString()) }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Compresses `input` as one frame with its content size and checksum, so readers can detect corruption (with a
    /// dictionary: `DictionaryCompressor`).
    /// `longRange`: long-distance matching with a window spanning the whole input (at most 2^27 bytes, the most a
    /// default decoder accepts), so a text repeated anywhere in the frame costs a reference.
    public static func compress(_ input: Data, level: Int32 = 9, longRange: Bool = false) throws -> Data {
        guard let cctx = ZSTD_createCCtx() else { throw Failure(description: "zstd: cannot create a context") }
        defer { ZSTD_freeCCtx(cctx) }
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)
        if longRange {
            var windowLog: Int32 = 20
            while windowLog < 27 && (1 << windowLog) < input.count { windowLog += 1 }
            ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, windowLog)
            ZSTD_CCtx_setParameter(cctx, ZSTD_c_enableLongDistanceMatching, 1)
        }
        return try frame(cctx, input)
    }

    /// One frame of `input` from a configured context.
    static func frame(_ cctx: OpaquePointer, _ input: Data) throws -> Data {
        let bound = ZSTD_compressBound(input.count)
        var output = Data(count: bound)
        let written = output.withUnsafeMutableBytes { out in
            input.withUnsafeBytes { inp in
                ZSTD_compress2(cctx, out.baseAddress, bound, inp.baseAddress, inp.count)
            }
        }
        if ZSTD_isError(written) != 0 {
            throw Failure(description: "zstd: " + String(cString: ZSTD_getErrorName(written)))
        }
        output.count = written
        return output
    }

    /// One compression context with a dictionary loaded once, reused for every frame: loading a dictionary builds
    /// its tables, which at a high level cost far more than compressing one small pack (a journaled answer).
    public final class DictionaryCompressor: @unchecked Sendable {
        private let cctx: OpaquePointer
        private let lock = NSLock()

        public init(dictionary: Data, level: Int32) throws {
            guard let cctx = ZSTD_createCCtx() else { throw Failure(description: "zstd: cannot create a context") }
            self.cctx = cctx
            ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)
            ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)
            let rc = dictionary.withUnsafeBytes { ZSTD_CCtx_loadDictionary(cctx, $0.baseAddress, $0.count) }
            if ZSTD_isError(rc) != 0 {
                ZSTD_freeCCtx(cctx)
                throw Failure(description: "zstd: " + String(cString: ZSTD_getErrorName(rc)))
            }
        }

        deinit { ZSTD_freeCCtx(cctx) }

        public func compress(_ input: Data) throws -> Data {
            try lock.withLock { try Zstd.frame(cctx, input) }
        }
    }

    /// Trains a dictionary from sample texts (ZDICT_trainFromBuffer); nil when the samples are too few or too alike.
    public static func trainDictionary(samples: [Data], capacity: Int = 64 * 1024) -> Data? {
        guard samples.count >= 64 else { return nil }
        var joined = Data()
        var sizes = [Int]()
        for s in samples where !s.isEmpty {
            joined.append(s)
            sizes.append(s.count)
        }
        var dictionary = Data(count: capacity)
        let size = dictionary.withUnsafeMutableBytes { dict in
            joined.withUnsafeBytes { buf in
                ZDICT_trainFromBuffer(dict.baseAddress, capacity, buf.baseAddress, sizes, UInt32(sizes.count))
            }
        }
        if ZDICT_isError(size) != 0 { return nil }
        dictionary.count = size
        return dictionary
    }
}
