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
    /// A descriptor that becomes readable when the reading process has exited (a Linux pidfd): a
    /// waiting write then ends with `EPIPE`, even while a process it started still holds the pipe.
    public var exitDescriptor: Int32?

    public init(fileDescriptor: Int32, timeout: Double? = nil, wakeDescriptor: Int32? = nil) {
        self.fileDescriptor = fileDescriptor
        self.timeout = timeout
        self.wakeDescriptor = wakeDescriptor
    }

    /// Writes every byte of `bytes`.
    /// - Throws: ``LineWriteError`` (EPIPE when the other end is closed, whatever the process does
    ///   with SIGPIPE: see ``withoutSIGPIPE(_:)``).
    public func write(_ bytes: UnsafeRawBufferPointer) throws(LineWriteError) {
        try write(bytes, draining: nil, limit: 0)
    }

    /// Writes every byte of `bytes`; while the descriptor is full, reads what `reader` can take into
    /// its buffer (up to `limit` bytes waiting), so that a peer that writes before it reads (logs a
    /// lot before it reads a large request) never deadlocks with the writer, each waiting for the
    /// other to read. Lines the reader returned before are no longer valid.
    public func write(_ bytes: [UInt8], draining reader: LineReader, limit: Int) throws(LineWriteError) {
        let result: Result<Void, LineWriteError> = bytes.withUnsafeBytes { raw in
            Result { () throws(LineWriteError) in try write(raw, draining: reader, limit: limit) }
        }
        try result.get()
    }

    private func write(_ bytes: UnsafeRawBufferPointer, draining reader: LineReader?, limit: Int) throws(LineWriteError) {
        try Self.withoutSIGPIPE { () throws(LineWriteError) in try writeAll(bytes, draining: reader, limit: limit) }
    }

    /// Runs `body` with SIGPIPE blocked in this thread, and takes back a SIGPIPE it raised.
    ///
    /// A write to a pipe whose reader is gone raises SIGPIPE, whose default action kills the process
    /// (the host, or any program embedding the library). Blocked in the writing thread, the signal
    /// stays pending instead and the write fails with EPIPE; consumed before the mask is restored,
    /// it is never delivered. So a dead connector (or host) is an error, and the library never
    /// changes the process's signal dispositions. Two system calls per write: writes are per
    /// message or per batch, not per row.
    static func withoutSIGPIPE(_ body: () throws(LineWriteError) -> Void) throws(LineWriteError) {
        var sigpipe = sigset_t()
        sigemptyset(&sigpipe)
        sigaddset(&sigpipe, SIGPIPE)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &sigpipe, &previous)
        defer {
            if sigismember(&previous, SIGPIPE) == 0 {
                var pending = sigset_t()
                sigpending(&pending)
                if sigismember(&pending, SIGPIPE) == 1 {
                    var now = timespec()
                    _ = sigtimedwait(&sigpipe, nil, &now)
                }
                pthread_sigmask(SIG_SETMASK, &previous, nil)
            }
        }
        try body()
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer, draining reader: LineReader?, limit: Int) throws(LineWriteError) {
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
                    try waitWritable(deadline: deadline, draining: reader, limit: limit)
                    continue
                }
                throw LineWriteError(errno: errno)
            }
            pointer += written
            remaining -= written
        }
    }

    /// Waits until the descriptor takes more bytes, the deadline passes, the wake descriptor fires or
    /// the reading process exits, meanwhile buffering what `reader` has to read.
    private func waitWritable(deadline: Double?, draining reader: LineReader?, limit: Int) throws(LineWriteError) {
        while true {
            var descriptors = [pollfd(fd: fileDescriptor, events: Int16(POLLOUT), revents: 0)]
            var wakeIndex: Int?
            var exitIndex: Int?
            var drainIndex: Int?
            if let wakeDescriptor {
                wakeIndex = descriptors.count
                descriptors.append(pollfd(fd: wakeDescriptor, events: Int16(POLLIN), revents: 0))
            }
            if let exitDescriptor {
                exitIndex = descriptors.count
                descriptors.append(pollfd(fd: exitDescriptor, events: Int16(POLLIN), revents: 0))
            }
            if let reader, reader.canBuffer(limit: limit) {
                drainIndex = descriptors.count
                descriptors.append(pollfd(fd: reader.fileDescriptor, events: Int16(POLLIN), revents: 0))
            }
            let ready = poll(&descriptors, nfds_t(descriptors.count), pollMilliseconds(deadline.map { $0 - monotonicSeconds() }))
            if ready > 0 {
                if let wakeIndex, descriptors[wakeIndex].revents != 0 { throw LineWriteError(errno: ECANCELED) }
                if descriptors[0].revents != 0 { return }  // writable, or POLLERR/POLLHUP: the next write reports EPIPE
                if let drainIndex, descriptors[drainIndex].revents != 0, let reader {
                    _ = reader.readAvailable(limit: limit)
                    continue
                }
                if let exitIndex, descriptors[exitIndex].revents != 0 { throw LineWriteError(errno: EPIPE) }
                continue
            }
            if ready == 0 {
                if let deadline, monotonicSeconds() < deadline { continue }
                throw LineWriteError(errno: ETIMEDOUT)
            }
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

    /// Writes one message as a line, buffering what `reader` has to read meanwhile (``write(_:draining:limit:)``).
    public func send(_ message: Message, draining reader: LineReader, limit: Int) throws(LineWriteError) {
        try write(message.line, draining: reader, limit: limit)
    }
}
