import ConnectorHost
import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Turns SIGINT (Ctrl-C), SIGTERM and SIGHUP into a call with the reason, while it lives; the
/// default handling returns after. Each is treated alike: the sync is cancelled (rolled back, the
/// connector stopped, the outcome recorded and said), and the command exits with 128 + the signal.
/// A second signal while the host is stopping cuts the grace periods short.
final class InterruptHandler {
    private let sources: [any DispatchSourceSignal]

    init(_ handler: @escaping @Sendable (CancellationReason) -> Void) {
        sources = CancellationReason.allCases.map { reason in
            signal(reason.signal, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: reason.signal, queue: .global())
            source.setEventHandler { handler(reason) }
            source.resume()
            return source
        }
    }

    /// Cancels `cancellation` with the signal's reason.
    convenience init(cancelling cancellation: CancellationSignal) {
        self.init { cancellation.cancel($0) }
    }

    deinit {
        for source in sources { source.cancel() }
        for reason in CancellationReason.allCases { signal(reason.signal, SIG_DFL) }
    }
}
