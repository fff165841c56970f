import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a sync was asked to stop, for the message, the connector's `cancel` and the exit code.
public enum CancellationReason: Int32, Sendable, CaseIterable {
    /// Ctrl-C (SIGINT).
    case interrupt = 2
    /// SIGHUP: the terminal (or the session) went away.
    case hangup = 1
    /// SIGTERM: the host itself was asked to stop (a service manager, `kill`).
    case terminate = 15

    /// The signal behind the reason.
    public var signal: Int32 { rawValue }

    /// The exit code of a cancelled command: 128 + the signal, as shells report a signal.
    public var exitCode: Int32 { 128 + rawValue }

    /// The reason for a signal number, if it is one the host handles.
    public init?(signal: Int32) { self.init(rawValue: signal) }

    /// How messages name it: "Ctrl-C", "SIGTERM", "SIGHUP".
    public var label: String {
        switch self {
        case .interrupt: "Ctrl-C"
        case .hangup: "SIGHUP"
        case .terminate: "SIGTERM"
        }
    }

    /// What happened, for the message: "Ctrl-C", "SIGTERM: the host was asked to stop".
    var explanation: String {
        switch self {
        case .interrupt: "Ctrl-C"
        case .hangup: "SIGHUP: the host's terminal went away"
        case .terminate: "SIGTERM: the host was asked to stop"
        }
    }

    /// The `reason` of the `cancel` notification the connector gets.
    var connectorReason: String {
        switch self {
        case .interrupt: "cancelled by the user"
        case .hangup: "the host's terminal went away (SIGHUP)"
        case .terminate: "the host was asked to stop (SIGTERM)"
        }
    }
}

/// A way to interrupt a running sync from another thread (a signal handler): it wakes the sync's
/// blocking reads and writes through a pipe, so no polling is needed. It remembers the first
/// reason, and counts requests: a second one while the sync is already stopping (a second Ctrl-C)
/// cuts the grace periods short.
public final class CancellationSignal: Sendable {
    private let readEnd: Int32
    private let writeEnd: Int32
    /// 0 until cancelled, then the first reason's signal.
    private let firstSignal = Atomic<Int32>(0)
    private let requests = Atomic<Int>(0)

    public init() {
        var ends: [Int32] = [0, 0]
        _ = pipe(&ends)
        _ = fcntl(ends[1], F_SETFL, O_NONBLOCK)
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        readEnd = ends[0]
        writeEnd = ends[1]
    }

    deinit {
        close(readEnd)
        close(writeEnd)
    }

    /// Requests cancellation; safe from any thread. The first reason is kept; later requests count
    /// towards ``isRepeated``.
    public func cancel(_ reason: CancellationReason = .interrupt) {
        _ = firstSignal.compareExchange(expected: 0, desired: reason.signal, ordering: .sequentiallyConsistent)
        guard requests.add(1, ordering: .sequentiallyConsistent).oldValue == 0 else { return }
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }

    /// Whether cancellation was requested.
    public var isCancelled: Bool { requests.load(ordering: .sequentiallyConsistent) > 0 }

    /// Whether it was requested more than once: the user insists, so stop without grace periods.
    public var isRepeated: Bool { requests.load(ordering: .sequentiallyConsistent) > 1 }

    /// Why, once cancelled (the first request's reason).
    public var reason: CancellationReason? { CancellationReason(signal: firstSignal.load(ordering: .sequentiallyConsistent)) }

    /// The descriptor that becomes readable on cancellation.
    var wakeDescriptor: Int32 { readEnd }
}
