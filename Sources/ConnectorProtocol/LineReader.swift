#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why reading a line failed.
public enum LineReadError: Error, Sendable, Equatable {
    /// The line is longer than the limit (the line number it would have had, and the limit).
    case lineTooLong(line: Int, limit: Int)
    /// The stream ended inside a line (bytes without a final newline): its first bytes (at most
    /// ``LineReader/partialLinePrefix``).
    case partialLineAtEOF(line: Int, prefix: [UInt8])
    /// No byte arrived before the deadline.
    case timedOut
    /// The wake descriptor became readable (someone asked the reader to stop waiting).
    case interrupted
    /// read(2) or poll(2) failed.
    case system(operation: String, errno: Int32)
}

/// Splits a byte stream from a file descriptor into lines, with large reads and no copies.
///
/// Each returned line is a view into the reader's buffer, valid until the next call; the
/// trailing `\n` (and a `\r` before it) is not part of it. Not thread-safe: one reader, one thread.
public final class LineReader {
    /// The descriptor read.
    public let fileDescriptor: Int32
    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var start = 0
    private var end = 0
    private var reachedEOF = false
    /// How much of a line cut by the end of the stream ``LineReadError/partialLineAtEOF(line:prefix:)`` keeps.
    public static let partialLinePrefix = 64 << 10
    /// The longest line accepted, in bytes.
    public let maximumLineLength: Int
    /// The number of the last line returned (1-based).
    public private(set) var lineNumber = 0
    /// Bytes consumed so far, newlines included.
    public private(set) var bytesRead = 0
    /// An optional descriptor that, when readable, makes a waiting ``nextLine(timeout:)`` throw `.interrupted`.
    public var wakeDescriptor: Int32?
    /// An optional descriptor that becomes readable when the writing process has exited (a Linux
    /// pidfd). Once it is and no byte is waiting, the stream counts as ended, even while another
    /// process (one the writer started) still holds the pipe open and EOF never comes.
    public var exitDescriptor: Int32?
    /// Whether the stream was taken as ended because the writer exited (``exitDescriptor``), not at EOF.
    public private(set) var endedByExit = false

    /// - Parameters:
    ///   - fileDescriptor: the descriptor to read; the reader does not close it.
    ///   - maximumLineLength: the longest line accepted (default 64 MiB).
    ///   - readSize: the initial buffer size and preferred read size.
    public init(fileDescriptor: Int32, maximumLineLength: Int = 64 << 20, readSize: Int = 1 << 16) {
        self.fileDescriptor = fileDescriptor
        self.maximumLineLength = maximumLineLength
        capacity = max(readSize * 2, 4096)
        buffer = .allocate(capacity: capacity)
    }

    deinit { buffer.deallocate() }

    /// Returns the next line, or `nil` at a clean end of stream.
    /// - Parameter timeout: seconds to wait for the whole line before throwing `.timedOut`; `nil`
    ///   waits forever. The deadline covers the line, not each read, so a sender that trickles
    ///   bytes without finishing a line still times out.
    /// - Throws: ``LineReadError``.
    public func nextLine(timeout: Double? = nil) throws(LineReadError) -> UnsafeBufferPointer<UInt8>? {
        let deadline = timeout.map { monotonicSeconds() + $0 }
        var scanFrom = start
        while true {
            if scanFrom < end, let newline = memchr(buffer + scanFrom, 0x0A, end - scanFrom) {
                let newlineIndex = buffer.distance(to: newline.assumingMemoryBound(to: UInt8.self))
                var lineEnd = newlineIndex
                if lineEnd > start && buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                // The limit holds however the bytes arrived: a long line read in one piece is still too long.
                if lineEnd - start > maximumLineLength {
                    throw .lineTooLong(line: lineNumber + 1, limit: maximumLineLength)
                }
                let line = UnsafeBufferPointer(start: buffer + start, count: lineEnd - start)
                bytesRead += newlineIndex + 1 - start
                start = newlineIndex + 1
                lineNumber += 1
                return line
            }
            scanFrom = end
            if end - start > maximumLineLength {
                throw .lineTooLong(line: lineNumber + 1, limit: maximumLineLength)
            }
            if reachedEOF {
                guard start == end else {
                    // Enough of the line that a reader can mask a secret in it before cutting it for a message.
                    let prefix = Array(UnsafeBufferPointer(start: buffer + start, count: min(end - start, Self.partialLinePrefix)))
                    let lineNumber = lineNumber + 1
                    start = end
                    throw .partialLineAtEOF(line: lineNumber, prefix: prefix)
                }
                return nil
            }
            makeRoom()
            let pending = end - start
            try fill(timeout: deadline.map { max(0, $0 - monotonicSeconds()) })
            scanFrom = start + pending
        }
    }

