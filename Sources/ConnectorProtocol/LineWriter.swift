#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why writing failed.
public struct LineWriteError: Error, Sendable, Equatable {
    /// The errno of write(2), e.g. EPIPE when the reader is gone; `ETIMEDOUT` when the reader did not
    /// make room before the deadline, `ECANCELED` when the wake descriptor became readable.
    public let errno: Int32
}

/// Writes whole lines to a file descriptor, retrying short writes. Blocks when the pipe is full.
public struct LineWriter: Sendable {
    public let fileDescriptor: Int32
    /// Seconds a write may wait for the reader to make room (non-blocking descriptors only); `nil` waits forever.
    public var timeout: Double?
    /// A descriptor that, when readable, ends a waiting write with `ECANCELED`.
    public var wakeDescriptor: Int32?

    public init(fileDescriptor: Int32, timeout: Double? = nil, wakeDescriptor: Int32? = nil) {
        self.fileDescriptor = fileDescriptor
        self.timeout = timeout
        self.wakeDescriptor = wakeDescriptor
    }

    /// Writes every byte of `bytes`.
    /// - Throws: ``LineWriteError`` (EPIPE when the other end is closed; the host ignores SIGPIPE).
    public func write(_ bytes: UnsafeRawBufferPointer) throws(LineWriteError) {
        guard var pointer = bytes.baseAddress else { return }
        var remaining = bytes.count
        let deadline = timeout.map { monotonicSeconds() + $0 }
        while remaining > 0 {
            #if canImport(Glibc)
                let written = Glibc.write(fileDescriptor, pointer, remaining)
            #else
                let written = Darwin.write(fileDescriptor, pointer, remaining)
            #endif
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN {
                    try waitWritable(deadline: deadline)
                    continue
                }
                throw LineWriteError(errno: errno)
            }
            pointer += written
            remaining -= written
        }
    }

    /// Waits until the descriptor takes more bytes, the deadline passes or the wake descriptor fires.
    private func waitWritable(deadline: Double?) throws(LineWriteError) {
        var descriptors = [pollfd(fd: fileDescriptor, events: Int16(POLLOUT), revents: 0)]
        if let wakeDescriptor { descriptors.append(pollfd(fd: wakeDescriptor, events: Int16(POLLIN), revents: 0)) }
        while true {
            let milliseconds = deadline.map { Int32(clamping: Int((max(0, $0 - monotonicSeconds()) * 1000).rounded(.up))) } ?? -1
            let ready = poll(&descriptors, nfds_t(descriptors.count), milliseconds)
            if ready > 0 {
                if descriptors.count > 1 && descriptors[1].revents != 0 { throw LineWriteError(errno: ECANCELED) }
                return  // writable, or POLLERR/POLLHUP: the next write reports EPIPE
            }
            if ready == 0 { throw LineWriteError(errno: ETIMEDOUT) }
            if errno == EINTR { continue }
            throw LineWriteError(errno: errno)
        }
    }

    /// Writes every byte of `bytes`.
    public func write(_ bytes: [UInt8]) throws(LineWriteError) {
        let result: Result<Void, LineWriteError> = bytes.withUnsafeBytes { raw in
            Result { () throws(LineWriteError) in try write(raw) }
        }
        try result.get()
    }

    /// Writes one message as a line.
    public func send(_ message: Message) throws(LineWriteError) { try write(message.line) }
}
