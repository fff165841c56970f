import ConnectorProtocol
import Foundation

extension SyncSession {
    /// Adds the connector's last stderr lines to failures where they explain what happened.
    func withStderrTail(_ failure: SyncFailure) -> SyncFailure {
        // A connector that answered with its traceback said what happened; its stderr was shown as
        // it came, so repeating it would print the traceback twice.
        guard !failure.carriesTraceback, [.connectorExited, .connectorError, .timeout, .protocolViolation].contains(failure.kind),
            let lines = stderr?.lastLines, !lines.isEmpty
        else { return failure }
        let tail = lines.suffix(10).map { "    " + redactor.show($0, limit: Self.stderrTailLineLimit) }.joined(separator: "\n")
        return failure.replacingMessage(failure.message + "\n  last lines of the connector's stderr:\n" + tail)
    }

    /// The longest connector stderr line a failure message quotes, in characters.
    static var stderrTailLineLimit: Int { 2000 }

    func exitedFailure(waitingFor method: String) -> SyncFailure {
        let status = process?.wait(timeout: options.gracePeriod)
        var how = status.map { "\($0)" } ?? "closed its stdout"
        if reader?.endedByExit == true { how += " (a process it started still holds its stdout)" }
        return SyncFailure(
            .connectorExited,
            "the connector \(how) before answering \(method); the warehouse is back at the last checkpoint. A connector must answer every request and exit only on stdin EOF"
        )
    }

    /// The failure of a sync cancelled by Ctrl-C, SIGTERM or SIGHUP.
    static func cancelledFailure(_ reason: CancellationReason) -> SyncFailure {
        SyncFailure(
            .cancelled,
            "cancelled (\(reason.explanation)): the connector was asked to stop and everything after the last checkpoint was rolled back",
            cancellation: reason)
    }

    var cancelledFailure: SyncFailure { Self.cancelledFailure(cancellation.reason ?? .interrupt) }

    func lineFailure(_ error: LineReadError, waitingFor method: String) -> SyncFailure {
        switch error {
        case .timedOut where method == Method.update:
            return SyncFailure(
                .timeout,
                "the connector sent nothing for \(HumanText.seconds(options.idleTimeout)) during update; it was stopped. If the source is just slow, raise --idle-timeout, or send log messages to show progress (each message restarts the timer)"
            )
        case .timedOut:
            return SyncFailure(
                .timeout,
                "the connector did not answer \(method) within \(HumanText.seconds(options.handshakeTimeout)); it was stopped. If it needs longer to start, raise --handshake-timeout"
            )
        case .interrupted:
            return cancelledFailure
        case .lineTooLong(let line, let limit):
            return SyncFailure.atLine(
                line, "is longer than \(limit) bytes; send records in batches of at most ~1 MiB (the SDKs do), or raise --max-line-bytes")
        case .partialLineAtEOF(let line, let prefix):
            let status = process?.wait(timeout: options.gracePeriod).map { " (the connector \($0))" } ?? ""
            return SyncFailure(
                .connectorExited,
                "stdout ended in the middle of line \(line)\(status): \(redactor.preview(prefix)); the connector stopped while writing a message",
                details: ["line": String(line)])
        case .system(let operation, let code):
            return SyncFailure(.connectorExited, "reading the connector's stdout failed (\(operation): \(String(cString: strerror(code))))")
        }
    }

    func notJSONFailure(_ line: UnsafeBufferPointer<UInt8>, _ number: Int, _ error: JSONSyntaxError) -> SyncFailure {
        if error.isNestingLimit {
            return SyncFailure.atLine(
                number,
                "nests arrays and objects deeper than the host's limit of \(Self.maximumDepth) levels (at byte \(error.offset + 1)): \(redactor.preview(line))\n  flatten the value, or send a deep document as a JSON string"
            )
        }
        return SyncFailure.atLine(
            number,
            "is not valid JSON (\(error)): \(redactor.preview(line))\n  stdout carries protocol messages only; write logs and prints to stderr (the SDKs do this for you)"
        )
    }

    /// The deepest nesting of a protocol line, counted from the envelope.
    static var maximumDepth: Int { 64 }

    /// A warehouse failure as one message: what happened, to which file, while doing what, and the fix.
    func warehouseFailure(_ error: Store.Failure, while action: String) -> SyncFailure {
        SyncFailure(.warehouse, warehouse.problem(error, while: action))
    }

    func connectorError(method: String, _ error: RPCError) -> SyncFailure {
        let message = redactor.show(error.message, limit: 4000)
        var text = "the connector failed in \(method): \(message) [error \(error.code)]"
        var details = ["code": String(error.code.rawValue)]
        // The traceback of `data` (PROTOCOL.md section 11), shown once: here, not also on stderr.
        if let traceback = error.data?["traceback"]?.stringValue, !traceback.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            // Masked whole first: a secret may span a line break.
            let lines = redactor.mask(traceback).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let shown = lines.suffix(Self.tracebackLineLimit).map { "    " + redactor.show($0, limit: Self.stderrTailLineLimit) }
            let cut = lines.count > Self.tracebackLineLimit ? "    … (\(lines.count - Self.tracebackLineLimit) earlier lines)\n" : ""
            text += "\n  traceback (from the connector):\n" + cut + shown.joined(separator: "\n")
            details["traceback"] = "included"
        }
        return SyncFailure(.connectorError, text, details: details)
    }

    /// The most lines of a connector's traceback a failure message shows (the last ones).
    static var tracebackLineLimit: Int { 60 }
}
