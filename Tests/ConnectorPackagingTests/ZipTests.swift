import Foundation
import Testing

@testable import ConnectorPackaging

@Suite("Zip archives")
struct ZipTests {
    /// Writes `files` (path -> bytes, executable) in sorted order into an archive in `folder`.
    func archive(_ files: [(String, [UInt8], Bool)], in folder: TemporaryFolder, name: String = "out.zip") throws -> String {
        let path = folder.path + "/" + name
        let writer = try ZipWriter(creating: path)
        for (entry, bytes, executable) in files.sorted(by: { Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) }) {
            try writer.addData(bytes, as: entry, executable: executable)
        }
        try writer.finish()
        return path
    }

    let sample: [(String, [UInt8], Bool)] = [
        ("connector.py", Array("print('hello')\n".utf8), false),
        ("bin/start", Array("#!/bin/sh\nexec python3 connector.py\n".utf8), true),
        ("empty.txt", [], false),
        ("data/compressible.txt", [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20), false),
        ("data/random.bin", pseudoRandomBytes(300_000, seed: 42), false),
        ("naïve/ünïcode.txt", Array("non-ASCII names are UTF-8\n".utf8), false),
    ]

    @Test("an archive reads back entry by entry: paths in sorted order, contents, execute bits")
    func roundTrip() throws {
        let folder = try TemporaryFolder()
        let path = try archive(sample, in: folder)
        let reader = try ZipReader(path: path)
        let expected = sample.sorted { Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) }
        #expect(reader.entries.map(\.path) == expected.map(\.0))
        for (name, bytes, executable) in expected {
            let entry = try #require(reader.entry(name))
            #expect(try reader.contents(of: entry) == bytes, "\(name)")
            #expect(entry.isExecutable == executable, "\(name)")
            #expect(entry.method == (bytes.isEmpty ? 0 : 8), "\(name)")
        }
        #expect(try #require(reader.entry("data/compressible.txt")).compressedSize < 10_000)
    }

    @Test("the same entries give byte-identical archives")
    func deterministic() throws {
        let folder = try TemporaryFolder()
        let first = try archive(sample, in: folder, name: "a.zip")
        let second = try archive(sample, in: folder, name: "b.zip")
        #expect(try folder.read("a.zip") == folder.read("b.zip"))
        #expect(try SHA256.hexDigest(ofFile: first) == SHA256.hexDigest(ofFile: second))
    }

    @Test("the writer refuses entries out of order, twice, or with a path that leaves the folder")
    func writerRefusesBadEntries() throws {
        let folder = try TemporaryFolder()
        let writer = try ZipWriter(creating: folder.path + "/bad.zip")
        try writer.addData([1], as: "b.txt")
        #expect(
            throws: PackagingError(
                "entries must be added once each in increasing byte order of their paths: \"a.txt\" came after \"b.txt\"")
        ) {
            try writer.addData([1], as: "a.txt")
        }
        #expect(
            throws: PackagingError(
                "entries must be added once each in increasing byte order of their paths: \"b.txt\" came after \"b.txt\"")
        ) {
            try writer.addData([1], as: "b.txt")
        }
        #expect(
            throws: PackagingError("cannot add \"../c.txt\" to the archive: a \"..\" component in its path, which would leave the folder")
        ) {
            try writer.addData([1], as: "../c.txt")
        }
    }

    @Test("Python's zipfile reads our archives: CRCs good, names, Unix modes and the fixed 1980 date")
    func pythonReadsOurArchives() throws {
        guard available("python3") else {
            print("skipped: python3 is not installed")
            return
        }
        let folder = try TemporaryFolder()
        let path = try archive(sample, in: folder)
        let script = """
            import sys, zipfile
            z = zipfile.ZipFile(sys.argv[1])
            assert z.testzip() is None
            for i in z.infolist():
                print(i.filename, oct(i.external_attr >> 16), i.date_time, i.compress_type, len(z.read(i)))
            """
        let result = try #require(runProgram(["python3", "-c", script, path]))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stdout.split(separator: "\n") == [
                "bin/start 0o100755 (1980, 1, 1, 0, 0, 0) 8 36",
                "connector.py 0o100644 (1980, 1, 1, 0, 0, 0) 8 15",
                "data/compressible.txt 0o100644 (1980, 1, 1, 0, 0, 0) 8 1048576",
                "data/random.bin 0o100644 (1980, 1, 1, 0, 0, 0) 8 300000",
                "empty.txt 0o100644 (1980, 1, 1, 0, 0, 0) 0 0",
                "naïve/ünïcode.txt 0o100644 (1980, 1, 1, 0, 0, 0) 8 26",
            ])
    }

    @Test("archives made by Python's zipfile unpack: deflated, stored, streamed with data descriptors, with folder entries")
    func readsPythonArchives() throws {
        guard available("python3") else {
            print("skipped: python3 is not installed")
            return
        }
        let folder = try TemporaryFolder()
        let script = """
            import sys, zipfile, io
            def fill(z):
                z.writestr("dir/", "")
                z.writestr(zipfile.ZipInfo("dir/a.txt"), "alpha\\n" * 1000, compress_type=zipfile.ZIP_DEFLATED)
                z.writestr("b.txt", "beta\\n", compress_type=zipfile.ZIP_STORED)
                info = zipfile.ZipInfo("run.sh")
                info.external_attr = 0o100755 << 16
                info.create_system = 3
                z.writestr(info, "#!/bin/sh\\n", compress_type=zipfile.ZIP_DEFLATED)
            with zipfile.ZipFile(sys.argv[1], "w") as z:
                fill(z)
            class Unseekable(io.RawIOBase):
                def __init__(self, f): self.f = f
                def writable(self): return True
                def write(self, b): return self.f.write(b)
            with open(sys.argv[2], "wb") as raw:
                with zipfile.ZipFile(Unseekable(raw), "w") as z:
                    fill(z)
            """
        let seekable = folder.path + "/seekable.zip"
        let streamed = folder.path + "/streamed.zip"
        let result = try #require(runProgram(["python3", "-c", script, seekable, streamed]))
        #expect(result.status == 0, "\(result.stderr)")
        for path in [seekable, streamed] {
            let reader = try ZipReader(path: path)
            #expect(reader.entries.map(\.path) == ["dir", "dir/a.txt", "b.txt", "run.sh"])
            if path == streamed {
                // Python sets the data-descriptor flag when it cannot seek back to patch the header.
                let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
                #expect(bytes.littleEndianUInt16(at: 6) & 0x08 != 0)
            }
            let target = folder.path + "/unpacked-\(path.hasSuffix("streamed.zip") ? "s" : "p")"
            try reader.extract(to: target)
            #expect(try String(contentsOfFile: target + "/dir/a.txt", encoding: .utf8) == String(repeating: "alpha\n", count: 1000))
            #expect(try String(contentsOfFile: target + "/b.txt", encoding: .utf8) == "beta\n")
            #expect(FileManager.default.isExecutableFile(atPath: target + "/run.sh"))
            #expect(!FileManager.default.isExecutableFile(atPath: target + "/b.txt"))
        }
    }

    @Test("extracting writes every file with its mode, and an unchanged tree has no differences")
    func extractAndCompare() throws {
        let folder = try TemporaryFolder()
        let reader = try ZipReader(path: try archive(sample, in: folder))
        let target = folder.path + "/tree"
        try reader.extract(to: target)
        for (name, bytes, executable) in sample {
            #expect(try Array(Data(contentsOf: URL(fileURLWithPath: target + "/" + name))) == bytes)
            let mode = try FileManager.default.attributesOfItem(atPath: target + "/" + name)[.posixPermissions] as? Int
            #expect(mode == (executable ? 0o755 : 0o644), "\(name)")
        }
        #expect(try reader.differences(from: target).isEmpty)

        try "print('changed')\n".write(toFile: target + "/connector.py", atomically: false, encoding: .utf8)
        try "planted\n".write(toFile: target + "/data/requests.py", atomically: false, encoding: .utf8)
        try FileManager.default.removeItem(atPath: target + "/empty.txt")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: target + "/bin/start")
        try FileManager.default.createDirectory(atPath: target + "/files/venv", withIntermediateDirectories: true)
        try "ignored\n".write(toFile: target + "/files/venv/x", atomically: false, encoding: .utf8)
        #expect(
            try reader.differences(from: target, ignoring: ["files"]) == [
                "bin/start is no longer executable", "connector.py was changed", "data/requests.py was added", "empty.txt is missing",
            ])
        #expect(try reader.differences(from: target).contains("files/venv/x was added"))
    }

    @Test("extracting never writes into a folder that exists already")
    func extractNeedsNewFolder() throws {
        let folder = try TemporaryFolder()
        let reader = try ZipReader(path: try archive(sample, in: folder))
        #expect(throws: PackagingError("cannot create \(folder.path): File exists")) { try reader.extract(to: folder.path) }
    }
}

