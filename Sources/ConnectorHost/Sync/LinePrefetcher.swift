import ConnectorProtocol
import Foundation
import Synchronization

/// Reads the connector's stdout and scans its `records` lines on a thread of its own, a few lines
/// ahead of the sync thread, which only applies them: reading and JSON scanning overlap SQLite.
///
/// The reader thread owns the ``LineReader`` from ``start()`` on. Each line is copied into a buffer
/// of its own (recycled through ``recycle(_:)``), so it stays valid while the sync thread applies
/// it; at most `depth` lines are in flight, which bounds memory (each line is at most the line limit).
/// Failures of the reader (timeouts aside) arrive in order, after the lines before them.
///
/// `@unchecked Sendable`: every mutable property sits behind `state`'s mutex; the ``LineReader`` is
/// used by the reader thread only once started, and the items' buffers belong to one side at a time
/// (the queue hands them over).
final class LinePrefetcher: @unchecked Sendable {
    /// One line read ahead.
    ///
    /// `@unchecked Sendable`: an item has one owner at a time, the reader thread until it queues the
    /// item, the sync thread from ``next(timeout:)`` until ``recycle(_:)``; the queue's mutex orders
    /// the handovers.
    final class Item: @unchecked Sendable {
        /// The line's bytes (without the newline).
        var bytes: [UInt8] = []
        /// Its 1-based number on stdout.
        var number = 0
        /// Bytes read from stdout up to and including this line.
        var bytesRead = 0
        /// Whether the line is a `records` notification, then scanned into ``records``.
        var isRecords = false
        var records = ScannedRecords()
        /// A syntax error met before the line showed what it is (the control path explains it).
        var syntaxError: JSONSyntaxError?
    }

    private enum Entry {
        case line(Item)
        case end
        case failure(LineReadError)
    }

    private struct State {
        var queue: [Entry] = []
        var spare: [Item] = []
        var stopped = false
    }

    private let reader: LineReader
    private let depth: Int
    private let state = Mutex(State())
    private let available = DispatchSemaphore(value: 0)
    private let free: DispatchSemaphore
    private let finished = DispatchSemaphore(value: 0)

    /// - Parameters:
    ///   - reader: the connector's stdout; the prefetcher's thread owns it after ``start()``.
    ///   - depth: how many lines may wait for the sync thread.
    init(reader: LineReader, depth: Int = 4) {
        self.reader = reader
        self.depth = depth
        // Created at 0 and raised: libdispatch traps when a semaphore is released below its initial value.
        free = DispatchSemaphore(value: 0)
        for _ in 0..<depth { free.signal() }
    }

    /// Starts the reader thread.
    func start() {
        let thread = Thread { [self] in
            run()
            finished.signal()
        }
        thread.name = "connector-stdout"
        thread.start()
    }

    private func run() {
        while true {
            free.wait()
            if state.withLock({ $0.stopped }) { return }
            let entry: Entry
            do throws(LineReadError) {
                if let line = try reader.nextLine() {
                    let item = state.withLock { $0.spare.popLast() } ?? Item()
                    item.bytes.removeAll(keepingCapacity: true)
                    item.bytes.append(contentsOf: line)
                    item.number = reader.lineNumber
                    item.bytesRead = reader.bytesRead
                    item.syntaxError = nil
                    item.isRecords = item.bytes.withUnsafeBufferPointer { bytes in
                        do throws(JSONSyntaxError) {
                            return try RecordScanner.scan(bytes, into: &item.records)
                        } catch {
                            item.syntaxError = error
                            return false
                        }
                    }
                    entry = .line(item)
                } else {
                    entry = .end
                }
            } catch {
                entry = .failure(error)
            }
            state.withLock { $0.queue.append(entry) }
            available.signal()
            if case .line = entry { continue }
            return
        }
    }

    /// The next line, or `nil` at the end of stdout.
    /// - Parameter timeout: seconds to wait for a line before throwing `.timedOut`; `nil` waits forever.
    /// - Throws: ``LineReadError``: the reader's own failures, in order, or `.timedOut`.
    func next(timeout: Double?) throws(LineReadError) -> Item? {
        let deadline = timeout.map { DispatchTime.now() + $0 } ?? .distantFuture
        guard available.wait(timeout: deadline) == .success else { throw .timedOut }
        let entry = state.withLock { $0.queue.removeFirst() }
        switch entry {
        case .line(let item): return item
        case .end:
            available.signal()  // the end stays the end for later calls
            state.withLock { $0.queue.insert(.end, at: 0) }
            return nil
        case .failure(let error):
            available.signal()
            state.withLock { $0.queue.insert(.failure(error), at: 0) }
            throw error
        }
    }

    /// Gives a line's buffers back once the sync thread is done with it.
    func recycle(_ item: Item) {
        state.withLock { $0.spare.append(item) }
        free.signal()
    }

    /// Asks the reader thread to stop after its current read (it also stops at the end of stdout).
    func stop() {
        state.withLock { $0.stopped = true }
        free.signal()
    }

    /// Waits up to `timeout` seconds for the reader thread to end; `true` when it has.
    @discardableResult
    func waitUntilFinished(timeout: Double) -> Bool {
        guard finished.wait(timeout: .now() + timeout) == .success else { return false }
        finished.signal()
        return true
    }
}
