import Foundation
import Synchronization
import Testing

@testable import ConnectorPackaging

/// A temporary folder, removed when the test ends.
final class TemporaryFolder {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("packaging-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `content` to `relative`, creating folders; `executable` sets 0755.
    @discardableResult
    func write(_ relative: String, _ content: String, executable: Bool = false) throws -> String {
        try write(relative, bytes: Array(content.utf8), executable: executable)
    }

    @discardableResult
    func write(_ relative: String, bytes: [UInt8], executable: Bool = false) throws -> String {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: full))
        try FileManager.default.setAttributes([.posixPermissions: executable ? 0o755 : 0o644], ofItemAtPath: full)
        return full
    }

    func read(_ relative: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path + "/" + relative))) }
}

/// Runs a program and returns its exit status and output; `nil` when it cannot be started.
func runProgram(_ arguments: [String], directory: String? = nil, environment: [String: String] = [:], input: [UInt8]? = nil)
    -> (status: Int32, stdout: String, stderr: String)?
{
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    var merged = ProcessInfo.processInfo.environment
    for (key, value) in environment { merged[key] = value }
    process.environment = merged
    let output = Pipe()
    let errors = Pipe()
    let stdin = Pipe()
    process.standardOutput = output
    process.standardError = errors
    process.standardInput = input == nil ? FileHandle.nullDevice : stdin
    guard (try? process.run()) != nil else { return nil }
    if let input {
        stdin.fileHandleForWriting.write(Data(input))
        try? stdin.fileHandleForWriting.close()
    }
    // Read both pipes to EOF before waiting, or large outputs deadlock.
    let errorData = Mutex(Data())
    let done = DispatchSemaphore(value: 0)
    Thread {
        let data = errors.fileHandleForReading.readDataToEndOfFile()
        errorData.withLock { $0 = data }
        done.signal()
    }.start()
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    done.wait()
    process.waitUntilExit()
    return (
        process.terminationStatus, String(decoding: outputData, as: UTF8.self), errorData.withLock { String(decoding: $0, as: UTF8.self) }
    )
}

/// Whether `program` can be run here (for tests that compare with a real tool).
func available(_ program: String) -> Bool {
    runProgram(["sh", "-c", "command -v \(program)"])?.status == 0
}

/// `count` bytes from xorshift64* (fast even in debug builds; the same for the same seed).
func pseudoRandomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed | 1
    var bytes = [UInt8](repeating: 0, count: count)
    var index = 0
    while index < count {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        var word = state &* 0x2545_F491_4F6C_DD1D
        for _ in 0..<8 where index < count {
            bytes[index] = UInt8(truncatingIfNeeded: word)
            word >>= 8
            index += 1
        }
    }
    return bytes
}
