import Foundation

/// A value shared between threads, guarded by a condition variable so that one thread can wait for
/// another to change it.
// @unchecked Sendable: `value` is only read or written with `condition` locked (every accessor
// below takes the lock), which is what makes sharing it across threads safe.
final class Guarded<Value>: @unchecked Sendable {
    private let condition = NSCondition()
    private var value: Value

    init(_ value: Value) { self.value = value }

    /// Runs `body` on the value with the lock held and wakes every waiter afterwards.
    @discardableResult
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        return try body(&value)
    }

    /// Blocks until `body` returns non-nil (it is called with the lock held, again after every change).
    func wait<Result>(for body: (inout Value) -> Result?) -> Result {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        while true {
            if let result = body(&value) { return result }
            condition.wait()
        }
    }
}

/// The stderr of a short source command, collected on a thread of its own.
final class StderrCapture: Sendable {
    private let state = Guarded<(bytes: [UInt8], finished: Bool)>(([], false))

    func append(_ chunk: [UInt8]) {
        state.withLock { state in
            // Keep the last 64 KiB: enough for any traceback, bounded for a chatty source.
            state.bytes.append(contentsOf: chunk)
            if state.bytes.count > 1 << 16 { state.bytes.removeFirst(state.bytes.count - (1 << 16)) }
        }
    }

    func finish() { state.withLock { $0.finished = true } }

    /// Waits until the stream ended and returns what it held.
    func waitForEnd() -> [UInt8] { state.wait { $0.finished ? $0.bytes : nil } }
}
