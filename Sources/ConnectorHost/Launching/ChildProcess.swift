import CConnectorSpawn
import ConnectorProtocol
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failure to start a process: what was tried and the errno.
public struct SpawnError: Error, Sendable, CustomStringConvertible {
    public let executable: String
    public let errno: Int32
    public let step: String

    public var description: String {
        let reason = String(cString: strerror(errno))
        switch errno {
        case ENOENT: return "cannot start \(executable): no such file (\(step)); check the manifest's \"command\" and build the connector"
        case EACCES: return "cannot start \(executable): permission denied; make it executable (chmod +x)"
        default: return "cannot start \(executable): \(reason) (\(step))"
        }
    }
}

/// How a child process ended.
public enum ExitStatus: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    public var description: String {
        switch self {
        case .exited(let code): "exited with status \(code)"
        case .signaled(let signal): "was killed by signal \(signal) (\(Self.signalName(signal)))"
        }
    }

    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGKILL: "SIGKILL"
        case SIGTERM: "SIGTERM"
        case SIGSEGV: "SIGSEGV, a crash"
        case SIGABRT: "SIGABRT, an abort or failed assertion"
        case SIGINT: "SIGINT"
        case SIGBUS: "SIGBUS, a crash"
        case SIGILL: "SIGILL, a crash or a Swift runtime trap"
        case SIGTRAP: "SIGTRAP, a Swift runtime trap"
        case SIGPIPE: "SIGPIPE"
        default: "signal \(signal)"
        }
    }
}

/// How ``ChildProcess/terminate(grace:)`` stopped a child: its exit status and the signal it took.
public struct Termination: Sendable, Equatable {
    /// What the host had to do after closing the child's stdin.
    public enum Escalation: Sendable, Equatable {
        /// Nothing: the child exited within the grace period.
        case none
        /// SIGTERM, after which it exited within the grace period.
        case sigterm
        /// SIGKILL, after SIGTERM was not enough.
        case sigkill
    }

    public let status: ExitStatus
    public let escalation: Escalation
}

/// A child process with pipes on stdin, stdout and stderr, in its own process group.
///
/// The host owns the parent ends. A process group of its own keeps the terminal's Ctrl-C away
/// from the connector, so that the host decides how to stop it (cancel, grace, SIGTERM, SIGKILL).
/// Not Sendable: it has mutable state (`input`, `exitStatus`) and is confined to the thread that
/// owns it (the sync's, a conformance session's, the build step's).
public final class ChildProcess {
    public let pid: pid_t
    /// Write end of the child's stdin (closed by ``closeInput()``).
    public private(set) var input: Int32
    /// Read end of the child's stdout.
    public let output: Int32
    /// Read end of the child's stderr.
    public let errorOutput: Int32
    public private(set) var exitStatus: ExitStatus?
    /// A descriptor that becomes readable once the child has exited (a Linux pidfd), reaped or not;
    /// `nil` where the system has none. Readers and writers of its pipes watch it, so that a child
    /// that exits while a process it started still holds its stdout or stdin is noticed at once.
    public let exitDescriptor: Int32?
    /// Whether processes of the child's group were still alive when the child was reaped.
    private var groupOutlivedChild = false