    /// Moves the unread bytes to the front, growing the buffer when a line fills it.
    private func makeRoom() {
        let pending = end - start
        if start > 0 && (capacity - end < capacity / 4 || pending == 0) {
            if pending > 0 { memmove(buffer, buffer + start, pending) }
            start = 0
            end = pending
        }
        if capacity - end < 4096 {
            let newCapacity = capacity * 2
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            grown.update(from: buffer + start, count: pending)
            buffer.deallocate()
            buffer = grown
            capacity = newCapacity
            start = 0
            end = pending
        }
    }

    private func fill(timeout: Double?) throws(LineReadError) {
        if timeout != nil || wakeDescriptor != nil || exitDescriptor != nil {
            guard try waitReadable(timeout: timeout) else { return endAtExit() }
        }
        while true {
            let count = read(fileDescriptor, buffer + end, capacity - end)
            if count > 0 {
                end += count
                return
            }
            if count == 0 {
                reachedEOF = true
                return
            }
            if errno == EINTR { continue }
            if errno == EAGAIN {
                guard try waitReadable(timeout: timeout) else { return endAtExit() }
                continue
            }
            throw .system(operation: "read", errno: errno)
        }
    }

    /// The writer exited with nothing left to read: the stream ends here.
    private func endAtExit() {
        reachedEOF = true
        endedByExit = true
    }

    /// Waits until a byte (or EOF) can be read: `true`; `false` when the writer exited first with
    /// nothing waiting (``exitDescriptor``).
    private func waitReadable(timeout: Double?) throws(LineReadError) -> Bool {
        var descriptors = [pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)]
        var wakeIndex: Int?
        var exitIndex: Int?
        if let wakeDescriptor {
            wakeIndex = descriptors.count
            descriptors.append(pollfd(fd: wakeDescriptor, events: Int16(POLLIN), revents: 0))
        }
        if let exitDescriptor {
            exitIndex = descriptors.count
            descriptors.append(pollfd(fd: exitDescriptor, events: Int16(POLLIN), revents: 0))
        }
        let deadline = timeout.map { monotonicSeconds() + $0 }
        while true {
            let ready = poll(&descriptors, nfds_t(descriptors.count), pollMilliseconds(deadline.map { $0 - monotonicSeconds() }))
            if ready > 0 {
                if let wakeIndex, descriptors[wakeIndex].revents != 0 { throw .interrupted }
                if descriptors[0].revents != 0 { return true }
                // The writer exited and nothing is waiting: what it wrote before exiting was readable first.
                if let exitIndex, descriptors[exitIndex].revents != 0 { return false }
                continue
            }
            if ready == 0 {
                // poll caps a wait at Int32.max ms: a longer deadline polls again.
                if let deadline, monotonicSeconds() < deadline { continue }
                throw .timedOut
            }
            if errno == EINTR { continue }
            throw .system(operation: "poll", errno: errno)
        }
    }

    /// Reads what is available now (one read(2), called when poll says the descriptor is readable)
    /// into the buffer, for a writer that must go on reading while the other side does not read
    /// (``LineWriter/write(_:draining:limit:)``). Lines already returned are no longer valid.
    /// - Returns: whether more could be read later: `false` at EOF or once `limit` bytes wait.
    public func readAvailable(limit: Int) -> Bool {
        guard !reachedEOF, end - start < limit else { return false }
        makeRoom()
        while true {
            let count = read(fileDescriptor, buffer + end, capacity - end)
            if count > 0 {
                end += count
                return end - start < limit
            }
            if count == 0 {
                reachedEOF = true
                return false
            }
            if errno == EINTR { continue }
            return errno == EAGAIN
        }
    }

    /// Whether ``readAvailable(limit:)`` can take more: no EOF yet and fewer than `limit` bytes waiting.
    public func canBuffer(limit: Int) -> Bool { !reachedEOF && end - start < limit }
}
