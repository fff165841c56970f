import Foundation

@testable import ConnectorPackaging

/// Builds zip archives byte by byte, including broken and hostile ones the writer refuses to make.
struct RawZip {
    struct Entry {
        var name: String
        var data: [UInt8]
        /// What the headers declare; by default the truth about `data`.
        var method: UInt16 = 0
        var flags: UInt16 = 0x0800
        var crc: UInt32? = nil
        var compressedSize: UInt32? = nil
        var size: UInt32? = nil
        var madeBy: UInt16 = 3 << 8 | 20
        var mode: UInt32 = 0o100644
        var externalAttributes: UInt32? = nil
        var localName: String? = nil
        /// Where the central directory says the local header is; by default where it is.
        var localOffset: UInt32? = nil
        /// The uncompressed bytes, when `data` is already compressed.
        var plain: [UInt8]? = nil
        /// Only in the central directory (its local header is somewhere else, at `localOffset`).
        var centralOnly = false
    }

    /// A stored entry's local header followed by its data, to hide inside another entry.
    static func localRecord(_ name: String, _ data: [UInt8]) -> [UInt8] {
        var zip = RawZip(entries: [Entry(name: name, data: data)])
        zip.entries[0].centralOnly = false
        let bytes = zip.bytes()
        return Array(bytes[0..<(30 + name.utf8.count + data.count)])
    }

    var entries: [Entry] = []
    var trailingComment: [UInt8] = []
    var zip64Locator = false

    /// A deflated entry: `data` compressed with zlib, sizes and CRC of the original.
    static func deflated(_ name: String, _ plain: [UInt8]) -> Entry {
        let compressed = try! deflateRaw(plain)
        return Entry(name: name, data: compressed, method: 8, plain: plain)
    }

    static func deflateRaw(_ plain: [UInt8]) throws -> [UInt8] {
        let deflater = try Deflater()
        var out: [UInt8] = []
        try plain.withUnsafeBytes { raw in try deflater.compress(raw, finish: true) { out.append(contentsOf: $0) } }
        return out
    }

    func bytes() -> [UInt8] {
        var archive: [UInt8] = []
        var central: [UInt8] = []
        for entry in entries {
            let offset = UInt32(archive.count)
            let plain = entry.plain ?? entry.data
            let crc = entry.crc ?? CRC32.checksum(plain)
            let compressedSize = entry.compressedSize ?? UInt32(entry.data.count)
            let size = entry.size ?? UInt32(plain.count)
            let localName = Array((entry.localName ?? entry.name).utf8)
            let name = Array(entry.name.utf8)
            if !entry.centralOnly {
                archive.appendLittleEndian(UInt32(0x0403_4b50))
                archive.appendLittleEndian(UInt16(20))
                archive.appendLittleEndian(entry.flags)
                archive.appendLittleEndian(entry.method)
                archive.appendLittleEndian(UInt16(0))
                archive.appendLittleEndian(UInt16(0x21))
                archive.appendLittleEndian(crc)
                archive.appendLittleEndian(compressedSize)
                archive.appendLittleEndian(size)
                archive.appendLittleEndian(UInt16(localName.count))
                archive.appendLittleEndian(UInt16(0))
                archive += localName
                archive += entry.data
            }
            central.appendLittleEndian(UInt32(0x0201_4b50))
            central.appendLittleEndian(entry.madeBy)
            central.appendLittleEndian(UInt16(20))
            central.appendLittleEndian(entry.flags)
            central.appendLittleEndian(entry.method)
            central.appendLittleEndian(UInt16(0))
            central.appendLittleEndian(UInt16(0x21))
            central.appendLittleEndian(crc)
            central.appendLittleEndian(compressedSize)
            central.appendLittleEndian(size)
            central.appendLittleEndian(UInt16(name.count))
            central.appendLittleEndian(UInt16(0))
            central.appendLittleEndian(UInt16(0))
            central.appendLittleEndian(UInt16(0))
            central.appendLittleEndian(UInt16(0))
            central.appendLittleEndian(entry.externalAttributes ?? entry.mode << 16)
            central.appendLittleEndian(entry.localOffset ?? offset)
            central += name
        }
        let centralOffset = UInt32(archive.count)
        archive += central
        if zip64Locator {
            archive.appendLittleEndian(UInt32(0x0706_4b50))
            archive += [UInt8](repeating: 0, count: 16)
        }
        archive.appendLittleEndian(UInt32(0x0605_4b50))
        archive.appendLittleEndian(UInt16(0))
        archive.appendLittleEndian(UInt16(0))
        archive.appendLittleEndian(UInt16(entries.count))
        archive.appendLittleEndian(UInt16(entries.count))
        archive.appendLittleEndian(UInt32(central.count))
        archive.appendLittleEndian(centralOffset)
        archive.appendLittleEndian(UInt16(trailingComment.count))
        archive += trailingComment
        return archive
    }

    /// Writes the archive into `folder` as `name` and returns its path.
    func write(in folder: TemporaryFolder, as name: String = "raw.zip") throws -> String {
        try folder.write(name, bytes: bytes())
    }
}
