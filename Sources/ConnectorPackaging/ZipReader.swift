#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One entry of an archive, as its central directory describes it (checked against its local header).
public struct ZipEntry: Sendable, Equatable {
    /// The path inside the archive, `/`-separated, without a directory's trailing `/`.
    public var path: String
    public var isDirectory: Bool
    /// Whether the entry carries Unix permissions with an execute bit.
    public var isExecutable: Bool
    public var method: UInt16
    public var crc32: UInt32
    public var compressedSize: UInt64
    public var size: UInt64
    /// Where the entry's data starts in the archive.
    var dataOffset: UInt64
    var localHeaderOffset: UInt64
}

/// Bounds on what an archive may unpack to, against archives made to exhaust the disk.
public struct ZipLimits: Sendable {
    public var maximumEntries = 100_000
    /// The sum of the entries' uncompressed sizes.
    public var maximumTotalSize: UInt64 = 2 << 30

    public init() {}
}

/// Reads and unpacks a zip archive that may be hostile.
///
/// Opening checks the whole structure before anything is unpacked: one disk, no ZIP64, no
/// encryption, methods stored or deflated only; every path relative and inside the folder (no
/// `..`, no absolute path, no backslash, no drive letter, no duplicate, no file that is also a
/// folder); no symbolic link or other special file; local headers that agree with the central
/// directory; entries that do not overlap; sizes within ``ZipLimits``. Reading an entry checks its
/// size and CRC-32 and never produces more bytes than the entry declares.
///
/// Not Sendable: confined to one thread.
public final class ZipReader {
    /// The entries, in the order of the central directory.
    public let entries: [ZipEntry]
    private let input: FileInput
    public var path: String { input.path }

    /// Opens and checks the archive at `path`.
    /// - Throws: ``PackagingError`` naming the archive, the entry and what is wrong with it.
    public init(path: String, limits: ZipLimits = ZipLimits()) throws(PackagingError) {
        input = try FileInput(path: path)
        entries = try Self.readEntries(input, limits: limits)
    }

    private static func damaged(_ path: String, _ what: String) -> PackagingError {
        PackagingError("\(path) is not a valid package: \(what)")
    }