@Suite("Hostile and damaged archives")
struct HostileArchiveTests {
    func refusal(_ zip: RawZip) throws -> String? {
        let folder = try TemporaryFolder()
        let path = try zip.write(in: folder)
        do {
            let reader = try ZipReader(path: path)
            try reader.extract(to: folder.path + "/out")
            return nil
        } catch let error as PackagingError {
            // Nothing is left behind: not the files unpacked before the failure, not the folder.
            #expect(!FileManager.default.fileExists(atPath: folder.path + "/out"))
            return error.message.replacingOccurrences(of: path, with: "ARCHIVE")
        }
    }

    func entry(_ name: String, _ text: String = "x") -> RawZip.Entry { RawZip.Entry(name: name, data: Array(text.utf8)) }

    @Test("paths that would write outside the folder are refused before anything is written")
    func escapingPaths() throws {
        let suffix = "; a package may not write outside its folder"
        #expect(
            try refusal(RawZip(entries: [entry("ok.txt"), entry("../evil")]))
                == "ARCHIVE is not a valid package: entry \"../evil\" has a \"..\" component in its path, which would leave the folder"
                + suffix)
        #expect(
            try refusal(RawZip(entries: [entry("a/../../evil")]))
                == "ARCHIVE is not a valid package: entry \"a/../../evil\" has a \"..\" component in its path, which would leave the folder"
                + suffix)
        #expect(
            try refusal(RawZip(entries: [entry("/etc/evil")])) == "ARCHIVE is not a valid package: entry \"/etc/evil\" has an absolute path"
                + suffix)
        #expect(
            try refusal(RawZip(entries: [entry("..\\evil")]))
                == "ARCHIVE is not a valid package: entry \"..\\evil\" has a backslash in its path (zip paths use /)" + suffix)
        #expect(
            try refusal(RawZip(entries: [entry("C:/evil")])) == "ARCHIVE is not a valid package: entry \"C:/evil\" has a drive letter"
                + suffix)
        #expect(
            try refusal(RawZip(entries: [entry("a//evil")]))
                == "ARCHIVE is not a valid package: entry \"a//evil\" has an empty component (//) in its path" + suffix)
        #expect(
            try refusal(RawZip(entries: [entry("a\nb")]))
                == "ARCHIVE is not a valid package: entry \"a\nb\" has a control character in its path" + suffix)
    }

    @Test("symbolic links and special files are refused")
    func links() throws {
        var link = entry("evil", "/etc/passwd")
        link.mode = 0o120777
        #expect(
            try refusal(RawZip(entries: [link]))
                == "ARCHIVE is not a valid package: entry \"evil\" is a symbolic link; a package holds regular files only (a link could point outside its folder)"
        )
        var fifo = entry("fifo")
        fifo.mode = 0o010644
        #expect(
            try refusal(RawZip(entries: [fifo]))
                == "ARCHIVE is not a valid package: entry \"fifo\" is a special file (mode 10644); a package holds regular files only")
    }

    @Test("an entry twice, or a file that is also a folder, is refused")
    func duplicates() throws {
        #expect(
            try refusal(RawZip(entries: [entry("a.txt"), entry("a.txt")]))
                == "ARCHIVE is not a valid package: entry \"a.txt\" appears twice")
        #expect(
            try refusal(RawZip(entries: [entry("a"), entry("a/b")]))
                == "ARCHIVE is not a valid package: entry \"a/b\" lies under \"a\", which is a file in the archive")
    }

    @Test("a bad CRC, a size that lies, damaged deflate data and a truncated entry are refused")
    func damagedData() throws {
        var badCRC = entry("evil", "hello")
        badCRC.crc = 0x1234_5678
        #expect(
            try refusal(RawZip(entries: [badCRC]))
                == "ARCHIVE: entry \"evil\" fails its CRC-32 check (3610a686, declared 12345678); the archive is damaged")
        // A "bomb": 1 MiB of zeros that declares 100 bytes.
        var bomb = RawZip.deflated("evil", [UInt8](repeating: 0, count: 1 << 20))
        bomb.size = 100
        #expect(
            try refusal(RawZip(entries: [bomb]))
                == "ARCHIVE: entry \"evil\" unpacks to more than its declared 100 bytes; the archive is damaged or hostile")
        var short = RawZip.deflated("evil", Array("hello".utf8))
        short.size = 6
        #expect(
            try refusal(RawZip(entries: [short]))
                == "ARCHIVE: entry \"evil\" unpacks to 5 bytes, not the 6 it declares; the archive is damaged")
        var garbage = RawZip.Entry(name: "evil", data: [0xFF, 0xFF, 0xFF, 0xFF], method: 8)
        garbage.crc = 0
        garbage.size = 10
        #expect(try refusal(RawZip(entries: [garbage])) == "ARCHIVE: entry \"evil\" holds damaged compressed data (invalid block type)")
        var stored = entry("evil", "hello")
        stored.size = 4
        #expect(
            try refusal(RawZip(entries: [stored]))
                == "ARCHIVE is not a valid package: entry \"evil\" is stored but its sizes differ (5 and 4)")
    }

    @Test("overlapping entries, a local header that disagrees, and headers past the directory are refused")
    func structure() throws {
        // b.txt's local header and data hide inside a.txt's data: two entries from the same bytes.
        var hidden = RawZip.Entry(name: "b.txt", data: Array("bbbb".utf8))
        hidden.centralOnly = true
        hidden.localOffset = UInt32(30 + "a.txt".utf8.count)
        let overlapping = RawZip(entries: [RawZip.Entry(name: "a.txt", data: RawZip.localRecord("b.txt", Array("bbbb".utf8))), hidden])
        #expect(try refusal(overlapping) == "ARCHIVE is not a valid package: entries \"a.txt\" and \"b.txt\" overlap")
        var sameName = RawZip(entries: [entry("a.txt", "aaaa")])
        sameName.entries[0].localName = "b.txt"
        #expect(try refusal(sameName) == "ARCHIVE is not a valid package: entry \"a.txt\" is named \"b.txt\" in its local header")
        var past = RawZip(entries: [entry("a.txt")])
        past.entries[0].localOffset = 10_000
        #expect(try refusal(past) == "ARCHIVE is not a valid package: entry \"a.txt\" has its local header past the central directory")
    }

    @Test("encryption, other compression methods, ZIP64 and files that are not zips are refused")
    func unsupported() throws {
        var encrypted = entry("secret.txt")
        encrypted.flags |= 1
        #expect(try refusal(RawZip(entries: [encrypted])) == "ARCHIVE is not a valid package: entry \"secret.txt\" is encrypted")
        var bzip2 = entry("b.txt")
        bzip2.method = 12
        #expect(
            try refusal(RawZip(entries: [bzip2]))
                == "ARCHIVE is not a valid package: entry \"b.txt\" uses compression method 12; packages use 0 (stored) or 8 (deflated)")
        var zip64 = RawZip(entries: [entry("a.txt")])
        zip64.zip64Locator = true
        #expect(
            try refusal(zip64)
                == "ARCHIVE is not a valid package: it uses ZIP64 extensions, which packages do not use (a package is under 4 GiB and 65535 files)"
        )

        let folder = try TemporaryFolder()
        let text = try folder.write("not.zip", String(repeating: "not a zip file\n", count: 10))
        #expect(throws: PackagingError("\(text) is not a valid package: no end of central directory record (not a zip file, or truncated)"))
        {
            try ZipReader(path: text)
        }
        let tiny = try folder.write("tiny.zip", "PK")
        #expect(throws: PackagingError("\(tiny) is not a valid package: it is 2 bytes long, too short for a zip archive")) {
            try ZipReader(path: tiny)
        }
        var truncated = RawZip(entries: [entry("a.txt")]).bytes()
        truncated.removeLast(5)
        let cut = try folder.write("cut.zip", bytes: truncated)
        #expect(throws: PackagingError("\(cut) is not a valid package: no end of central directory record (not a zip file, or truncated)"))
        {
            try ZipReader(path: cut)
        }
    }

    @Test("archives that unpack past the limits are refused before unpacking")
    func limits() throws {
        let folder = try TemporaryFolder()
        let path = try RawZip(entries: [entry("a.txt", "12345"), entry("b.txt", "67890")]).write(in: folder)
        var limits = ZipLimits()
        limits.maximumTotalSize = 8
        #expect(throws: PackagingError("\(path) is not a valid package: its entries unpack to more than 8 bytes, the limit")) {
            try ZipReader(path: path, limits: limits)
        }
        limits = ZipLimits()
        limits.maximumEntries = 1
        #expect(throws: PackagingError("\(path) is not a valid package: it holds 2 entries, more than the limit of 1")) {
            try ZipReader(path: path, limits: limits)
        }
    }
}
