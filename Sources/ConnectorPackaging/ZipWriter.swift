#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes a deterministic zip archive: the same entries in the same order give the same bytes.
///
/// Every entry carries the same fixed date (1980-01-01 00:00), Unix permissions 0644 or 0755, the
/// UTF-8 flag when its name is not ASCII, and nothing else: no extra fields, no comments, no data descriptors, no ZIP64. Non-empty entries
/// are deflated by zlib at level 6; empty ones are stored. Entries must come in increasing byte
/// order of their UTF-8 paths, which the writer checks, so that the order never depends on the
/// file system. Files are read and compressed in pieces: memory stays bounded whatever their size.
///
/// Not Sendable: confined to the thread that writes the archive.
public final class ZipWriter {
    private let output: FileOutput
    private var central: [UInt8] = []
    private var count = 0
    private var lastPath: [UInt8]?
    private var finished = false

    /// Starts an archive at `path`, which must not exist yet.
    public init(creating path: String) throws(PackagingError) {
        output = try FileOutput(creating: path)
    }

    /// Adds the bytes of the file at `sourcePath` as the entry `path`.
    public func addFile(at sourcePath: String, as path: String, executable: Bool) throws(PackagingError) {
        let input = try FileInput(path: sourcePath)
        try addEntry(path: path, executable: executable, empty: input.size == 0) { (feed) throws(PackagingError) in
            do { try input.stream(from: 0, count: input.size) { try feed($0) } } catch let error as PackagingError {
                throw error
            } catch {
                throw PackagingError("cannot add \(sourcePath) to the archive: \(error)")
            }
        }
    }

    /// Adds `bytes` as the entry `path`.
    public func addData(_ bytes: [UInt8], as path: String, executable: Bool = false) throws(PackagingError) {
        try addEntry(path: path, executable: executable, empty: bytes.isEmpty) { (feed) throws(PackagingError) in
            do { try bytes.withUnsafeBytes { try feed($0) } } catch let error as PackagingError { throw error } catch {
                throw PackagingError("cannot add \(path) to the archive: \(error)")
            }
        }
    }

    /// Writes the central directory and its end record, and syncs the file to disk.
    public func finish() throws(PackagingError) {
        guard !finished else { return }
        finished = true
        let centralOffset = output.offset
        try output.write(central)
        guard output.offset <= ZipFormat.maximumSize else { throw Self.tooLarge(output.path) }
        var end: [UInt8] = []
        end.appendLittleEndian(ZipFormat.endOfCentralDirectorySignature)
        end.appendLittleEndian(UInt16(0))  // this disk
        end.appendLittleEndian(UInt16(0))  // the disk with the central directory
        end.appendLittleEndian(UInt16(count))
        end.appendLittleEndian(UInt16(count))
        end.appendLittleEndian(UInt32(central.count))
        end.appendLittleEndian(UInt32(centralOffset))
        end.appendLittleEndian(UInt16(0))  // comment length
        try output.write(end)
        try output.close()
    }

    private static func tooLarge(_ path: String) -> PackagingError {
        PackagingError(
            "\(path) would pass 4 GiB, the largest zip without ZIP64 extensions (which packages do not use); exclude large files (.gitignore)"
        )
    }