    private static func readEntries(_ input: FileInput, limits: ZipLimits) throws(PackagingError) -> [ZipEntry] {
        let path = input.path
        guard input.size >= UInt64(ZipFormat.endOfCentralDirectorySize) else {
            throw damaged(path, "it is \(input.size) bytes long, too short for a zip archive")
        }
        // The end record is the last 22 bytes plus a comment of up to 65535 bytes.
        let tailLength = Int(min(input.size, UInt64(ZipFormat.endOfCentralDirectorySize + 0xFFFF)))
        let tailStart = input.size - UInt64(tailLength)
        let tail = try input.read(at: tailStart, count: tailLength)
        var endIndex: Int?
        var index = tail.count - ZipFormat.endOfCentralDirectorySize
        while index >= 0 {
            if tail.littleEndianUInt32(at: index) == ZipFormat.endOfCentralDirectorySignature,
                index + ZipFormat.endOfCentralDirectorySize + Int(tail.littleEndianUInt16(at: index + 20)) == tail.count
            {
                endIndex = index
                break
            }
            index -= 1
        }
        guard let endIndex else { throw damaged(path, "no end of central directory record (not a zip file, or truncated)") }
        if endIndex >= 20, tail.littleEndianUInt32(at: endIndex - 20) == ZipFormat.zip64EndLocatorSignature {
            throw damaged(path, "it uses ZIP64 extensions, which packages do not use (a package is under 4 GiB and 65535 files)")
        }
        let disk = tail.littleEndianUInt16(at: endIndex + 4)
        let centralDisk = tail.littleEndianUInt16(at: endIndex + 6)
        let entriesOnDisk = tail.littleEndianUInt16(at: endIndex + 8)
        let entryCount = tail.littleEndianUInt16(at: endIndex + 10)
        let centralSize = UInt64(tail.littleEndianUInt32(at: endIndex + 12))
        let centralOffset = UInt64(tail.littleEndianUInt32(at: endIndex + 16))
        guard disk == 0, centralDisk == 0, entriesOnDisk == entryCount else {
            throw damaged(path, "it spans several disks (a split archive)")
        }
        if entryCount == 0xFFFF || centralSize == 0xFFFF_FFFF || centralOffset == 0xFFFF_FFFF {
            throw damaged(path, "it uses ZIP64 extensions, which packages do not use (a package is under 4 GiB and 65535 files)")
        }
        let endOffset = tailStart + UInt64(endIndex)
        guard centralOffset + centralSize <= endOffset else {
            throw damaged(path, "its central directory (\(centralSize) bytes at \(centralOffset)) runs past the end record")
        }
        guard Int(entryCount) <= limits.maximumEntries else {
            throw damaged(path, "it holds \(entryCount) entries, more than the limit of \(limits.maximumEntries)")
        }
        let central = try input.read(at: centralOffset, count: Int(centralSize))

        var entries: [ZipEntry] = []
        var seen: [String: Bool] = [:]  // path -> isDirectory
        var totalSize: UInt64 = 0
        var position = 0
        for index in 0..<Int(entryCount) {
            let number = index + 1
            guard position + ZipFormat.centralHeaderSize <= central.count,
                central.littleEndianUInt32(at: position) == ZipFormat.centralHeaderSignature
            else { throw damaged(path, "central directory entry \(number) of \(entryCount) is missing or damaged") }
            let madeBy = central.littleEndianUInt16(at: position + 4)
            let flags = central.littleEndianUInt16(at: position + 8)
            let method = central.littleEndianUInt16(at: position + 10)
            let crc = central.littleEndianUInt32(at: position + 16)
            let compressedSize = UInt64(central.littleEndianUInt32(at: position + 20))
            let size = UInt64(central.littleEndianUInt32(at: position + 24))
            let nameLength = Int(central.littleEndianUInt16(at: position + 28))
            let extraLength = Int(central.littleEndianUInt16(at: position + 30))
            let commentLength = Int(central.littleEndianUInt16(at: position + 32))
            let externalAttributes = central.littleEndianUInt32(at: position + 38)
            let localOffset = UInt64(central.littleEndianUInt32(at: position + 42))
            let nameStart = position + ZipFormat.centralHeaderSize
            position = nameStart + nameLength + extraLength + commentLength
            guard position <= central.count else { throw damaged(path, "central directory entry \(number) runs past its end") }
            let nameBytes = Array(central[nameStart..<nameStart + nameLength])
            guard let rawName = String(validating: nameBytes, as: UTF8.self) else {
                throw damaged(path, "entry \(number) has a path that is not UTF-8")
            }
            let entryName = "entry \"\(rawName.prefix(200))\""
            if compressedSize == 0xFFFF_FFFF || size == 0xFFFF_FFFF || localOffset == 0xFFFF_FFFF {
                throw damaged(path, "\(entryName) uses ZIP64 extensions, which packages do not use")
            }
            guard flags & ZipFormat.flagEncrypted == 0 else { throw damaged(path, "\(entryName) is encrypted") }
            guard method == ZipFormat.methodStored || method == ZipFormat.methodDeflated else {
                throw damaged(path, "\(entryName) uses compression method \(method); packages use 0 (stored) or 8 (deflated)")
            }
            // The file type: Unix archivers put st_mode in the high 16 bits of the external attributes.
            let isUnix = madeBy >> 8 == 3
            let mode = isUnix ? externalAttributes >> 16 : 0
            let fileType = mode & 0o170000
            var isDirectory = rawName.hasSuffix("/") || (!isUnix && externalAttributes & 0x10 != 0)
            switch fileType {
            case 0, 0o100000: break
            case 0o040000: isDirectory = true
            case 0o120000:
                throw damaged(
                    path, "\(entryName) is a symbolic link; a package holds regular files only (a link could point outside its folder)")
            default:
                throw damaged(path, "\(entryName) is a special file (mode \(String(mode, radix: 8))); a package holds regular files only")
            }
            if let problem = ZipFormat.problem(with: rawName, directory: isDirectory) {
                throw damaged(path, "\(entryName) has \(problem); a package may not write outside its folder")
            }
            let name = isDirectory && rawName.hasSuffix("/") ? String(rawName.dropLast()) : rawName
            if isDirectory, size != 0 { throw damaged(path, "\(entryName) is a folder with \(size) bytes of data") }
            if let earlier = seen[name] {
                if earlier && isDirectory { continue }  // a folder listed twice is harmless
                throw damaged(path, "\(entryName) appears twice")
            }
            // A file may not also be a folder of another entry.
            var parent = Substring(name)
            while let slash = parent.lastIndex(of: "/") {
                parent = parent[..<slash]
                if seen[String(parent)] == false {
                    throw damaged(path, "\(entryName) lies under \"\(parent)\", which is a file in the archive")
                }
            }
            seen[name] = isDirectory
            totalSize += size
            guard totalSize <= limits.maximumTotalSize else {
                throw damaged(path, "its entries unpack to more than \(limits.maximumTotalSize) bytes, the limit")
            }
            if method == ZipFormat.methodStored, compressedSize != size {
                throw damaged(path, "\(entryName) is stored but its sizes differ (\(compressedSize) and \(size))")
            }

            // The local header must agree with the central directory.
            guard localOffset + UInt64(ZipFormat.localHeaderSize) <= centralOffset else {
                throw damaged(path, "\(entryName) has its local header past the central directory")
            }
            let local = try input.read(at: localOffset, count: ZipFormat.localHeaderSize)
            guard local.littleEndianUInt32(at: 0) == ZipFormat.localHeaderSignature else {
                throw damaged(path, "\(entryName) has no local header at offset \(localOffset)")
            }
            let localNameLength = Int(local.littleEndianUInt16(at: 26))
            let localExtraLength = Int(local.littleEndianUInt16(at: 28))
            guard local.littleEndianUInt16(at: 8) == method, localNameLength == nameLength else {
                throw damaged(path, "\(entryName) has a local header that disagrees with the central directory")
            }
            let localName = try input.read(at: localOffset + UInt64(ZipFormat.localHeaderSize), count: localNameLength)
            guard localName == nameBytes else {
                throw damaged(path, "\(entryName) is named \"\(String(decoding: localName, as: UTF8.self))\" in its local header")
            }
            let dataOffset = localOffset + UInt64(ZipFormat.localHeaderSize + localNameLength + localExtraLength)
            guard dataOffset + compressedSize <= centralOffset else {
                throw damaged(path, "\(entryName) has data that runs into the central directory")
            }
            entries.append(
                ZipEntry(
                    path: name, isDirectory: isDirectory, isExecutable: !isDirectory && mode & 0o111 != 0, method: method, crc32: crc,
                    compressedSize: compressedSize, size: size, dataOffset: dataOffset, localHeaderOffset: localOffset))
        }
        // Overlapping entries are how small archives claim to hold far more than they do.
        let byOffset = entries.sorted { $0.localHeaderOffset < $1.localHeaderOffset }
        for (earlier, later) in zip(byOffset, byOffset.dropFirst())
        where earlier.dataOffset + earlier.compressedSize > later.localHeaderOffset {
            throw damaged(path, "entries \"\(earlier.path)\" and \"\(later.path)\" overlap")
        }
        return entries
    }