    /// Starts `arguments[0]` (searched on PATH when it has no slash) in `directory`.
    /// - Parameters:
    ///   - environment: the complete environment of the child, as `NAME=value` strings.
    /// - Throws: ``SpawnError``.
    public init(arguments: [String], directory: String?, environment: [String]) throws(SpawnError) {
        precondition(!arguments.isEmpty)
        let executable = arguments[0]
        var stdinPipe: [Int32] = [0, 0]
        var stdoutPipe: [Int32] = [0, 0]
        var stderrPipe: [Int32] = [0, 0]
        guard cconnector_pipe_cloexec(&stdinPipe) == 0, cconnector_pipe_cloexec(&stdoutPipe) == 0,
            cconnector_pipe_cloexec(&stderrPipe) == 0
        else {
            throw SpawnError(executable: executable, errno: errno, step: "pipe")
        }
        // A records batch is up to ~1 MiB: with a pipe that holds one, the connector encodes the next
        // batch while the host applies this one, instead of waiting for the host to drain 64 KiB
        // pieces. Best effort: the system limit (/proc/sys/fs/pipe-max-size) may refuse it.
        _ = cconnector_pipe_grow(stdoutPipe[1], 1 << 20)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, stdoutPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, stderrPipe[1], 2)
        if let directory {
            let status = cconnector_spawn_add_chdir(&actions, directory)
            guard status == 0 else { throw SpawnError(executable: executable, errno: status, step: "chdir \(directory)") }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The host ignores SIGPIPE and may block SIGINT; the child starts with default handling.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGXFSZ] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        var envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var childPID: pid_t = 0
        let status =
            executable.contains("/")
            ? posix_spawn(&childPID, executable, &actions, &attributes, &argv, &envp)
            : posix_spawnp(&childPID, executable, &actions, &attributes, &argv, &envp)
        close(stdinPipe[0])
        close(stdoutPipe[1])
        close(stderrPipe[1])
        guard status == 0 else {
            close(stdinPipe[1])
            close(stdoutPipe[0])
            close(stderrPipe[0])
            throw SpawnError(executable: executable, errno: status, step: "spawn")
        }
        pid = childPID
        let pidfd = cconnector_pidfd_open(childPID)
        exitDescriptor = pidfd >= 0 ? pidfd : nil
        // The host's end of stdin is non-blocking, so a connector that stops reading cannot block
        // the host forever: writers wait with poll(2) and a deadline instead (LineWriter.timeout).
        _ = fcntl(stdinPipe[1], F_SETFL, fcntl(stdinPipe[1], F_GETFL) | O_NONBLOCK)
        input = stdinPipe[1]
        output = stdoutPipe[0]
        errorOutput = stderrPipe[0]
    }

    /// A child still running when its owner lets go of it is killed with its group (its pid is
    /// still its own, so the group is), and reaped.
    deinit {
        if exitStatus == nil {
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
            wait()
        }
        if input >= 0 { close(input) }
        close(output)
        close(errorOutput)
        if let exitDescriptor { close(exitDescriptor) }
    }

    /// Closes the child's stdin: a well-behaved connector exits on EOF.
    public func closeInput() {
        if input >= 0 {
            close(input)
            input = -1
        }
    }

    /// Sends `signal` to the child's process group (the connector and anything it started).
    public func signal(_ signal: Int32) {
        guard exitStatus == nil else { return }
        kill(-pid, signal)
        kill(pid, signal)
    }

    /// Waits up to `timeout` seconds for the child to exit; `nil` when it is still running.
    /// - Parameter hurry: checked while waiting; when it says so, the wait ends at once (a second
    ///   Ctrl-C while the host is stopping).
    public func wait(timeout: Double, hurry: () -> Bool = { false }) -> ExitStatus? {
        if let exitStatus { return exitStatus }
        let deadline = monotonicSeconds() + (timeout.isNaN ? 0 : timeout)
        while true {
            if let status = reap(options: WNOHANG) { return status }
            if monotonicSeconds() >= deadline || hurry() { return nil }
            usleep(2_000)
        }
    }

    /// Waits for the child to exit.
    @discardableResult
    public func wait() -> ExitStatus {
        if let exitStatus { return exitStatus }
        return reap(options: 0) ?? .exited(-1)
    }

    private func reap(options: Int32) -> ExitStatus? {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, options)
            if result == 0 { return nil }
            if result < 0 {
                if errno == EINTR { continue }
                exitStatus = .exited(-1)
                return exitStatus
            }
            break
        }
        // Checked right away: the group's members keep the pid from reuse, so ``endGroup`` acts only
        // on a group seen alive now, and stops at its first ESRCH.
        groupOutlivedChild = kill(-pid, 0) == 0 || errno == EPERM
        // WIFEXITED / WTERMSIG are macros; decode the status word by hand.
        let terminationSignal = status & 0x7F
        exitStatus = terminationSignal == 0 ? .exited((status >> 8) & 0xFF) : .signaled(terminationSignal)
        return exitStatus
    }

    /// Stops the child: `cancel` is the caller's job; this closes stdin, waits `grace` seconds,
    /// sends SIGTERM, waits `grace` again, then SIGKILL.
    /// - Parameter hurry: checked while waiting; when it says so, each remaining wait is skipped.
    /// - Returns: the exit status and how far the sequence had to go.
    @discardableResult
    public func terminate(grace: Double, hurry: () -> Bool = { false }) -> Termination {
        closeInput()
        if let status = wait(timeout: grace, hurry: hurry) { return Termination(status: status, escalation: .none) }
        signal(SIGTERM)
        if let status = wait(timeout: grace, hurry: hurry) { return Termination(status: status, escalation: .sigterm) }
        signal(SIGKILL)
        return Termination(status: wait(), escalation: .sigkill)
    }

    /// Ends what is left of the child's process group once the child has exited: processes it
    /// started and left behind in its group get SIGTERM, and SIGKILL after `grace` seconds.
    /// (A process that moved to a session or group of its own is out of reach.)
    ///
    /// Only after the child is reaped: from then on its pid is kept from reuse by the group alone,
    /// so `kill(-pid)` can only reach the group's own members (ESRCH once they are gone).
    /// - Returns: the signal the stragglers needed, or `nil` when there were none (one `kill`).
    @discardableResult
    public func endGroup(grace: Double, hurry: () -> Bool = { false }) -> Int32? {
        guard exitStatus != nil, groupOutlivedChild else { return nil }
        groupOutlivedChild = false
        guard kill(-pid, SIGTERM) == 0 else { return nil }
        if waitForGroupToEnd(grace, hurry) { return SIGTERM }
        kill(-pid, SIGKILL)
        // Killed members stay zombies until whoever adopted them reaps them: wait a little for that.
        _ = waitForGroupToEnd(1, hurry)
        return SIGKILL
    }

    /// Whether the group ended within `seconds`: no member left, or (where /proc tells) only
    /// zombies waiting for whoever adopted them to reap them.
    private func waitForGroupToEnd(_ seconds: Double, _ hurry: () -> Bool) -> Bool {
        let deadline = monotonicSeconds() + (seconds.isNaN ? 0 : seconds)
        while true {
            if kill(-pid, 0) != 0 && errno == ESRCH { return true }
            if Self.onlyZombies(inGroup: pid) { return true }
            if monotonicSeconds() >= deadline || hurry() { return false }
            usleep(5_000)
        }
    }

    /// Whether every process of group `group` is a zombie, by /proc/PID/stat (Linux); `false` when
    /// /proc cannot tell.
    private static func onlyZombies(inGroup group: pid_t) -> Bool {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return false }
        var members = 0
        for entry in entries where entry.first?.isNumber == true {
            guard let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // After "(comm)": state, ppid, pgrp, ...
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, pid_t(fields[2]) == group else { continue }
            members += 1
            if fields[0] != "Z" { return false }
        }
        return members > 0
    }
}

@available(*, unavailable)
extension ChildProcess: Sendable {}
