import ConnectorHost
import ConnectorProtocol
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The real Singer tap and Airbyte source the adapter tests run, installed from PyPI into one
/// virtual environment that is created once per machine (a temporary folder named after the
/// pinned versions, reused while complete) and shared by every test of a `swift test` run.
///
/// The versions are those of connectors/airbyte-faker and connectors/singer-jsonl, so the tests
/// run exactly what the README shows.
enum PyPIPackages {
    /// The pinned requirements, read from the two connector folders.
    static let requirements: [String] = ["connectors/airbyte-faker", "connectors/singer-jsonl"].flatMap { folder in
        let text = (try? String(contentsOf: packageRoot.appendingPathComponent(folder + "/requirements.txt"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    /// The environment's folder, or why there is none (no network: the tests are skipped).
    static let environment: Result<String, Unavailable> = prepare()

    struct Unavailable: Error, CustomStringConvertible {
        var description: String
        var isSkip: Bool
    }

    /// The environment, or skips the calling test with the reason (no network), or fails it (pip failed).
    static func require() throws -> String {
        switch environment {
        case .success(let path): return path
        case .failure(let reason):
            if reason.isSkip {
                print("skipped: \(reason.description)")
                try Test.cancel("\(reason.description)")
            }
            Issue.record("\(reason.description)")
            throw reason
        }
    }

    private static func prepare() -> Result<String, Unavailable> {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in requirements.joined(separator: "\n").utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("connector-host-pypi-" + String(hash, radix: 16)).path
        let complete = folder + "/.complete"
        // One creator at a time, across processes too (several checkouts may test on one machine).
        let lock = open(folder + ".lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        defer { if lock >= 0 { close(lock) } }
        if lock >= 0 { flock(lock, LOCK_EX) }
        if FileManager.default.fileExists(atPath: complete) { return .success(folder) }
        let probe = shell([
            pythonExecutable, "-c", "import urllib.request; urllib.request.urlopen('https://pypi.org/simple/tap-jsonl/', timeout=15)",
        ])
        guard probe.status == 0 else {
            let reason = probe.output.split(separator: "\n").last.map(String.init) ?? "no answer"
            return .failure(
                Unavailable(
                    description: "PyPI is not reachable (\(reason)); the tests of real Singer and Airbyte packages need it", isSkip: true))
        }
        try? FileManager.default.removeItem(atPath: folder)
        let venv = shell([pythonExecutable, "-m", "venv", folder])
        guard venv.status == 0 else {
            return .failure(Unavailable(description: "python3 -m venv \(folder) failed: \(venv.output)", isSkip: false))
        }
        let install = shell(
            [folder + "/bin/python", "-m", "pip", "install", "--disable-pip-version-check", "--no-compile", "-q"] + requirements)
        guard install.status == 0 else {
            return .failure(
                Unavailable(
                    description: "pip install \(requirements.joined(separator: " ")) failed: \(install.output.suffix(2000))", isSkip: false)
            )
        }
        _ = FileManager.default.createFile(atPath: complete, contents: Data())
        return .success(folder)
    }
}

extension ConnectorFixture {
    /// A copy of a connector folder of this repository (connectors/NAME), its files/venv the shared
    /// PyPI environment, so that it runs with --no-build.
    convenience init(copying folder: String, environment: String) throws {
        try self.init()
        let source = packageRoot.appendingPathComponent(folder)
        for name in try FileManager.default.contentsOfDirectory(atPath: source.path) {
            try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: directory.appendingPathComponent(name))
        }
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("files"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: directory.appendingPathComponent("files/venv").path, withDestinationPath: environment)
    }

    /// A sync of a copied connector folder without its build step (the environment is shared).
    func packageSync() -> (SyncReport, RecordingConsole) {
        sync { options in
            options.build = false
            options.handshakeTimeout = 300
            options.gracePeriod = 5
        }
    }
}
