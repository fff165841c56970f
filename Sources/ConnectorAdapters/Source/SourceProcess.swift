import CConnectorSpawn
import ConnectorProtocol
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A Singer tap or Airbyte source run by the adapter: stdout piped to the adapter, stdin from
/// `/dev/null`, stderr either the adapter's own (the host shows it as the connector's log) or
/// captured for a short command whose failure the adapter explains itself.
///
/// Unlike the host's `ChildProcess`, the source stays in the adapter's process group: when the host
/// stops the adapter it signals that group, so the source stops with it (a host that only killed
/// the adapter would leave a tap running with nobody reading it). Owned by one thread.
final class SourceProcess {
    let pid: pid_t
    /// Read end of the source's stdout.
    let output: Int32
    /// Read end of the source's stderr when captured, else -1.
    let errorOutput: Int32
    private(set) var exitStatus: SourceExit?
    /// What was started, for messages: the executable's file name.
    let displayName: String

    /// How a source ended.
    enum SourceExit: Equatable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        var description: String {
            switch self {
            case .exited(let code): "exited with status \(code)"
            case .signaled(let signal): "was killed by signal \(signal)"
            }
        }
    }

    /// Starts `arguments` (`arguments[0]` searched on PATH when it has no slash) in the current directory.
    /// - Parameter captureStderr: pipe stderr to ``errorOutput`` instead of sharing the adapter's.
    /// - Throws: ``AdapterError`` naming the executable and the reason.
    init(arguments: [String], captureStderr: Bool) throws(AdapterError) {
        precondition(!arguments.isEmpty)
        let executable = arguments[0]
        displayName = Self.displayName(of: arguments)
        var stdoutPipe: [Int32] = [0, 0]
        var stderrPipe: [Int32] = [-1, -1]
        guard cconnector_pipe_cloexec(&stdoutPipe) == 0 else { throw Self.spawnError(executable, errno, "pipe") }
        if captureStderr, cconnector_pipe_cloexec(&stderrPipe) != 0 {
            close(stdoutPipe[0])
            close(stdoutPipe[1])
            throw Self.spawnError(executable, errno, "pipe")
        }
        _ = cconnector_pipe_grow(stdoutPipe[1], 1 << 20)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        if captureStderr { posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The adapter ignores SIGPIPE and handles SIGTERM itself; the source starts with the defaults.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var childPID: pid_t = 0
        let status =
            executable.contains("/")
            ? posix_spawn(&childPID, executable, &actions, &attributes, &argv, environ)
            : posix_spawnp(&childPID, executable, &actions, &attributes, &argv, environ)
        close(stdoutPipe[1])
        if captureStderr { close(stderrPipe[1]) }
        guard status == 0 else {
            close(stdoutPipe[0])
            if captureStderr { close(stderrPipe[0]) }
            throw Self.spawnError(executable, status, "spawn")
        }
        pid = childPID
        _ = Self.running.withLock { $0.insert(childPID) }
        output = stdoutPipe[0]
        errorOutput = captureStderr ? stderrPipe[0] : -1
    }

    /// What a command is called in messages: its executable's file name, or the script's when the
    /// executable is an interpreter (`python3 tap.py` is `tap.py`).
    static func displayName(of command: [String]) -> String {
        func fileName(_ path: String) -> String { String(path.split(separator: "/").last ?? Substring(path)) }
        let executable = fileName(command[0])
        let interpreters = ["python", "python3", "node", "ruby", "perl", "bash", "sh", "java", "uv", "uvx", "pipx"]
        if interpreters.contains(where: { executable == $0 || executable.hasPrefix($0 + ".") || executable.hasPrefix("python3.") }),
            let script = command.dropFirst().first(where: { !$0.hasPrefix("-") })
        {
            return fileName(script)
        }
        return executable
    }

    /// The sources started and not yet reaped, for the SIGTERM handler.
    private static let running = Mutex<Set<pid_t>>([])

    /// Sends SIGTERM to every running source: the adapter is being stopped.
    static func terminateAllOnTermination() {
        for pid in running.withLock({ $0 }) { kill(pid, SIGTERM) }
    }

    private func reaped(_ exit: SourceExit) -> SourceExit {
        exitStatus = exit
        _ = Self.running.withLock { $0.remove(pid) }
        return exit
    }

    deinit {
        if exitStatus == nil { terminate(grace: 0.5) }
        close(output)
        if errorOutput >= 0 { close(errorOutput) }
    }

    private static func spawnError(_ executable: String, _ code: Int32, _ step: String) -> AdapterError {
        switch code {
        case ENOENT:
            return AdapterError(
                .configuration,
                "cannot start \(executable): no such file; check \"command\" in connector.json (install the package, or give the path of its executable)"
            )
        case EACCES: return AdapterError(.configuration, "cannot start \(executable): permission denied; make it executable (chmod +x)")
        default: return AdapterError(.source, "cannot start \(executable): \(String(cString: strerror(code))) (\(step))")
        }
    }

    /// Waits for the source to exit.
    @discardableResult
    func wait() -> SourceExit {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return reaped(.exited(-1)) }
        }
        let signal = status & 0x7F
        return reaped(signal == 0 ? .exited((status >> 8) & 0xFF) : .signaled(signal))
    }

    /// Waits up to `timeout` seconds; `nil` while the source still runs.
    func wait(timeout: Double) -> SourceExit? {
        if let exitStatus { return exitStatus }
        let deadline = monotonicSeconds() + timeout
        while true {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid {
                let signal = status & 0x7F
                return reaped(signal == 0 ? .exited((status >> 8) & 0xFF) : .signaled(signal))
            }
            if result < 0 && errno != EINTR { return reaped(.exited(-1)) }
            if monotonicSeconds() >= deadline { return nil }
            usleep(5_000)
        }
    }

    /// Stops the source: SIGTERM, then SIGKILL after `grace` seconds, and reaps it.
    func terminate(grace: Double) {
        guard exitStatus == nil else { return }
        if wait(timeout: 0) != nil { return }
        kill(pid, SIGTERM)
        if wait(timeout: grace) != nil { return }
        kill(pid, SIGKILL)
        wait()
    }
}

/// Runs a short command of a source (spec, check, discover, about) to its end, collecting its output.
struct SourceCommandResult {
    var stdout: [UInt8]
    var stderr: [UInt8]
    var exit: SourceProcess.SourceExit

    /// Starts `arguments`, reads stdout and stderr to their ends (stderr on a thread of its own, so a
    /// source filling one pipe never blocks on the other), then waits for the exit.
    /// - Parameter echoStderr: also copy stderr to the adapter's stderr (the host's log), line by line as it arrives.
    static func run(_ arguments: [String], echoStderr: Bool) throws(AdapterError) -> SourceCommandResult {
        let process = try SourceProcess(arguments: arguments, captureStderr: true)
        let errorDescriptor = process.errorOutput
        let collected = StderrCapture()
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 1 << 14)
            while true {
                let count = read(errorDescriptor, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                let chunk = Array(buffer[0..<count])
                collected.append(chunk)
                if echoStderr { chunk.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) } }
            }
            collected.finish()
        }
        thread.start()
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = read(process.output, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            output.append(contentsOf: buffer[0..<count])
        }
        let stderr = collected.waitForEnd()
        return SourceCommandResult(stdout: output, stderr: stderr, exit: process.wait())
    }
}
