import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A way to interrupt a running sync from another thread (the Ctrl-C handler): it wakes the
/// sync's blocking read through a pipe, so no polling is needed.
public final class CancellationSignal: Sendable {
    private let readEnd: Int32
    private let writeEnd: Int32
    private let cancelled = Atomic<Bool>(false)

    public init() {
        var ends: [Int32] = [0, 0]
        _ = pipe(&ends)
        _ = fcntl(ends[1], F_SETFL, O_NONBLOCK)
        readEnd = ends[0]
        writeEnd = ends[1]
    }

    deinit {
        close(readEnd)
        close(writeEnd)
    }

    /// Requests cancellation; safe from any thread, idempotent.
    public func cancel() {
        guard !cancelled.exchange(true, ordering: .relaxed) else { return }
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }

    /// Whether cancellation was requested.
    public var isCancelled: Bool { cancelled.load(ordering: .relaxed) }

    /// The descriptor that becomes readable on cancellation.
    var wakeDescriptor: Int32 { readEnd }
}
