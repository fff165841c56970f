import Foundation

/// A throwing computation run on a thread of its own, whose result is collected later: how the
/// adapter starts two short source commands at once.
final class Concurrent<Value: Sendable>: Sendable {
    private let result = Guarded<Result<Value, AdapterError>?>(nil)

    init(_ body: @escaping @Sendable () throws(AdapterError) -> Value) {
        let result = self.result
        let thread = Thread {
            let outcome = Result { () throws(AdapterError) in try body() }
            result.withLock { $0 = outcome }
        }
        thread.start()
    }

    /// Waits for the computation and returns its value or rethrows its error.
    func value() throws(AdapterError) -> Value {
        try result.wait { $0 }.get()
    }
}
