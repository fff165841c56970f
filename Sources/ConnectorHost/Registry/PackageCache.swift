import ConnectorPackaging
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Unpacked packages, one folder per hash: `cache/<sha256>/`, ready to run.
///
/// A folder is unpacked once, into a temporary folder renamed into place; before every run it is
/// compared with the (already verified) package file, file by file, and unpacked again if anything
/// differs, so a changed or planted file in the cache never runs. The connector's `files/` folder
/// inside it (a Python virtual environment) is not compared and survives a re-unpack. The build
/// step (e.g. `pip install -r requirements.txt`) runs once per hash. All of it happens under
/// `cache/<sha256>.lock`, so connections sharing a package never unpack or build it twice at once.
enum PackageCache {
    /// The marker left in `files/` when the build step succeeded for this hash.
    static let builtMarker = "files/.connector-host-built"

    /// The unpacked folder of the package file at `packageFile` (whose hash is `sha256`, checked by
    /// the caller), unpacked, checked and built.
    /// - Parameter log: build output and notes, for the console.
    /// - Throws: ``RegistryError`` when the package cannot be unpacked or its build step fails.
    /// - Parameter label: how messages name the package (`package pkg_…`).
    static func prepare(
        packageFile: String, sha256: String, label: String, home: ConnectorHostHome, cancellation: CancellationSignal,
        log: @escaping @Sendable (String) -> Void
    ) throws(RegistryError) -> String {
        let folder = home.unpackedPackage(sha256: sha256)
        let lock = try FileLock.wait(folder + ".lock")
        return try withExtendedLifetime(lock) { () throws(RegistryError) -> String in
            let reader: ZipReader
            do throws(PackagingError) { reader = try ZipReader(path: packageFile) } catch { throw RegistryError(.failed, error.message) }
            var exists: ObjCBool = false
            if FileManager.default.fileExists(atPath: folder, isDirectory: &exists), exists.boolValue {
                let differences: [String]
                do { differences = try reader.differences(from: folder, ignoring: ["files"]) } catch {
                    differences = ["cannot be compared (\(error))"]
                }
                if !differences.isEmpty {
                    let shown = differences.prefix(3).joined(separator: "; ") + (differences.count > 3 ? "; …" : "")
                    log("the unpacked copy in \(folder) differs from the package (\(shown)); unpacking it again")
                    try unpack(reader, into: folder, keepingFilesOf: folder)
                }
            } else {
                try unpack(reader, into: folder, keepingFilesOf: nil)
            }
            try buildOnce(folder: folder, label: "\(label) once for its hash \(sha256.prefix(12))", cancellation: cancellation, log: log)
            return folder
        }
    }

    /// Unpacks into a temporary folder beside `folder`, moves an existing `files/` into it, then
    /// swaps it into place.
    private static func unpack(_ reader: ZipReader, into folder: String, keepingFilesOf old: String?) throws(RegistryError) {
        let temporary = folder + ".unpacking-\(getpid())"
        try? FileManager.default.removeItem(atPath: temporary)
        do { try reader.extract(to: temporary) } catch {
            throw RegistryError(.failed, "cannot unpack \(reader.path) into \(folder): \(error)")
        }
        if let old {
            let files = old + "/files"
            if FileManager.default.fileExists(atPath: files) { _ = rename(files, temporary + "/files") }
            try? FileManager.default.removeItem(atPath: old)
        }
        guard rename(temporary, folder) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw RegistryError(.failed, "cannot move the unpacked package into \(folder): \(reason)")
        }
    }

    /// Runs the connector's build step unless it already succeeded for this hash.
    private static func buildOnce(
        folder: String, label: String, cancellation: CancellationSignal, log: @escaping @Sendable (String) -> Void
    ) throws(RegistryError) {
        guard !FileManager.default.fileExists(atPath: folder + "/" + builtMarker) else { return }
        let plan: LaunchPlan
        do { plan = try ConnectorLauncher.plan(directory: folder) } catch { throw RegistryError(.failed, error.message) }
        if plan.buildCommand != nil {
            log("building \(label): \(plan.buildSummary ?? plan.buildCommand!.joined(separator: " "))")
            do { try ConnectorLauncher.build(plan, cancellation: cancellation, log: { log("  " + $0) }) } catch {
                throw RegistryError(.failed, error.message)
            }
        }
        try ConnectorHostHome.makeFolder(folder + "/files")
        let descriptor = open(folder + "/" + builtMarker, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        if descriptor >= 0 { close(descriptor) }
    }
}
