import ConnectorProtocol
import Foundation

extension SyncSession {
    /// `failure` with the line of the connector's code that made the refused operation, when the
    /// connector keeps call sites (`operationSites`) and `update` is still pending: the host asks
    /// `operationSite` (PROTOCOL.md 5.11), waits at most the grace period for the answer, and shows
    /// the connector's logs meanwhile; records and checkpoints that arrive are discarded (the
    /// warehouse is rolled back already). Any other failure, or no answer, is returned as it is.
    func withOperationSite(_ failure: SyncFailure) -> SyncFailure {
        guard failure.kind == .invalidOperation, connectorKeepsOperationSites, updatePending, reader != nil,
            let index = failure.details["operationIndex"].flatMap(Int64.init)
        else { return failure }
        let id = RequestID.number(nextRequestID)
        sentRequests[nextRequestID] = OperationSiteRequest.method
        nextRequestID += 1
        do {
            try send(
                .request(id: id, OperationSiteRequest(operationIndex: index)), timeout: options.gracePeriod, "its operationSite request")
        } catch { return failure }
        let deadline = monotonicSeconds() + options.gracePeriod
        while let reader, monotonicSeconds() < deadline {
            let line: UnsafeBufferPointer<UInt8>?
            do { line = try reader.nextLine(timeout: max(0, deadline - monotonicSeconds())) } catch { return failure }
            guard let line else { return failure }
            recorder?.connector(line)
            guard let json = try? JSONParser.parse(line, maximumDepth: Self.maximumDepth), let message = try? Message(json: json) else {
                continue
            }
            switch message {
            case .response(let answerID, let result) where answerID == id:
                guard let site = try? OperationSiteResult(json: result), let file = site.file, let number = site.line else {
                    return failure
                }
                return located(failure, file: file, line: number, function: site.function)
            case .errorResponse(let answerID?, _) where answerID == id:
                return failure
            case .notification(LogNotification.method, let params):
                let log = LogNotification(params: params)
                console.connectorLog(plan.name, level: log.level ?? .info, log.message)
            default:
                continue  // records and checkpoints after the refused op: rolled back, not answered
            }
        }
        return failure
    }

    /// The failure with `  called at connector.py:42 (in update)` after its reason (the path relative
    /// to the connector's folder when inside it), and `file`, `line`, `function` in its details.
    private func located(_ failure: SyncFailure, file: String, line: Int64, function: String?) -> SyncFailure {
        let folder = plan.directory.hasSuffix("/") ? plan.directory : plan.directory + "/"
        let shownFile = redactor.show(file.hasPrefix(folder) ? String(file.dropFirst(folder.count)) : file, limit: 500)
        let place = "  called at \(shownFile):\(line)" + (function.map { " (in \(redactor.show($0, limit: 200)))" } ?? "")
        var lines = failure.message.components(separatedBy: "\n")
        lines.insert(place, at: min(1, lines.count))
        var details = failure.details
        details["file"] = file
        details["fileLine"] = String(line)
        details["function"] = function
        return SyncFailure(failure.kind, lines.joined(separator: "\n"), details: details, cancellation: failure.cancellation)
            .shown(by: redactor)
    }
}