    /// Writes one entry: a local header with the sizes and CRC left at zero, the data, then the
    /// real sizes and CRC patched into the header.
    private func addEntry(
        path: String, executable: Bool, empty: Bool,
        content: ((UnsafeRawBufferPointer) throws(PackagingError) -> Void) throws(PackagingError) -> Void
    ) throws(PackagingError) {
        precondition(!finished, "the archive is finished")
        if let problem = ZipFormat.problem(with: path) { throw PackagingError("cannot add \"\(path)\" to the archive: \(problem)") }
        let name = Array(path.utf8)
        guard name.count <= 0xFFFF else { throw PackagingError("cannot add \"\(path.prefix(80))…\": its path is longer than 65535 bytes") }
        if let lastPath, !lastPath.lexicographicallyPrecedes(name) {
            throw PackagingError(
                "entries must be added once each in increasing byte order of their paths: \"\(path)\" came after \"\(String(decoding: lastPath, as: UTF8.self))\""
            )
        }
        lastPath = name
        guard count < ZipFormat.maximumEntries else {
            throw PackagingError("a package holds at most \(ZipFormat.maximumEntries) files; exclude some (.gitignore)")
        }
        let method = empty ? ZipFormat.methodStored : ZipFormat.methodDeflated
        // The UTF-8 flag only for names beyond ASCII, as Info-ZIP and Python's zipfile set it.
        let flags = name.contains { $0 >= 0x80 } ? ZipFormat.flagUTF8 : 0
        let versionNeeded = empty ? ZipFormat.versionNeededStored : ZipFormat.versionNeededDeflated
        let headerOffset = output.offset
        var header: [UInt8] = []
        header.appendLittleEndian(ZipFormat.localHeaderSignature)
        header.appendLittleEndian(versionNeeded)
        header.appendLittleEndian(flags)
        header.appendLittleEndian(method)
        header.appendLittleEndian(ZipFormat.fixedDOSTime)
        header.appendLittleEndian(ZipFormat.fixedDOSDate)
        header.appendLittleEndian(UInt32(0))  // CRC-32, patched below
        header.appendLittleEndian(UInt32(0))  // compressed size, patched
        header.appendLittleEndian(UInt32(0))  // uncompressed size, patched
        header.appendLittleEndian(UInt16(name.count))
        header.appendLittleEndian(UInt16(0))  // extra field length
        header += name
        try output.write(header)

        var crc = CRC32()
        var uncompressed: UInt64 = 0
        let dataStart = output.offset
        let deflater: Deflater?
        do { deflater = empty ? nil : try Deflater() } catch { throw PackagingError("cannot compress \"\(path)\": \(error)") }
        let output = self.output
        try content { (piece) throws(PackagingError) in
            crc.update(piece)
            uncompressed += UInt64(piece.count)
            guard let deflater else {
                guard piece.isEmpty else { throw PackagingError("\"\(path)\" changed while it was being packaged; package again") }
                return
            }
            do { try deflater.compress(piece, finish: false) { try output.write($0) } } catch let error as PackagingError {
                throw error
            } catch { throw PackagingError("cannot compress \"\(path)\": \(error)") }
        }
        if let deflater {
            do { try deflater.compress(UnsafeRawBufferPointer(start: nil, count: 0), finish: true) { try output.write($0) } } catch let
                error as PackagingError
            {
                throw error
            } catch { throw PackagingError("cannot compress \"\(path)\": \(error)") }
        }
        let compressed = output.offset - dataStart
        guard uncompressed <= ZipFormat.maximumSize, output.offset <= ZipFormat.maximumSize else { throw Self.tooLarge(output.path) }
        var sizes: [UInt8] = []
        sizes.appendLittleEndian(crc.value)
        sizes.appendLittleEndian(UInt32(compressed))
        sizes.appendLittleEndian(UInt32(uncompressed))
        try output.patch(sizes, at: headerOffset + 14)

        central.appendLittleEndian(ZipFormat.centralHeaderSignature)
        central.appendLittleEndian(ZipFormat.versionMadeByUnix)
        central.appendLittleEndian(versionNeeded)
        central.appendLittleEndian(flags)
        central.appendLittleEndian(method)
        central.appendLittleEndian(ZipFormat.fixedDOSTime)
        central.appendLittleEndian(ZipFormat.fixedDOSDate)
        central += sizes
        central.appendLittleEndian(UInt16(name.count))
        central.appendLittleEndian(UInt16(0))  // extra field length
        central.appendLittleEndian(UInt16(0))  // comment length
        central.appendLittleEndian(UInt16(0))  // disk number
        central.appendLittleEndian(UInt16(0))  // internal attributes
        central.appendLittleEndian((executable ? ZipFormat.executableFileMode : ZipFormat.regularFileMode) << 16)
        central.appendLittleEndian(UInt32(headerOffset))
        central += name
        count += 1
    }
}