    /// The entry at `path`, if any.
    public func entry(_ path: String) -> ZipEntry? { entries.first { $0.path == path } }

    /// Streams an entry's bytes to `sink`, checking its size and CRC-32 at the end.
    /// - Throws: ``PackagingError`` when the data is damaged or does not match what the archive declares.
    public func read(_ entry: ZipEntry, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        var crc = CRC32()
        var produced: UInt64 = 0
        let name = "\(path): entry \"\(entry.path)\""
        func accept(_ piece: UnsafeRawBufferPointer) throws {
            produced += UInt64(piece.count)
            guard produced <= entry.size else {
                throw PackagingError("\(name) unpacks to more than its declared \(entry.size) bytes; the archive is damaged or hostile")
            }
            crc.update(piece)
            try sink(piece)
        }
        if entry.method == ZipFormat.methodStored {
            try input.stream(from: entry.dataOffset, count: entry.size, accept)
        } else {
            let inflater: Inflater
            do { inflater = try Inflater() } catch { throw PackagingError("\(name): \(error)") }
            do {
                try input.stream(from: entry.dataOffset, count: entry.compressedSize) { piece in
                    _ = try inflater.decompress(piece, sink: accept)
                }
            } catch let error as ZlibError {
                throw PackagingError("\(name) holds damaged compressed data (\(error.message))")
            }
            guard inflater.finished else { throw PackagingError("\(name) ends before its compressed data does; the archive is damaged") }
        }
        guard produced == entry.size else {
            throw PackagingError("\(name) unpacks to \(produced) bytes, not the \(entry.size) it declares; the archive is damaged")
        }
        guard crc.value == entry.crc32 else {
            throw PackagingError(
                "\(name) fails its CRC-32 check (\(Self.hex32(crc.value)), declared \(Self.hex32(entry.crc32))); the archive is damaged")
        }
    }

