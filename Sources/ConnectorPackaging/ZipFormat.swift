/// Constants of the zip format (PKWARE APPNOTE 6.3.x) as packages use it, and the rules for entry paths.
enum ZipFormat {
    static let localHeaderSignature: UInt32 = 0x0403_4b50
    static let centralHeaderSignature: UInt32 = 0x0201_4b50
    static let endOfCentralDirectorySignature: UInt32 = 0x0605_4b50
    static let zip64EndLocatorSignature: UInt32 = 0x0706_4b50

    static let localHeaderSize = 30
    static let centralHeaderSize = 46
    static let endOfCentralDirectorySize = 22

    static let methodStored: UInt16 = 0
    static let methodDeflated: UInt16 = 8

    /// General-purpose flag bits.
    static let flagEncrypted: UInt16 = 1 << 0
    static let flagDataDescriptor: UInt16 = 1 << 3
    static let flagUTF8: UInt16 = 1 << 11

    /// "Version made by": Unix (3) in the high byte, so readers take the permission bits from the
    /// external attributes; spec version 2.0 in the low byte.
    static let versionMadeByUnix: UInt16 = 3 << 8 | 20
    static let versionNeededStored: UInt16 = 10
    static let versionNeededDeflated: UInt16 = 20

    /// 1980-01-01 00:00:00, the earliest MS-DOS date: every entry carries it, so an archive does not
    /// depend on when or where it was made.
    static let fixedDOSTime: UInt16 = 0
    static let fixedDOSDate: UInt16 = (0 << 9) | (1 << 5) | 1

    static let regularFileMode: UInt32 = 0o100644
    static let executableFileMode: UInt32 = 0o100755
    static let directoryMode: UInt32 = 0o040755

    /// The largest count or size the format holds without ZIP64 extensions (which packages do not use).
    static let maximumEntries = 0xFFFF - 1
    static let maximumSize: UInt64 = 0xFFFF_FFFE

    /// What is wrong with `path` as an entry path, or `nil` when it is acceptable: relative, `/`
    /// separators, no empty, `.` or `..` component, no backslash, drive letter, NUL or control
    /// character. A directory entry's one trailing `/` is allowed when `directory` is true.
    static func problem(with path: String, directory: Bool = false) -> String? {
        var text = Substring(path)
        if directory, text.hasSuffix("/") { text = text.dropLast() }
        if text.isEmpty { return "an empty path" }
        if text.utf8.contains(0) { return "a NUL byte in its path" }
        if text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) { return "a control character in its path" }
        if text.contains("\\") { return "a backslash in its path (zip paths use /)" }
        if text.hasPrefix("/") { return "an absolute path" }
        let components = text.split(separator: "/", omittingEmptySubsequences: false)
        if let first = components.first, first.count == 2, first.last == ":", first.first!.isLetter {
            return "a drive letter"
        }
        for component in components {
            if component.isEmpty { return "an empty component (//) in its path" }
            if component == "." { return "a \".\" component in its path" }
            if component == ".." { return "a \"..\" component in its path, which would leave the folder" }
        }
        return nil
    }
}
