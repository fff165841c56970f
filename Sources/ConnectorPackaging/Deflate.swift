import CConnectorZlib

/// A zlib failure: the call, its result code and zlib's message.
public struct ZlibError: Error, Sendable, CustomStringConvertible {
    public let call: String
    public let code: Int32
    public let message: String

    public var description: String { "zlib \(call) failed (\(code)): \(message)" }
}

/// CRC-32 (the zip format's checksum), through zlib.
public struct CRC32: Sendable {
    public private(set) var value: UInt32 = 0

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        var offset = 0
        // zlib takes a 32-bit length.
        while offset < bytes.count {
            let count = min(bytes.count - offset, 1 << 30)
            value = UInt32(
                crc32(UInt(value), (base + offset).assumingMemoryBound(to: Bytef.self), uInt(count)))
            offset += count
        }
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc = CRC32()
        bytes.withUnsafeBytes { crc.update($0) }
        return crc.value
    }
}

/// A raw deflate stream (RFC 1951, no zlib header), as zip entries store it.
///
/// Deterministic for a given zlib: level 6, window 2^15, memory level 8, default strategy. Not
/// Sendable: one stream is confined to the thread writing the archive.
final class Deflater {
    private var stream = z_stream()
    private var output = [UInt8](repeating: 0, count: 64 << 10)

    /// The compression level packages use (zlib's default).
    static let level: Int32 = 6

    init() throws(ZlibError) {
        let status = cconnector_deflate_init_raw(&stream, Self.level)
        guard status == Z_OK else { throw ZlibError(call: "deflateInit2", code: status, message: "cannot start compressing") }
    }

    deinit { deflateEnd(&stream) }

    /// Compresses `input`; with `finish`, ends the stream. Compressed bytes go to `sink` as they come.
    func compress(_ input: UnsafeRawBufferPointer, finish: Bool, sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        let flush = finish ? Z_FINISH : Z_NO_FLUSH
        while true {
            let (status, produced) = output.withUnsafeMutableBytes { raw -> (Int32, Int) in
                stream.next_out = raw.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(raw.count)
                let status = deflate(&stream, flush)
                return (status, raw.count - Int(stream.avail_out))
            }
            guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else {
                throw ZlibError(call: "deflate", code: status, message: stream.msg.map { String(cString: $0) } ?? "stream error")
            }
            if produced > 0 { try output.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) } }
            if finish {
                if status == Z_STREAM_END { return }
            } else if stream.avail_in == 0 && produced < output.count {
                return
            }
        }
    }
}

/// A raw inflate stream that refuses to produce more than a known number of bytes, so that a
/// hostile archive cannot make a small entry expand without bound. Not Sendable: confined to the
/// thread reading the archive.
final class Inflater {
    private var stream = z_stream()
    private var output = [UInt8](repeating: 0, count: 64 << 10)
    /// Whether the deflate stream has ended.
    private(set) var finished = false

    init() throws(ZlibError) {
        let status = cconnector_inflate_init_raw(&stream)
        guard status == Z_OK else { throw ZlibError(call: "inflateInit2", code: status, message: "cannot start decompressing") }
    }

    deinit { inflateEnd(&stream) }

    /// Decompresses `input`, passing the output to `sink`. Returns how many input bytes were used
    /// (fewer than given once the stream ends).
    func decompress(_ input: UnsafeRawBufferPointer, sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        guard !finished else { return 0 }
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        while true {
            let (status, produced) = output.withUnsafeMutableBytes { raw -> (Int32, Int) in
                stream.next_out = raw.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(raw.count)
                let status = inflate(&stream, Z_NO_FLUSH)
                return (status, raw.count - Int(stream.avail_out))
            }
            switch status {
            case Z_OK, Z_STREAM_END, Z_BUF_ERROR: break
            default:
                throw ZlibError(call: "inflate", code: status, message: stream.msg.map { String(cString: $0) } ?? "invalid deflate data")
            }
            if produced > 0 { try output.withUnsafeBytes { try sink(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) } }
            if status == Z_STREAM_END {
                finished = true
                return input.count - Int(stream.avail_in)
            }
            if stream.avail_in == 0 && produced < output.count { return input.count }
            if status == Z_BUF_ERROR && produced == 0 { return input.count - Int(stream.avail_in) }
        }
    }
}

/// The zlib library's version, for messages and the format's notes on determinism.
public let zlibVersionString: String = String(cString: zlibVersion())