    /// An entry's bytes, checked (for small entries such as the metadata).
    public func contents(of entry: ZipEntry) throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(min(entry.size, 1 << 24)))
        try read(entry) { bytes.append(contentsOf: $0) }
        return bytes
    }

    static func hex32(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }

    /// Unpacks every entry into `directory`, which must not exist yet (it is created, 0755).
    ///
    /// Files are created exclusively (never through an existing path) with 0644 or 0755; folders
    /// with 0755. On failure `directory` is removed with everything unpacked so far. Unpack into a
    /// temporary folder and rename it into place, so that nobody sees half a package.
    public func extract(to directory: String) throws {
        guard mkdir(directory, 0o755) == 0 else { throw PackagingError.system("create", directory) }
        do { try unpack(into: directory) } catch {
            removeTree(directory)
            throw error
        }
    }

    private func unpack(into directory: String) throws {
        var made: Set<String> = [""]
        func makeFolders(_ relative: String) throws {
            var prefix = ""
            for component in relative.split(separator: "/") {
                prefix = prefix.isEmpty ? String(component) : prefix + "/" + component
                guard !made.contains(prefix) else { continue }
                let full = directory + "/" + prefix
                guard mkdir(full, 0o755) == 0 else { throw PackagingError.system("create", full) }
                made.insert(prefix)
            }
        }
        for entry in entries {
            if entry.isDirectory {
                try makeFolders(entry.path)
                continue
            }
            if let slash = entry.path.lastIndex(of: "/") { try makeFolders(String(entry.path[..<slash])) }
            let full = directory + "/" + entry.path
            let mode: mode_t = entry.isExecutable ? 0o755 : 0o644
            let descriptor = open(full, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
            guard descriptor >= 0 else { throw PackagingError.system("create", full) }
            defer { close(descriptor) }
            try read(entry) { piece in
                var offset = 0
                while offset < piece.count {
                    let written = write(descriptor, piece.baseAddress! + offset, piece.count - offset)
                    if written < 0 && errno == EINTR { continue }
                    guard written > 0 else { throw PackagingError.system("write", full, errno: written < 0 ? errno : ENOSPC) }
                    offset += written
                }
            }
            // The umask may have narrowed the mode.
            _ = fchmod(descriptor, mode)
        }
    }
}

/// Removes `path` and everything under it, without following links (best effort: for folders this
/// module created itself).
func removeTree(_ path: String) {
    var info = stat()
    guard lstat(path, &info) == 0 else { return }
    if info.st_mode & S_IFMT == S_IFDIR {
        for item in (try? DirectoryListing.items(of: path)) ?? [] { removeTree(path + "/" + item.name) }
        rmdir(path)
    } else {
        unlink(path)
    }
}
